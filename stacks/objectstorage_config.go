package stacks

import (
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// objectStorageSecretKeys are the access keys of an existing cluster's S3-compatible service: secret config.
var objectStorageSecretKeys = []string{"objectStorageAccessKeyId", "objectStorageSecretAccessKey", "backupAccessKeyId", "backupSecretAccessKey"}

// ObjectStorageOn reports whether GitLab keeps its objects in object storage: by default on aws and linode,
// which build the buckets, and on existing when objectStorage.buckets names the team's.
func (c *Config) ObjectStorageOn() bool {
	switch {
	case c.ObjectStorage.Enabled != nil:
		return *c.ObjectStorage.Enabled
	case c.Platform == PlatformExisting:
		return len(c.ObjectStorage.Buckets) > 0
	}
	return true
}

// BackupOn reports whether the stack schedules GitLab's backup: by default wherever the stack builds object
// storage, and on existing when backup.bucket names the team's bucket.
func (c *Config) BackupOn() bool {
	switch {
	case c.Backup.Enabled != nil:
		return *c.Backup.Enabled
	case c.Platform == PlatformExisting:
		return c.Backup.Bucket != ""
	}
	return c.ObjectStorageOn()
}

// BackupSchedule is backup.schedule, or GitLab's default.
func (c *Config) BackupSchedule() string {
	if c.Backup.Schedule == "" {
		return gitlab.DefaultBackupSchedule
	}
	return c.Backup.Schedule
}

// BackupRetentionDays is backup.retentionDays, or DefaultBackupRetentionDays.
func (c *Config) BackupRetentionDays() int {
	if c.Backup.RetentionDays == nil {
		return DefaultBackupRetentionDays
	}
	return *c.Backup.RetentionDays
}

// validateObjectStorage checks which objectStorage and backup keys go with the platform and with each other.
// The values themselves are the components' to check (bucket names, the schedule's syntax, day ranges).
func (c *Config) validateObjectStorage(key func(string) string) error {
	o, b := c.ObjectStorage, c.Backup
	if c.Platform != PlatformExisting {
		// aws and linode build the buckets: the settings of a team's own service have no place here.
		for _, f := range []struct {
			field string
			set   bool
			value any
		}{
			{"objectStorage.endpoint", o.Endpoint != "", o.Endpoint}, {"objectStorage.region", o.Region != "", o.Region},
			{"objectStorage.pathStyle", o.PathStyle, o.PathStyle}, {"objectStorage.buckets", len(o.Buckets) > 0, nil},
			{"backup.bucket", b.Bucket != "", b.Bucket},
		} {
			if f.set {
				return validate.Errorf(key(f.field), f.value, "is set, but platform %s builds its own buckets; it applies to platform existing only", c.Platform)
			}
		}
	}
	if c.Platform != PlatformAWS {
		if o.NoncurrentVersionDays != 0 {
			return validate.Errorf(key("objectStorage.noncurrentVersionDays"), o.NoncurrentVersionDays, "applies to platform aws only, whose buckets keep versions")
		}
		if o.ForceDestroy {
			return validate.Errorf(key("objectStorage.forceDestroy"), true, "applies to platform aws only")
		}
	}
	if !c.ObjectStorageOn() {
		for _, f := range []struct {
			field string
			set   bool
		}{
			{"objectStorage.buckets", len(o.Buckets) > 0}, {"objectStorage.noncurrentVersionDays", o.NoncurrentVersionDays != 0},
			{"objectStorage.forceDestroy", o.ForceDestroy},
		} {
			if f.set {
				return validate.Errorf(key(f.field), nil, "is set, but objectStorage.enabled is false")
			}
		}
	}
	if c.BackupOn() {
		if c.Platform != PlatformExisting && !c.ObjectStorageOn() {
			return validate.Errorf(key("backup.enabled"), true, "needs object storage: the backup bucket is built with it; "+
				"turn objectStorage.enabled on, or backup.enabled off")
		}
	} else {
		for _, f := range []struct {
			field string
			set   bool
		}{{"backup.schedule", b.Schedule != ""}, {"backup.retentionDays", b.RetentionDays != nil}, {"backup.scratchSize", b.ScratchSize != ""}} {
			if !f.set {
				continue
			}
			switch {
			case b.Enabled != nil:
				return validate.Errorf(key(f.field), nil, "is set, but backup.enabled is false")
			case c.Platform == PlatformExisting:
				return validate.Errorf(key(f.field), nil, "is set, but no backup.bucket is: name the bucket the archives go to")
			}
			return validate.Errorf(key(f.field), nil, "is set, but backup is off with objectStorage.enabled false, which builds its bucket")
		}
	}
	if days := b.RetentionDays; days != nil {
		switch {
		case *days < 0:
			return validate.Errorf(key("backup.retentionDays"), *days, "is negative")
		case *days == 0 && c.Platform != PlatformExisting:
			return validate.Errorf(key("backup.retentionDays"), 0, "must be at least 1: the stack's backup bucket would otherwise fill forever")
		}
	}
	if c.Platform == PlatformExisting {
		return c.validateExistingObjectStorage(key)
	}
	return nil
}

// validateExistingObjectStorage checks an existing cluster's S3-compatible service: a region to sign with,
// the buckets, and a key for each workload that uses it.
func (c *Config) validateExistingObjectStorage(key func(string) string) error {
	o, b := c.ObjectStorage, c.Backup
	objects, backup := c.ObjectStorageOn(), c.BackupOn()
	if !objects && !backup {
		for _, field := range append([]string{"objectStorage"}, objectStorageSecretKeys...) {
			if c.set[field] {
				return validate.Errorf(key(field), nil, "is set, but neither objectStorage.buckets nor backup.bucket is: nothing would use it")
			}
		}
		return nil
	}
	if objects && len(o.Buckets) == 0 {
		return validate.Errorf(key("objectStorage.buckets"), nil, "is required with objectStorage.enabled on platform existing: "+
			"a bucket for each of %v", gitlab.ObjectTypes())
	}
	if backup && b.Bucket == "" {
		return validate.Errorf(key("backup.bucket"), nil, "is required with backup.enabled on platform existing")
	}
	if o.Region == "" {
		return validate.Errorf(key("objectStorage.region"), nil, "is required with object storage or backups on platform existing: "+
			"the region the service signs requests with (us-east-1 for most S3-compatible services)")
	}
	pairs := []struct {
		id, secret string
		key        AccessKey
		needed     bool
	}{
		{"objectStorageAccessKeyId", "objectStorageSecretAccessKey", c.ObjectStorageKey, objects || c.BackupKey.ID == nil},
		{"backupAccessKeyId", "backupSecretAccessKey", c.BackupKey, false},
	}
	for _, p := range pairs {
		switch {
		case p.key.ID == nil && p.key.Secret != nil:
			return validate.Errorf(key(p.id), nil, "is required with %s", p.secret)
		case p.key.ID != nil && p.key.Secret == nil:
			return validate.Errorf(key(p.secret), nil, "is required with %s", p.id)
		case p.key.ID == nil && p.needed:
			return validate.Errorf(key(p.id), nil, "is required with objectStorage.buckets or backup.bucket on platform existing: "+
				"`pulumi config set --secret %s <key ID>`, and %s likewise", p.id, p.secret)
		}
	}
	if c.BackupKey.ID != nil && !backup {
		return validate.Errorf(key("backupAccessKeyId"), nil, "is set, but no backup is configured (backup.bucket)")
	}
	return nil
}
