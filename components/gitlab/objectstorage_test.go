package gitlab_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

const (
	serviceAccountType = "kubernetes:core/v1:ServiceAccount"
	cronJobType        = "kubernetes:batch/v1:CronJob"
	gitlabRole         = "arn:aws:iam::123456789012:role/gitlab-objects-gitlab"
	backupRole         = "arn:aws:iam::123456789012:role/gitlab-objects-backup"
	backupBucket       = "dev-backups-1a2b3c4d"
	accessKeyID        = "AKIAEXAMPLEOBJECTKEY"
	secretAccessKey    = "object-store-secret-from-the-linode-component"
	backupKeyID        = "AKIAEXAMPLEBACKUPKEY"
	backupSecretKey    = "backup-secret-from-the-linode-component"
)

// bucketOf is the bucket the tests give an object type.
func bucketOf(objectType string) string {
	return "dev-" + strings.ReplaceAll(objectType, "_", "-") + "-1a2b3c4d"
}

func buckets() map[string]pulumi.StringInput {
	out := map[string]pulumi.StringInput{}
	for _, objectType := range gitlab.ObjectTypes() {
		out[objectType] = pulumi.String(bucketOf(objectType))
	}
	return out
}

// onS3 is the AWS layout: buckets on S3, reached through IAM roles for service accounts, one for GitLab's
// pods and one for the backup.
func onS3() *gitlab.GitLabArgs {
	args := threeZones()
	args.ObjectStorage = &gitlab.ObjectStorage{
		Connection: gitlab.ObjectStoreConnection{Region: pulumi.String("eu-west-1"),
			WorkloadIdentity: pulumi.StringMap{"eks.amazonaws.com/role-arn": pulumi.String(gitlabRole)}},
		Buckets: buckets(),
	}
	args.Backup = &gitlab.Backup{Bucket: pulumi.String(backupBucket), Connection: gitlab.ObjectStoreConnection{
		Region: pulumi.String("eu-west-1"), WorkloadIdentity: pulumi.StringMap{"eks.amazonaws.com/role-arn": pulumi.String(backupRole)},
	}}
	return args
}

// withKeys is the Linode layout: an S3-compatible endpoint and static keys, one for GitLab, one for the backup.
func withKeys() *gitlab.GitLabArgs {
	args := threeZones()
	endpoint := pulumi.String("https://eu-central-1.linodeobjects.com")
	args.ObjectStorage = &gitlab.ObjectStorage{
		Connection: gitlab.ObjectStoreConnection{Region: pulumi.String("eu-central-1"), Endpoint: endpoint,
			AccessKeyID: pulumi.String(accessKeyID), SecretAccessKey: pulumi.ToSecret(pulumi.String(secretAccessKey)).(pulumi.StringOutput)},
		Buckets: buckets(),
	}
	args.Backup = &gitlab.Backup{Bucket: pulumi.String(backupBucket), PruneAfterDays: 30, Connection: gitlab.ObjectStoreConnection{
		Region: pulumi.String("eu-central-1"), Endpoint: endpoint,
		AccessKeyID: pulumi.String(backupKeyID), SecretAccessKey: pulumi.String(backupSecretKey),
	}}
	return args
}

// podSpecs are the pod specs of every zone's Deployment and both migration Jobs.
func podSpecs(result *componenttest.Result) map[string]componenttest.Resource {
	specs := map[string]componenttest.Resource{}
	for _, d := range result.OfType(deploymentType) {
		if zoneOf(d) != "" {
			specs[d.Name] = d
		}
	}
	for _, j := range result.OfType(jobType) {
		specs[j.Name] = j
	}
	return specs
}

func TestWithoutObjectStorageObjectsStayOnTheSharedVolumeAndNothingIsAdded(t *testing.T) {
	result, component := deploy(t, threeZones())
	config := omnibusConfig(t, result)
	assert.NotContains(t, config, "object_store")
	assert.NotContains(t, config, "backup_upload")
	assert.Empty(t, result.OfType(serviceAccountType))
	assert.Empty(t, result.OfType(cronJobType))
	for name, pod := range podSpecs(result) {
		_, named := pod.Input("spec.template.spec.serviceAccountName")
		assert.False(t, named, "%s keeps the default account", name)
	}
	assert.Equal(t, "", componenttest.MustAwait(t, component.BackupCronJob).Value)
}

func TestEveryObjectTypeGoesToItsOwnBucketThroughOneConnection(t *testing.T) {
	result, _ := deploy(t, onS3())
	config := omnibusConfig(t, result)
	assert.Contains(t, config, "gitlab_rails['object_store']['enabled'] = true")
	assert.Contains(t, config, "gitlab_rails['object_store']['proxy_download'] = false")
	for _, objectType := range gitlab.ObjectTypes() {
		assert.Contains(t, config, "gitlab_rails['object_store']['objects']['"+objectType+"']['bucket'] = '"+bucketOf(objectType)+"'")
	}
	assert.Len(t, regexp.MustCompile(`\['objects'\]\['[a-z_]+'\]\['bucket'\]`).FindAllString(config, -1), 9,
		"the nine types of GitLab 18.11, no more")
}

func TestWithWorkloadIdentityGitLabRunsAsAnAnnotatedAccountAndHoldsNoKey(t *testing.T) {
	result, _ := deploy(t, onS3())
	config := omnibusConfig(t, result)
	connection := config[strings.Index(config, "gitlab_rails['object_store']['connection']"):]
	connection = connection[:strings.Index(connection, "}")]
	assert.Contains(t, connection, "'provider' => 'AWS'")
	assert.Contains(t, connection, "'region' => 'eu-west-1'")
	assert.Contains(t, connection, "'use_iam_profile' => true")
	assert.NotContains(t, connection, "endpoint", "S3 itself: an explicit endpoint would break the web identity exchange")
	assert.NotContains(t, connection, "aws_access_key_id")

	// runsvdir starts the services with an empty environment: the identity's variables are handed on by name.
	assert.Contains(t, config, "workload_identity_env = ENV.to_h.slice('AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'")
	assert.Contains(t, config, "gitlab_rails['env'] = workload_identity_env")
	assert.Contains(t, config, "gitlab_workhorse['env'] = workload_identity_env")

	account, ok := result.Find(serviceAccountType, gitlab.ServiceAccountName("gitlab"))
	require.True(t, ok, "GitLab's service account")
	assert.Equal(t, map[string]string{"eks.amazonaws.com/role-arn": gitlabRole}, account.InputMap("metadata.annotations"))
	assert.Equal(t, false, account.MustInput(t, "automountServiceAccountToken"))
	for name, pod := range podSpecs(result) {
		assert.Equal(t, "gitlab", pod.InputString("spec.template.spec.serviceAccountName"), name)
		// The projected token keeps its default mode 0644, readable by git, only while the pod sets neither
		// (kubernetes pkg/volume/projected/projected.go:276-282 makes it 0600 otherwise).
		_, fsGroup := pod.Input("spec.template.spec.securityContext.fsGroup")
		_, runAsUser := pod.Input("spec.template.spec.securityContext.runAsUser")
		assert.False(t, fsGroup || runAsUser, "%s: the token must stay readable by the git user", name)
	}
	secret, _ := result.Find(secretType, "gitlab-secrets")
	for key := range secret.InputMap("stringData") {
		assert.NotContains(t, key, "OBJECT_STORE", "no key anywhere")
	}
}

func TestAStaticKeyReachesThePodsThroughTheSecretAndNeverInPlainText(t *testing.T) {
	result, _ := deploy(t, withKeys())
	config := omnibusConfig(t, result)
	assert.Contains(t, config, "'endpoint' => 'https://eu-central-1.linodeobjects.com'")
	assert.Contains(t, config, "'aws_access_key_id' => ENV.fetch('GITLAB_OBJECT_STORE_ACCESS_KEY_ID')")
	assert.Contains(t, config, "'aws_secret_access_key' => ENV.fetch('GITLAB_OBJECT_STORE_SECRET_ACCESS_KEY')")
	assert.NotContains(t, config, "use_iam_profile")
	assert.NotContains(t, config, "workload_identity_env")
	assert.NotContains(t, config, accessKeyID)

	secret, _ := result.Find(secretType, "gitlab-secrets")
	assert.Equal(t, accessKeyID, secret.InputString(`stringData["GITLAB_OBJECT_STORE_ACCESS_KEY_ID"]`))
	assert.Equal(t, secretAccessKey, secret.InputString(`stringData["GITLAB_OBJECT_STORE_SECRET_ACCESS_KEY"]`))
	assert.Empty(t, result.PlaintextLeaks(accessKeyID, secretAccessKey, backupKeyID, backupSecretKey),
		"no key in a ConfigMap or any other plain input, though the caller passed the IDs unmarked")
	_, ok := result.Find(serviceAccountType, gitlab.ServiceAccountName("gitlab"))
	assert.False(t, ok, "a key needs no identity of GitLab's own")
}

func TestObjectStorageChangesRenameTheMigrationJobSoTheyRunWithIt(t *testing.T) {
	without, _ := deploy(t, threeZones())
	with, _ := deploy(t, onS3())
	before, _ := jobs(t, without)
	after, _ := jobs(t, with)
	assert.NotEqual(t, before.InputString("metadata.name"), after.InputString("metadata.name"))
}
