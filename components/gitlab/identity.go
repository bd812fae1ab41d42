package gitlab

// ServiceAccountName is the service account GitLab's pods and migration Jobs run as when object storage uses
// workload identity: the only identity a cloud role for the object buckets should trust.
func ServiceAccountName(name string) string { return name }

// BackupServiceAccountName is the service account the backup job runs as: the only identity a cloud role for
// the backup bucket should trust. It differs from ServiceAccountName, so that GitLab's pods cannot reach the
// backups.
func BackupServiceAccountName(name string) string { return name + "-backup" }
