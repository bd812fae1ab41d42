package all_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/components/objectstorage"
	"github.com/gitlab-ha/gitlab-ha/components/objectstorage/linodeobj"
	"github.com/gitlab-ha/gitlab-ha/internal/awstest"
	"github.com/gitlab-ha/gitlab-ha/stacks"
)

const (
	bucketType    = "aws:s3/bucketV2:BucketV2"
	roleType      = "aws:iam/role:Role"
	policyType    = "aws:iam/rolePolicy:RolePolicy"
	linodeBucket  = "linode:index/objectStorageBucket:ObjectStorageBucket"
	linodeKeyType = "linode:index/objectStorageKey:ObjectStorageKey"
)

// objectStorageOff turns object storage off, and with it the backup that needs its bucket.
func (s *stack) objectStorageOff() *stack {
	delete(s.config, stacks.Namespace+":backup")
	return s.set("objectStorage", map[string]any{"enabled": false})
}

// subtree is every resource under the component of this type, the component included.
func subtree(result *componenttest.Result, componentType string) map[string]bool {
	in := map[string]bool{}
	for _, r := range result.Resources {
		if r.Type == componentType {
			in[r.URN] = true
		}
	}
	for grew := true; grew; {
		grew = false
		for _, r := range result.Resources {
			if !in[r.URN] && in[r.Parent] {
				in[r.URN], grew = true, true
			}
		}
	}
	return in
}

func TestTheAWSStacksBuildABucketPerObjectTypeAndABackupBucketWithTwoRoles(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			result, out := deploy(t, name)
			require.Len(t, result.OfType(objectstorage.S3TypeToken), 1)
			component := result.OfType(objectstorage.S3TypeToken)[0]
			assert.Equal(t, "gitlab-objects", component.Name, "a stable name: renaming it would replace every bucket")
			under := subtree(result, objectstorage.S3TypeToken)
			buckets := result.OfType(bucketType)
			assert.Len(t, buckets, len(gitlab.ObjectTypes())+1)
			for _, b := range buckets {
				assert.True(t, under[b.URN], b.Name)
				assert.Regexp(t, "^gitlab-ha-"+name+"-[a-z-]+-[0-9a-f]{8}$", b.InputString("bucket"), "named after the stack")
			}
			for _, role := range []string{"gitlab-objects-gitlab", "gitlab-objects-backup"} {
				r, ok := result.Find(roleType, role)
				require.True(t, ok, role)
				assert.True(t, under[r.URN], role)
				_, ok = result.Find(policyType, role)
				assert.True(t, ok, "%s has its inline policy", role)
			}
			assert.Empty(t, result.OfType("aws:iam/accessKey:AccessKey"), "no access key anywhere")

			perType := componenttest.MustAwait(t, out.ObjectBuckets).Value.(map[string]string)
			assert.ElementsMatch(t, gitlab.ObjectTypes(), keys(perType), "the stack's output names a bucket per type")
			backup := componenttest.MustAwait(t, out.BackupBucket).Value.(string)
			assert.Regexp(t, "^gitlab-ha-"+name+"-backups-", backup)
			assert.Regexp(t, "^gitlab-ha-"+name+"-dependency-proxy-[0-9a-f]{8}$", perType["dependency_proxy"])
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The buckets build beside the cluster: only the roles wait for it, through the OIDC provider their trust
// names, so object storage adds nothing to the stack's critical path but the roles' short chain.
func TestOnlyTheRolesWaitForTheCluster(t *testing.T) {
	result, _ := deploy(t, "prod")
	cluster := result.OfType("aws:eks/cluster:Cluster")[0]
	provider, ok := result.Find("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "gitlab")
	require.True(t, ok)
	waiting := 0
	for urn := range subtree(result, objectstorage.S3TypeToken) {
		r, _ := result.ByURN(urn)
		if !r.Custom {
			continue
		}
		if r.Type == roleType || r.Type == policyType {
			assert.True(t, closure(result, urn)[provider.URN], "%s %s trusts the cluster's OIDC provider", r.Type, r.Name)
			waiting++
			continue
		}
		assert.False(t, closure(result, urn)[cluster.URN], "%s %s waits for the cluster", r.Type, r.Name)
	}
	assert.Equal(t, 4, waiting, "two roles and their policies")
}

func TestEachRoleTrustsExactlyOneOfGitLabsServiceAccounts(t *testing.T) {
	result, _ := deploy(t, "prod")
	provider, _ := result.Find("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "gitlab")
	providerARN := provider.Outputs["arn"].StringValue()
	issuer := strings.TrimPrefix(provider.InputString("url"), "https://")
	for role, subject := range map[string]string{
		"gitlab-objects-gitlab": "system:serviceaccount:gitlab:gitlab",
		"gitlab-objects-backup": "system:serviceaccount:gitlab:gitlab-backup",
	} {
		r, _ := result.Find(roleType, role)
		trust := awstest.ParsePolicy(t, r.InputString("assumeRolePolicy"))
		require.Len(t, trust.Statement, 1, role)
		s := trust.Statement[0]
		assert.Equal(t, "Allow", s.Effect)
		assert.Equal(t, map[string]any{"Federated": providerARN}, s.Principal, "%s: the stack's own cluster", role)
		assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, awstest.PolicyStrings(s.Action))
		assert.Equal(t, map[string]map[string]any{"StringEquals": {issuer + ":sub": subject, issuer + ":aud": "sts.amazonaws.com"}},
			s.Condition, "%s: that service account in GitLab's namespace, exactly", role)
	}

	// Those are the accounts GitLab's pods and its backup job run as, each annotated with its own role.
	for account, role := range map[string]string{"gitlab": "gitlab-objects-gitlab", "gitlab-backup": "gitlab-objects-backup"} {
		sa, ok := result.Find("kubernetes:core/v1:ServiceAccount", account)
		require.True(t, ok, account)
		r, _ := result.Find(roleType, role)
		assert.Equal(t, "gitlab", sa.InputString("metadata.namespace"), account)
		assert.Equal(t, map[string]string{"eks.amazonaws.com/role-arn": r.Outputs["arn"].StringValue()}, sa.InputMap("metadata.annotations"), account)
	}
	deployment, _ := result.Find("kubernetes:apps/v1:Deployment", "gitlab-eu-west-1a")
	assert.Equal(t, "gitlab", deployment.InputString("spec.template.spec.serviceAccountName"))
	cronJob, _ := result.Find("kubernetes:batch/v1:CronJob", "gitlab-backup")
	assert.Equal(t, "gitlab-backup", cronJob.InputString("spec.jobTemplate.spec.template.spec.serviceAccountName"))
}

func TestEveryIAMPolicyNamesOnlyThisStacksBuckets(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		result, out := deploy(t, name)
		perType := componenttest.MustAwait(t, out.ObjectBuckets).Value.(map[string]string)
		backup := componenttest.MustAwait(t, out.BackupBucket).Value.(string)
		arns := func(buckets ...string) []string {
			var out []string
			for _, b := range buckets {
				out = append(out, "arn:aws:s3:::"+b, "arn:aws:s3:::"+b+"/*")
			}
			sort.Strings(out)
			return out
		}
		var objectBuckets []string
		for _, b := range perType {
			objectBuckets = append(objectBuckets, b)
		}
		key, _ := result.Find("aws:kms/key:Key", "gitlab-objects")
		want := map[string][]string{"gitlab-objects-gitlab": arns(objectBuckets...), "gitlab-objects-backup": arns(backup)}
		for _, policy := range result.OfType(policyType) {
			var s3Resources []string
			for _, s := range awstest.ParsePolicy(t, policy.InputString("policy")).Statement {
				for _, resource := range awstest.PolicyStrings(s.Resource) {
					switch {
					case strings.HasPrefix(resource, "arn:aws:s3:::"):
						s3Resources = append(s3Resources, resource)
					case strings.HasPrefix(resource, "arn:aws:kms:"):
						assert.Equal(t, key.Outputs["arn"].StringValue(), resource, "%s %s: only the buckets' key", name, policy.Name)
					}
					assert.NotEqual(t, "*", resource, "%s %s: a wildcard resource", name, policy.Name)
				}
			}
			sort.Strings(s3Resources)
			if expected, ours := want[policy.Name]; ours {
				assert.Equal(t, expected, s3Resources, "%s %s: exactly its buckets", name, policy.Name)
			} else {
				assert.Empty(t, s3Resources, "%s %s reaches no bucket", name, policy.Name)
			}
		}
	}
}

func TestEachLinodeKeyReachesOnlyItsBuckets(t *testing.T) {
	result, out := linodeStack(t).run(t)
	require.NoError(t, result.Err)
	require.Len(t, result.OfType(linodeobj.TypeToken), 1)
	assert.Equal(t, "gitlab-objects", result.OfType(linodeobj.TypeToken)[0].Name)
	assert.Len(t, result.OfType(linodeBucket), len(gitlab.ObjectTypes())+1)
	perType := componenttest.MustAwait(t, out.ObjectBuckets).Value.(map[string]string)
	backup := componenttest.MustAwait(t, out.BackupBucket).Value.(string)
	var objectBuckets []string
	for _, b := range perType {
		objectBuckets = append(objectBuckets, b)
	}
	want := map[string][]string{"gitlab-objects-gitlab": objectBuckets, "gitlab-objects-backup": {backup}}
	keys := result.OfType(linodeKeyType)
	require.Len(t, keys, 2)
	for _, key := range keys {
		var buckets []string
		for _, access := range key.MustInput(t, "bucketAccesses").([]any) {
			a := access.(map[string]any)
			buckets = append(buckets, a["bucketName"].(string))
			assert.Equal(t, "us-ord", a["region"], key.Name)
			assert.Equal(t, "read_write", a["permissions"], key.Name)
		}
		assert.ElementsMatch(t, want[key.Name], buckets, "%s: its buckets and no other", key.Name)
		_, mayCreate := key.Input("regions")
		assert.False(t, mayCreate, "%s may create no bucket", key.Name)
	}
	for _, bucket := range result.OfType(linodeBucket) {
		assert.Equal(t, "private", bucket.InputString("acl"), bucket.Name)
		assert.Equal(t, "us-ord", bucket.InputString("region"), bucket.Name)
	}
}

// existingObjectStorage points an existing cluster's GitLab at the team's MinIO, with a key for GitLab and one
// for the backups, both secret config.
func existingObjectStorage(t *testing.T) *stack {
	buckets := map[string]string{}
	for _, objectType := range gitlab.ObjectTypes() {
		buckets[objectType] = "team-" + strings.ReplaceAll(objectType, "_", "-")
	}
	return existingStack(t).set("objectStorage", map[string]any{
		"endpoint": "https://minio.internal:9000", "region": "us-east-1", "pathStyle": true, "buckets": buckets,
	}).set("backup", map[string]any{"bucket": "team-backups", "retentionDays": 14}).
		secret("objectStorageAccessKeyId", "TEAMGITLABKEYID").secret("objectStorageSecretAccessKey", "team-gitlab-secret-key").
		secret("backupAccessKeyId", "TEAMBACKUPKEYID").secret("backupSecretAccessKey", "team-backup-secret-key")
}

func TestAnExistingClusterUsesItsOwnS3CompatibleServiceWhenConfigured(t *testing.T) {
	result, out := existingObjectStorage(t).run(t)
	require.NoError(t, result.Err)
	assert.Len(t, result.Components(), 1, "GitLab alone: the buckets are the team's")
	perType := componenttest.MustAwait(t, out.ObjectBuckets).Value.(map[string]string)
	assert.Equal(t, "team-dependency-proxy", perType["dependency_proxy"])
	assert.Equal(t, "team-backups", componenttest.MustAwait(t, out.BackupBucket).Value)
	assert.Equal(t, []string{
		"Object storage: the S3-compatible service at https://minio.internal:9000, in the buckets objectStorage.buckets names",
		`Backup: gitlab-backup of the database and repositories at "0 1 * * *" (cron, UTC) to bucket team-backups on the ` +
			"S3-compatible service at https://minio.internal:9000; the job deletes archives older than 14 days",
	}, out.Notes)

	result, out = existingStack(t).run(t)
	require.NoError(t, result.Err)
	assert.Empty(t, componenttest.MustAwait(t, out.ObjectBuckets).Value, "without objectStorage, none")
	assert.Equal(t, []string{stacks.ObjectStorageOff}, out.Notes)
}

// No object storage credential reaches any resource in plain text: not a ConfigMap, not an annotation, not an
// argument. On Linode the keys are the component's; on an existing cluster the team's secret config.
func TestNoObjectStorageCredentialIsSentInPlainText(t *testing.T) {
	result, _ := linodeStack(t).run(t)
	require.NoError(t, result.Err)
	var credentials []string
	for _, key := range result.OfType(linodeKeyType) {
		for _, output := range []string{"accessKey", "secretKey"} {
			value, _ := key.Output(output)
			credentials = append(credentials, value.(string))
		}
	}
	require.Len(t, credentials, 4)
	assert.Empty(t, result.PlaintextLeaks(credentials...), "linode")
	assert.Empty(t, inConfigMaps(result, credentials...), "linode")
	gitlabKey, backupKey := linodeKey(t, result, "gitlab-objects-gitlab"), linodeKey(t, result, "gitlab-objects-backup")
	assertOnlyInItsSecret(t, result, gitlabKey, backupKey)

	result, _ = existingObjectStorage(t).run(t)
	require.NoError(t, result.Err)
	teamKeys := []string{"TEAMGITLABKEYID", "team-gitlab-secret-key", "TEAMBACKUPKEYID", "team-backup-secret-key"}
	assert.Empty(t, result.PlaintextLeaks(teamKeys...), "existing")
	assert.Empty(t, inConfigMaps(result, teamKeys...), "existing")
	assertOnlyInItsSecret(t, result, []string{"TEAMGITLABKEYID", "team-gitlab-secret-key"}, []string{"TEAMBACKUPKEYID", "team-backup-secret-key"})

	// On AWS there is no key: GitLab's configuration asks the SDKs for the pod's web identity.
	result, _ = deploy(t, "prod")
	config, _ := result.Find("kubernetes:core/v1:ConfigMap", "gitlab-config")
	var rendered string
	for _, v := range config.InputMap("data") {
		rendered += v
	}
	assert.Contains(t, rendered, "'use_iam_profile' => true")
	assert.NotContains(t, rendered, "aws_access_key_id")
	assert.NotContains(t, rendered, "'endpoint'", "no endpoint: it would break the web identity's STS exchange")
}

// inConfigMaps lists the ConfigMaps whose data holds one of values. A ConfigMap is readable by whoever may
// read the namespace's ConfigMaps, however secret its value is in Pulumi's state (on Linode all of gitlab.rb
// is, for the database's address), which PlaintextLeaks does not look into.
func inConfigMaps(result *componenttest.Result, values ...string) []string {
	var found []string
	for _, configMap := range result.OfType("kubernetes:core/v1:ConfigMap") {
		for key, data := range configMap.InputMap("data") {
			for _, value := range values {
				if strings.Contains(data, value) {
					found = append(found, configMap.Name+" "+key)
				}
			}
		}
	}
	return found
}

// linodeKey is a Linode key's ID and secret, as the provider answered.
func linodeKey(t *testing.T, result *componenttest.Result, name string) []string {
	t.Helper()
	key, ok := result.Find(linodeKeyType, name)
	require.True(t, ok, name)
	id, _ := key.Output("accessKey")
	secret, _ := key.Output("secretKey")
	return []string{id.(string), secret.(string)}
}

// assertOnlyInItsSecret checks that GitLab's key reaches its pods through the Secret gitlab-secrets and the
// backup's through gitlab-backup-key, each as a secret value, and neither through the other's: GitLab's pods
// cannot reach the backups, nor the backup job the live objects.
func assertOnlyInItsSecret(t *testing.T, result *componenttest.Result, gitlabKey, backupKey []string) {
	t.Helper()
	holders := func(value string) []string {
		var found []string
		for _, secret := range result.OfType("kubernetes:core/v1:Secret") {
			for field, v := range secret.InputMap("stringData") {
				if v == value {
					assert.True(t, secret.InputIsSecret("stringData."+field), "%s %s is sent as a secret", secret.Name, field)
					found = append(found, secret.Name)
				}
			}
		}
		return found
	}
	for _, value := range gitlabKey {
		assert.Equal(t, []string{"gitlab-secrets"}, holders(value), "GitLab's key")
	}
	for _, value := range backupKey {
		assert.Equal(t, []string{"gitlab-backup-key"}, holders(value), "the backup's key")
	}
}

func TestObjectStorageOffBuildsNoneOfIt(t *testing.T) {
	// What the GitLab component adds for object storage and the backup (its package documentation): the
	// service accounts a workload identity annotates, the backup's CronJob, its NetworkPolicy, and the
	// backup key's Secret where the backup uses a key.
	backup := []string{
		"kubernetes:batch/v1:CronJob gitlab-backup", "kubernetes:core/v1:ServiceAccount gitlab-backup",
		"kubernetes:networking.k8s.io/v1:NetworkPolicy gitlab-backup",
	}
	cases := map[string]struct {
		stack     func(*testing.T) *stack
		component string
		types     []string
		gitlab    []string
	}{
		"aws": {func(t *testing.T) *stack { return load(t, "prod") }, objectstorage.S3TypeToken, []string{bucketType, "aws:s3/bucketPolicy:BucketPolicy"},
			append([]string{"kubernetes:core/v1:ServiceAccount gitlab"}, backup...)},
		"linode": {linodeStack, linodeobj.TypeToken, []string{linodeBucket, linodeKeyType},
			append([]string{"kubernetes:core/v1:Secret gitlab-backup-key"}, backup...)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			on, _ := tc.stack(t).run(t)
			require.NoError(t, on.Err)
			off, out := tc.stack(t).objectStorageOff().run(t)
			require.NoError(t, off.Err)
			assert.Empty(t, off.OfType(tc.component))
			for _, typ := range tc.types {
				assert.Empty(t, off.OfType(typ), typ)
			}
			assert.Equal(t, []string{stacks.ObjectStorageOff}, out.Notes)
			assert.Empty(t, componenttest.MustAwait(t, out.ObjectBuckets).Value)
			assert.Empty(t, componenttest.MustAwait(t, out.BackupBucket).Value)

			// Off takes away the object storage component and GitLab's objects for it, and nothing else.
			feature := subtree(on, tc.component)
			offURNs := map[string]bool{}
			for _, r := range off.Resources {
				offURNs[r.URN] = true
				_, inOn := on.ByURN(r.URN)
				assert.True(t, inOn, "%s %s exists only with object storage off", r.Type, r.Name)
			}
			var gitlabObjects []string
			for _, r := range on.Resources {
				switch {
				case offURNs[r.URN], feature[r.URN]:
				case strings.Contains(r.Parent, "gitlab-ha:gitlab:GitLab"):
					gitlabObjects = append(gitlabObjects, r.Type+" "+r.Name)
				default:
					t.Errorf("%s %s goes with object storage, but is neither part of it nor GitLab's", r.Type, r.Name)
				}
			}
			assert.ElementsMatch(t, tc.gitlab, gitlabObjects)
		})
	}
}

func TestThePlanSaysWhereGitLabsObjectsAndBackupsGo(t *testing.T) {
	_, out := deploy(t, "prod")
	require.Len(t, out.Notes, 2)
	assert.Contains(t, out.Notes[0], "Object storage: S3, a bucket per object type")
	assert.Contains(t, out.Notes[0], "through IRSA, with no access key")
	assert.Contains(t, out.Notes[1], `"0 1 * * *"`)
	assert.Contains(t, out.Notes[1], "archives expire after 30 days by the bucket's lifecycle")

	_, out = load(t, "prod").set("backup", map[string]any{"enabled": false}).run(t)
	require.Len(t, out.Notes, 2)
	assert.Equal(t, "Backup: off — no scheduled gitlab-backup; the platform's own snapshots are all there is", out.Notes[1])

	_, out = linodeStack(t).run(t)
	require.Len(t, out.Notes, 2)
	assert.Contains(t, out.Notes[0], "Object storage: Linode Object Storage in us-ord")
	assert.Contains(t, out.Notes[1], "the job deletes archives older than 30 days")
}

// gitlabRB is GitLab's rendered configuration.
func gitlabRB(t *testing.T, result *componenttest.Result) string {
	t.Helper()
	config, ok := result.Find("kubernetes:core/v1:ConfigMap", "gitlab-config")
	require.True(t, ok)
	return config.InputMap("data")["GITLAB_OMNIBUS_CONFIG"]
}

// backupJob is the backup CronJob's schedule and its container's environment.
func backupJob(t *testing.T, result *componenttest.Result) (string, map[string]string) {
	t.Helper()
	cronJob, ok := result.Find("kubernetes:batch/v1:CronJob", "gitlab-backup")
	require.True(t, ok)
	env := map[string]string{}
	for _, v := range cronJob.MustInput(t, "spec.jobTemplate.spec.template.spec.containers[0].env").([]any) {
		variable := v.(map[string]any)
		value, _ := variable["value"].(string)
		env[variable["name"].(string)] = value
	}
	return cronJob.InputString("spec.schedule"), env
}

// Each platform hands GitLab the service its buckets are on, as that service wants to be spoken to, and the
// backup its schedule and retention.
func TestGitLabSpeaksToEachPlatformsService(t *testing.T) {
	const prune = "GITLAB_HA_BACKUP_PRUNE_AFTER_DAYS"
	t.Run("aws: S3 in the stack's region, the lifecycle keeps the retention", func(t *testing.T) {
		result, out := deploy(t, "dev")
		rb := gitlabRB(t, result)
		assert.Contains(t, rb, "'region' => 'eu-west-1',")
		assert.Contains(t, rb, "gitlab_rails['backup_upload_remote_directory'] = '"+componenttest.MustAwait(t, out.BackupBucket).Value.(string)+"'")
		schedule, env := backupJob(t, result)
		assert.Equal(t, gitlab.DefaultBackupSchedule, schedule)
		assert.NotContains(t, env, prune, "the job prunes nothing: its role may not delete")
		backup, _ := result.Find(bucketType, "gitlab-objects-backups")
		lifecycle, _ := result.Find("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "gitlab-objects-backups")
		assert.Contains(t, lifecycle.InputString("bucket"), backup.ID)
		var expiry []any
		for _, rule := range lifecycle.MustInput(t, "rules").([]any) {
			if expiration, ok := rule.(map[string]any)["expiration"].(map[string]any); ok && expiration["days"] != nil {
				expiry = append(expiry, expiration["days"])
			}
		}
		assert.Equal(t, []any{float64(7)}, expiry, "dev's backup.retentionDays")
	})
	t.Run("linode: the cluster's S3 endpoint, signed with its cluster ID; the job prunes", func(t *testing.T) {
		result, _ := linodeStack(t).set("backup", map[string]any{"schedule": "30 2 * * *", "retentionDays": 14}).run(t)
		require.NoError(t, result.Err)
		rb := gitlabRB(t, result)
		assert.Contains(t, rb, "'region' => 'us-ord-1',", "the cluster ID, not the Linode region")
		assert.Contains(t, rb, "'endpoint' => 'https://us-ord-1.linodeobjects.com',")
		assert.Contains(t, rb, "'path_style' => false,")
		schedule, env := backupJob(t, result)
		assert.Equal(t, "30 2 * * *", schedule)
		assert.Equal(t, "14", env[prune])
	})
	t.Run("existing: the team's service as configured", func(t *testing.T) {
		result, _ := existingObjectStorage(t).run(t)
		require.NoError(t, result.Err)
		rb := gitlabRB(t, result)
		assert.Contains(t, rb, "'region' => 'us-east-1',")
		assert.Contains(t, rb, "'endpoint' => 'https://minio.internal:9000',")
		assert.Contains(t, rb, "'path_style' => true,")
		assert.Contains(t, rb, "gitlab_rails['object_store']['objects']['dependency_proxy']['bucket'] = 'team-dependency-proxy'")
		assert.Contains(t, rb, "gitlab_rails['backup_upload_remote_directory'] = 'team-backups'")
		_, env := backupJob(t, result)
		assert.Equal(t, "14", env[prune])
	})
}
