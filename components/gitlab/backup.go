package gitlab

import (
	"strconv"
	"strings"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The scheduled backup: a CronJob whose pod runs the release's own image (a backup restores only into the
// same version and edition) with every service but Gitaly off, as the migration Jobs do, mounts the first
// zone's volume for the repositories, and runs gitlab-backup, which uploads the archive to the backup bucket
// through backup_upload_connection. It runs as a service account of its own, so that the backup bucket's
// identity is not GitLab's, and GitLab's pods hold no credential that reaches a backup.

// BackupComponent marks the backup CronJob, its Jobs and their pods.
const BackupComponent = "backup"

// envBackup is set in the backup pod: the configuration then starts no service but Gitaly, and knows the
// backup bucket.
const envBackup = "GITLAB_HA_BACKUP"

// envBackupPruneAfterDays tells the prune step how old an archive may get; envBackupPruneScript holds the
// step's Ruby, which the script hands to gitlab-rails runner unquoted by the shell.
const (
	envBackupPruneAfterDays = "GITLAB_HA_BACKUP_PRUNE_AFTER_DAYS"
	envBackupPruneScript    = "GITLAB_HA_BACKUP_PRUNE_SCRIPT"
)

// backupDeadlineSeconds bounds one run: the database dump, every repository, and the upload. A run that
// takes longer is stopped and reported failed rather than overlapping the next.
const backupDeadlineSeconds = 6 * 3600

// backupStartingDeadlineSeconds lets a run missed while the controller was down (a control plane upgrade)
// still start within the hour, and no later.
const backupStartingDeadlineSeconds = 3600

// multipartChunkBytes is the part size of the archive's upload: 100 MB parts, GitLab's documented value.
const multipartChunkBytes = 104857600

// objectStorageSkips are gitlab-backup's SKIP keys for what consolidated object storage holds
// (doc/administration/backup_restore/backup_gitlab.md, "Excluding specific data from the backup"): its buckets
// keep those objects, versioned, and the archive holds the database and the repositories. The registry is
// always skipped: this component runs none.
var objectStorageSkips = []string{"uploads", "artifacts", "pages", "lfs", "terraform_state", "packages", "ci_secure_files", "external_diffs"}

// backupSkips is the SKIP list of a run.
func backupSkips(objectStorage bool) []string {
	if !objectStorage {
		return []string{"registry"}
	}
	return append(append([]string{}, objectStorageSkips...), "registry")
}

// backupSettings are a Backup's values, resolved.
type backupSettings struct {
	Connection objectStoreConnection
	Bucket     string
}

// backupInputs gathers what the rendered configuration needs from Backup: region, endpoint, bucket.
func backupInputs(b *Backup) []any {
	return []any{b.Connection.Region, b.Connection.endpointOrEmpty(), b.Bucket}
}

// resolveBackup is the inverse of backupInputs, once the values are known.
func resolveBackup(b *Backup, values []any) *backupSettings {
	return &backupSettings{
		Connection: b.Connection.resolve(values[0].(string), values[1].(string), [2]string{envBackupAccessKeyID, envBackupSecretAccessKey}),
		Bucket:     values[2].(string),
	}
}

// renderBackupSwitch configures the backup pod: no service but Gitaly, which gitlab-backup streams the
// repositories from, and the upload connection to the backup bucket. Only that pod sets envBackup, so the
// zones' replicas never learn the backup bucket, nor, with a static key, the key.
func renderBackupSwitch(line func(string, ...any), b *backupSettings) {
	line("if ENV[%s] == 'true'", rubyString(envBackup))
	for _, service := range servingServices {
		line("  %s['enable'] = false", service)
	}
	line("  gitlab_rails['backup_upload_connection'] = {")
	renderConnection(line, "    ", b.Connection)
	line("  }")
	line("  gitlab_rails['backup_upload_remote_directory'] = %s", rubyString(b.Bucket))
	line("  gitlab_rails['backup_multipart_chunk_size'] = %d", multipartChunkBytes)
	line("end")
}

// pruneScript deletes, from the backup bucket, the archives older than envBackupPruneAfterDays days, with the
// upload's own connection (gitlab.yml's backup.upload); fog's Files#each pages through every listing
// (fog-aws v3.26.0, lib/fog/aws/models/storage/files.rb:52-66).
const pruneScript = `days = Integer(ENV.fetch('` + envBackupPruneAfterDays + `'))
upload = Gitlab.config.backup.upload
storage = Fog::Storage.new(upload.connection.to_hash.deep_symbolize_keys)
cutoff = Time.now - days * 86_400
pruned = 0
storage.directories.new(key: upload.remote_directory).files.each do |file|
  next unless file.key.end_with?('_gitlab_backup.tar') && file.last_modified < cutoff
  file.destroy
  pruned += 1
end
puts "Pruned #{pruned} backup archives older than #{days} days from #{upload.remote_directory}"
`

// backupScript is what the pod runs once reconfigure is done (the image's GITLAB_POST_RECONFIGURE_SCRIPT,
// evaluated under set -e by docker/assets/init-container): the backup, the prune where asked, then exit, which
// stops Gitaly with the container.
func backupScript(skips []string, prune bool) string {
	script := "/opt/gitlab/bin/gitlab-backup create CRON=1 SKIP=" + strings.Join(skips, ",") + "\n"
	if prune {
		script += `/opt/gitlab/bin/gitlab-rails runner "$` + envBackupPruneScript + `"` + "\n"
	}
	return kubeletEscape(script + "exit 0\n")
}

// backupArgs is what the backup is built from.
type backupArgs struct {
	name      string
	namespace pulumi.StringInput
	args      GitLabArgs // defaulted; args.Backup is set
	// zone is the first zone: the pod mounts its volume, for the repositories Gitaly serves.
	zone Zone
	pod  omnibusPod
	// follows is what the CronJob waits for before it takes this release's spec.
	follows pulumi.StringOutput
}

// newBackup creates the backup's service account, its key's Secret when it has one, its NetworkPolicy and
// the CronJob.
func newBackup(ctx *pulumi.Context, parent pulumi.Resource, b backupArgs) (*batchv1.CronJob, error) {
	backup := b.args.Backup
	account, err := newServiceAccount(ctx, parent, b.name, BackupServiceAccountName(b.name), BackupComponent, b.namespace,
		backup.Connection.WorkloadIdentity)
	if err != nil {
		return nil, err
	}
	var keySecret pulumi.StringInput
	if backup.Connection.usesKey() {
		secret, err := newKeySecret(ctx, parent, b.name, b.name+"-backup-key", BackupComponent, b.namespace, pulumi.StringMap{
			envBackupAccessKeyID: backup.Connection.AccessKeyID, envBackupSecretAccessKey: backup.Connection.SecretAccessKey,
		})
		if err != nil {
			return nil, err
		}
		keySecret = secret.Metadata.Name().Elem()
	}
	if _, err := newOutboundOnlyNetworkPolicy(ctx, parent, b.name, BackupComponent, b.namespace); err != nil {
		return nil, err
	}
	labels := toStringMap(zoneLabels(b.name, BackupComponent, b.zone.Name))
	return batchv1.NewCronJob(ctx, b.name+"-backup", &batchv1.CronJobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(b.name + "-backup"), Namespace: b.namespace, Labels: labels,
			Annotations: after(b.follows)},
		Spec: &batchv1.CronJobSpecArgs{
			Schedule: pulumi.String(backup.Schedule),
			// Explicit, so that the schedule means the same on every cluster, whatever its controller's zone.
			TimeZone:                   pulumi.String("Etc/UTC"),
			ConcurrencyPolicy:          pulumi.String("Forbid"), // two runs would race for the same archive name
			StartingDeadlineSeconds:    pulumi.Int(backupStartingDeadlineSeconds),
			SuccessfulJobsHistoryLimit: pulumi.Int(3),
			FailedJobsHistoryLimit:     pulumi.Int(3),
			JobTemplate: &batchv1.JobTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &batchv1.JobSpecArgs{
					// One retry for a transient failure (a database failover); a second failure waits for the
					// next night and shows in the Job history.
					BackoffLimit:          pulumi.Int(1),
					ActiveDeadlineSeconds: pulumi.Int(backupDeadlineSeconds),
					Template: &corev1.PodTemplateSpecArgs{
						Metadata: &metav1.ObjectMetaArgs{Labels: labels},
						Spec:     backupPodSpec(b, account.Metadata.Name().Elem(), keySecret),
					},
				},
			},
		},
	}, pulumi.Parent(parent))
}

func backupPodSpec(b backupArgs, serviceAccount, keySecret pulumi.StringInput) *corev1.PodSpecArgs {
	backup := b.args.Backup
	prune := backup.PruneAfterDays > 0
	env := append(corev1.EnvVarArray{&corev1.EnvVarArgs{Name: pulumi.String(envBackup), Value: pulumi.String("true")}},
		entrypointEnv(preReconfigureScript(false, b.zone.Storage), backupScript(backupSkips(b.args.ObjectStorage != nil), prune))...)
	if prune {
		env = append(env,
			&corev1.EnvVarArgs{Name: pulumi.String(envBackupPruneAfterDays), Value: pulumi.String(strconv.Itoa(backup.PruneAfterDays))},
			&corev1.EnvVarArgs{Name: pulumi.String(envBackupPruneScript), Value: pulumi.String(kubeletEscape(pruneScript))})
	}
	envFrom := b.pod.envFrom()
	if keySecret != nil {
		envFrom = append(envFrom, &corev1.EnvFromSourceArgs{SecretRef: &corev1.SecretEnvSourceArgs{Name: keySecret}})
	}
	return b.pod.runOncePodSpec(runOnce{
		name: b.name, zone: b.zone, holders: []string{WebserviceComponent, MigrationsComponent, BackupComponent},
		container: "backup", image: b.args.Image, command: []string{"/assets/init-container"},
		env: append(env, b.pod.nfsEnv()...), envFrom: envFrom, serviceAccount: serviceAccount.ToStringOutput().ToStringPtrOutput(),
		// The archive is assembled on the node's disk (/var/opt/gitlab/backups, an emptyDir) before its
		// upload: the request reserves it, so the pod goes only where it fits.
		resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("500m"), "memory": pulumi.String("2Gi"), "ephemeral-storage": pulumi.String(backup.ScratchSize)},
			Limits:   pulumi.StringMap{"cpu": pulumi.String("2"), "memory": pulumi.String("4Gi"), "ephemeral-storage": pulumi.String(backup.ScratchSize)},
		},
	})
}
