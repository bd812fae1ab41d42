package gitlab_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

// backupCronJob returns the backup's CronJob and the environment of its container, by name.
func backupCronJob(t *testing.T, result *componenttest.Result) (componenttest.Resource, map[string]string) {
	t.Helper()
	cronJob, ok := result.Find(cronJobType, "gitlab-backup")
	require.True(t, ok, "the backup CronJob")
	env := map[string]string{}
	for _, e := range cronJob.MustInput(t, "spec.jobTemplate.spec.template.spec.containers[0].env").([]any) {
		entry := e.(map[string]any)
		if value, ok := entry["value"].(string); ok {
			env[entry["name"].(string)] = value
		}
	}
	return cronJob, env
}

const backupPod = "spec.jobTemplate.spec.template.spec."

func TestTheBackupRunsNightlyInUTCOneAtATimeAndKeepsAShortHistory(t *testing.T) {
	result, component := deploy(t, onS3())
	cronJob, _ := backupCronJob(t, result)
	assert.Equal(t, "0 1 * * *", cronJob.InputString("spec.schedule"), "outside the database's backup and maintenance windows")
	assert.Equal(t, "Etc/UTC", cronJob.InputString("spec.timeZone"))
	assert.Equal(t, "Forbid", cronJob.InputString("spec.concurrencyPolicy"))
	assert.Equal(t, 3600.0, cronJob.MustInput(t, "spec.startingDeadlineSeconds"))
	assert.Equal(t, 3.0, cronJob.MustInput(t, "spec.successfulJobsHistoryLimit"))
	assert.Equal(t, 3.0, cronJob.MustInput(t, "spec.failedJobsHistoryLimit"))
	assert.Equal(t, 21600.0, cronJob.MustInput(t, "spec.jobTemplate.spec.activeDeadlineSeconds"))
	assert.Equal(t, "Never", cronJob.InputString(backupPod+"restartPolicy"))
	assert.Equal(t, "gitlab-backup", componenttest.MustAwait(t, component.BackupCronJob).Value)

	args := onS3()
	args.Backup.Schedule = "30 2 * * 0"
	weekly, _ := deploy(t, args)
	cronJob, _ = backupCronJob(t, weekly)
	assert.Equal(t, "30 2 * * 0", cronJob.InputString("spec.schedule"))
}

func TestTheBackupKeepsTheDatabaseAndRepositoriesAndSkipsWhatObjectStorageHolds(t *testing.T) {
	result, _ := deploy(t, onS3())
	cronJob, env := backupCronJob(t, result)
	script := env["GITLAB_POST_RECONFIGURE_SCRIPT"]
	assert.Contains(t, script, "/opt/gitlab/bin/gitlab-backup create CRON=1 SKIP=uploads,artifacts,pages,lfs,terraform_state,packages,ci_secure_files,external_diffs,registry\n")
	skip := script[strings.Index(script, "SKIP="):]
	skip = skip[:strings.Index(skip, "\n")]
	for _, kept := range []string{"db", "repositories", "builds"} {
		assert.NotContains(t, strings.Split(strings.TrimPrefix(skip, "SKIP="), ","), kept)
	}
	assert.True(t, strings.HasSuffix(script, "exit 0\n"), "the container stops, with Gitaly, once the upload is done")
	assert.Equal(t, "true", env["GITLAB_HA_BACKUP"])
	assert.Equal(t, gitlab.DefaultImage, cronJob.InputString(backupPod+"containers[0].image"), "the release's own image: a backup restores only into the same version")

	withoutObjects := threeZones()
	withoutObjects.Backup = onS3().Backup
	result, _ = deploy(t, withoutObjects)
	_, env = backupCronJob(t, result)
	assert.Contains(t, env["GITLAB_POST_RECONFIGURE_SCRIPT"], "SKIP=registry\n", "without object storage the archive holds the uploads and the rest")
}

func TestTheBackupPodServesNothingAndUploadsToTheBackupBucket(t *testing.T) {
	result, _ := deploy(t, onS3())
	config := omnibusConfig(t, result)
	block := config[strings.Index(config, "if ENV['GITLAB_HA_BACKUP'] == 'true'"):]
	block = block[:strings.Index(block, "\nend\n")]
	for _, service := range []string{"puma", "sidekiq", "gitlab_workhorse", "nginx"} {
		assert.Contains(t, block, service+"['enable'] = false")
	}
	assert.Contains(t, block, "gitlab_rails['backup_upload_remote_directory'] = '"+backupBucket+"'")
	assert.Contains(t, block, "'use_iam_profile' => true")
	assert.Contains(t, block, "gitlab_rails['backup_multipart_chunk_size'] = 104857600")
	assert.Equal(t, 1, strings.Count(config, "backup_upload_remote_directory"), "only the backup pod learns the backup bucket")
	for name, pod := range podSpecs(result) {
		assert.NotContains(t, fmt.Sprint(pod.MustInput(t, "spec.template.spec.containers[0].env")), "GITLAB_HA_BACKUP", name)
	}
	policy, ok := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-backup")
	require.True(t, ok)
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "gitlab", "app.kubernetes.io/instance": "gitlab",
		"app.kubernetes.io/component": gitlab.BackupComponent}, policy.InputMap("spec.podSelector.matchLabels"))
	_, admits := policy.Input("spec.ingress")
	assert.False(t, admits, "nothing may connect to the backup pod")
}

func TestTheBackupHasAnIdentityOfItsOwnThatGitLabsPodsDoNotShare(t *testing.T) {
	result, _ := deploy(t, onS3())
	cronJob, _ := backupCronJob(t, result)
	assert.Equal(t, gitlab.BackupServiceAccountName("gitlab"), cronJob.InputString(backupPod+"serviceAccountName"))
	assert.NotEqual(t, gitlab.ServiceAccountName("gitlab"), gitlab.BackupServiceAccountName("gitlab"))
	account, ok := result.Find(serviceAccountType, gitlab.BackupServiceAccountName("gitlab"))
	require.True(t, ok)
	assert.Equal(t, map[string]string{"eks.amazonaws.com/role-arn": backupRole}, account.InputMap("metadata.annotations"))
	assert.Equal(t, false, cronJob.MustInput(t, backupPod+"automountServiceAccountToken"))
}

func TestWithAStaticKeyTheBackupKeyIsInASecretOnlyTheBackupPodReads(t *testing.T) {
	result, _ := deploy(t, withKeys())
	keySecret, ok := result.Find(secretType, "gitlab-backup-key")
	require.True(t, ok)
	assert.True(t, keySecret.InputIsSecret("stringData"))
	assert.Equal(t, backupKeyID, keySecret.InputString(`stringData["GITLAB_BACKUP_ACCESS_KEY_ID"]`))
	cronJob, _ := backupCronJob(t, result)
	assert.Contains(t, fmt.Sprint(cronJob.MustInput(t, backupPod+"containers[0].envFrom")), "gitlab-backup-key")
	for name, pod := range podSpecs(result) {
		assert.NotContains(t, fmt.Sprint(pod.MustInput(t, "spec.template.spec.containers[0].envFrom")), "gitlab-backup-key", name)
	}
	gitlabSecret, _ := result.Find(secretType, "gitlab-secrets")
	assert.NotContains(t, gitlabSecret.InputMap("stringData"), "GITLAB_BACKUP_ACCESS_KEY_ID")
	config := omnibusConfig(t, result)
	assert.Contains(t, config, "'aws_access_key_id' => ENV.fetch('GITLAB_BACKUP_ACCESS_KEY_ID')")
}

func TestWhereTheBucketCannotExpireArchivesTheBackupPrunesThem(t *testing.T) {
	result, _ := deploy(t, withKeys())
	_, env := backupCronJob(t, result)
	assert.Equal(t, "30", env["GITLAB_HA_BACKUP_PRUNE_AFTER_DAYS"])
	script := env["GITLAB_POST_RECONFIGURE_SCRIPT"]
	create := strings.Index(script, "gitlab-backup create")
	prune := strings.Index(script, `/opt/gitlab/bin/gitlab-rails runner "$GITLAB_HA_BACKUP_PRUNE_SCRIPT"`)
	require.True(t, create >= 0 && prune > create, "the prune runs after a successful upload only")
	assert.Contains(t, env["GITLAB_HA_BACKUP_PRUNE_SCRIPT"], "file.key.end_with?('_gitlab_backup.tar') && file.last_modified < cutoff")

	onS3Result, _ := deploy(t, onS3())
	_, env = backupCronJob(t, onS3Result)
	assert.NotContains(t, env["GITLAB_POST_RECONFIGURE_SCRIPT"], "gitlab-rails runner", "on S3 the bucket's lifecycle is the retention")
	assert.NotContains(t, env, "GITLAB_HA_BACKUP_PRUNE_AFTER_DAYS")
}

func TestTheBackupReadsTheFirstZonesVolumeAndReservesTheDiskItsArchiveNeeds(t *testing.T) {
	args := onS3()
	args.Backup.ScratchSize = "80Gi"
	result, _ := deploy(t, args)
	cronJob, _ := backupCronJob(t, result)
	assert.Equal(t, map[string]string{gitlab.ZoneLabel: "eu-west-1a"}, cronJob.InputMap(backupPod+"nodeSelector"))
	assert.Equal(t, objectName(t, result, pvcType, "eu-west-1a"), cronJob.InputString(backupPod+"volumes[0].persistentVolumeClaim.claimName"))
	mounts := fmt.Sprint(cronJob.MustInput(t, backupPod+"containers[0].volumeMounts"))
	assert.Contains(t, mounts, "/var/opt/gitlab/git-data", "the repositories Gitaly streams into the archive")
	assert.Equal(t, "80Gi", cronJob.InputString(backupPod+`containers[0].resources.requests["ephemeral-storage"]`))
	assert.Equal(t, "80Gi", cronJob.InputString(backupPod+`containers[0].resources.limits["ephemeral-storage"]`))
	_, placed := cronJob.Input(backupPod + "affinity")
	assert.False(t, placed, "a shared volume can be mounted from any node of the zone")

	args = onS3()
	args.Zones = args.Zones[:1]
	args.Zones[0].Storage = gitlab.Storage{StorageClass: "linode-block-storage-retain"}
	result, _ = deploy(t, args)
	cronJob, _ = backupCronJob(t, result)
	assert.Equal(t, "kubernetes.io/hostname",
		cronJob.InputString(backupPod+"affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"),
		"a ReadWriteOnce volume: the backup joins the node of the pod that holds it")
}

func TestTheBackupTakesANewReleaseOnlyAfterEveryZoneAndThePostDeploymentMigrations(t *testing.T) {
	result, _ := deploy(t, onS3())
	_, post := jobs(t, result)
	cronJob, _ := backupCronJob(t, result)
	assert.Equal(t, "job/"+post.InputString("metadata.name"), cronJob.InputMap("metadata.annotations")["gitlab-ha.io/after"])
}

func TestTheBackupMayReachTheInClusterRedisAsGitLabsOtherPodsMay(t *testing.T) {
	args := onS3()
	result, _ := deploy(t, args)
	redis, ok := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-redis")
	require.True(t, ok)
	assert.Equal(t, gitlab.BackupComponent, redis.InputMap("spec.ingress[0].from[2].podSelector.matchLabels")["app.kubernetes.io/component"],
		"gitlab-backup loads Rails, which talks to Redis")

	without, _ := deploy(t, threeZones())
	redis, _ = without.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-redis")
	assert.Len(t, redis.MustInput(t, "spec.ingress[0].from"), 2, "no backup, no third client")
}
