package objectstorage_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/objectstorage"
	"github.com/gitlab-ha/gitlab-ha/internal/awstest"
	"github.com/gitlab-ha/gitlab-ha/internal/objectstore"
)

const (
	issuer      = "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
	providerARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"

	bucketType       = "aws:s3/bucketV2:BucketV2"
	ownershipType    = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	publicAccessType = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	encryptionType   = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	policyType       = "aws:s3/bucketPolicy:BucketPolicy"
	versioningType   = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	lifecycleType    = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	keyType          = "aws:kms/key:Key"
	roleType         = "aws:iam/role:Role"
	rolePolicyType   = "aws:iam/rolePolicy:RolePolicy"
)

// kinds are the bucket kinds the component makes: one per object type, and the backups.
func kinds() []string {
	var out []string
	for _, t := range objectstore.Types {
		out = append(out, objectstore.Kind(t.Name))
	}
	return append(out, objectstore.BackupKind)
}

func validArgs() *objectstorage.S3Args {
	return &objectstorage.S3Args{OIDCProviderARN: pulumi.String(providerARN), OIDCIssuer: pulumi.String(issuer)}
}

func build(t *testing.T, args *objectstorage.S3Args, options ...componenttest.Option) (*componenttest.Result, *objectstorage.S3) {
	t.Helper()
	var s *objectstorage.S3
	result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		s, err = objectstorage.NewS3(ctx, "gitlab-objects", args, pulumi.Provider(provider))
		return err
	}, options...)
	require.NoError(t, result.Err)
	return result, s
}

func find(t *testing.T, result *componenttest.Result, typ, kind string) componenttest.Resource {
	t.Helper()
	r, ok := result.Find(typ, "gitlab-objects-"+kind)
	require.True(t, ok, "%s for %s", typ, kind)
	return r
}

func TestEveryBucketIsPrivateEncryptedWithTheStacksKeyAndTLSOnly(t *testing.T) {
	result, s := build(t, validArgs())
	require.Len(t, result.OfType(bucketType), len(objectstore.Types)+1)
	keyARN := awstest.Value(t, s.KMSKeyARN).(string)
	for _, kind := range kinds() {
		bucket := find(t, result, bucketType, kind)
		assert.Equal(t, false, bucket.Inputs["forceDestroy"].V, kind)

		ownership := find(t, result, ownershipType, kind)
		assert.Equal(t, "BucketOwnerEnforced", ownership.InputString("rule.objectOwnership"), "%s: ACLs off", kind)

		block := find(t, result, publicAccessType, kind)
		for _, setting := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
			assert.Equal(t, true, block.MustInput(t, setting), "%s %s", kind, setting)
		}

		encryption := find(t, result, encryptionType, kind)
		assert.Equal(t, "aws:kms", encryption.InputString("rules[0].applyServerSideEncryptionByDefault.sseAlgorithm"), kind)
		assert.Equal(t, keyARN, encryption.InputString("rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId"), kind)
		assert.Equal(t, true, encryption.MustInput(t, "rules[0].bucketKeyEnabled"), kind)

		bucketARN, _ := bucket.Output("arn")
		doc := awstest.ParsePolicy(t, find(t, result, policyType, kind).InputString("policy"))
		require.Len(t, doc.Statement, 2, kind)
		for _, st := range doc.Statement {
			assert.Equal(t, "Deny", st.Effect, "%s %s", kind, st.Sid)
			assert.Equal(t, "*", st.Principal, "%s: whoever asks", kind)
			assert.Equal(t, []string{"s3:*"}, awstest.PolicyStrings(st.Action), kind)
			assert.Equal(t, []string{bucketARN.(string), bucketARN.(string) + "/*"}, awstest.PolicyStrings(st.Resource), kind)
		}
		assert.Equal(t, "false", doc.Statement[0].Condition["Bool"]["aws:SecureTransport"], kind)
		assert.Equal(t, 1.2, doc.Statement[1].Condition["NumericLessThan"]["s3:TlsVersion"], kind)
	}
	key := result.OfType(keyType)
	require.Len(t, key, 1)
	assert.Equal(t, true, key[0].Inputs["enableKeyRotation"].V)
	assert.Equal(t, float64(30), key[0].Inputs["deletionWindowInDays"].V)
}

func TestAccessSettingsAreAppliedOneAfterTheOther(t *testing.T) {
	result, _ := build(t, validArgs())
	for _, kind := range kinds() {
		ownership, block, policy := find(t, result, ownershipType, kind), find(t, result, publicAccessType, kind), find(t, result, policyType, kind)
		assert.Contains(t, block.Dependencies, ownership.URN, kind)
		assert.Contains(t, policy.Dependencies, block.URN, kind)
	}
}

type rule struct {
	ID, Prefix                string
	AbortDays, NoncurrentDays int
	ExpireDays                int
	ExpiredDeleteMarkers      bool
}

func rulesOf(t *testing.T, r componenttest.Resource) map[string]rule {
	t.Helper()
	raw := r.MustInput(t, "rules").([]any)
	out := map[string]rule{}
	number := func(m map[string]any, outer, inner string) int {
		if o, ok := m[outer].(map[string]any); ok {
			if n, ok := o[inner].(float64); ok {
				return int(n)
			}
		}
		return 0
	}
	for _, e := range raw {
		m := e.(map[string]any)
		assert.Equal(t, "Enabled", m["status"])
		got := rule{
			ID:             m["id"].(string),
			AbortDays:      number(m, "abortIncompleteMultipartUpload", "daysAfterInitiation"),
			NoncurrentDays: number(m, "noncurrentVersionExpiration", "noncurrentDays"),
			ExpireDays:     number(m, "expiration", "days"),
		}
		if f, ok := m["filter"].(map[string]any); ok {
			got.Prefix, _ = f["prefix"].(string)
		}
		if e, ok := m["expiration"].(map[string]any); ok {
			got.ExpiredDeleteMarkers, _ = e["expiredObjectDeleteMarker"].(bool)
		}
		out[got.ID] = got
	}
	return out
}

func TestVersioningKeepsOverwrittenObjectsForAWhileAndLifecycleCleansUp(t *testing.T) {
	result, _ := build(t, validArgs())
	abort := rule{ID: "abort-incomplete-multipart-uploads", AbortDays: 7}
	noncurrent := rule{ID: "expire-noncurrent-versions", NoncurrentDays: 30, ExpiredDeleteMarkers: true}
	staged := rule{ID: "expire-noncurrent-temporary-uploads", Prefix: "tmp/uploads/", NoncurrentDays: 1}
	for _, typ := range objectstore.Types {
		kind := objectstore.Kind(typ.Name)
		lifecycle := find(t, result, lifecycleType, kind)
		versioning, versioned := result.Find(versioningType, "gitlab-objects-"+kind)
		if typ.Name == "dependency_proxy" {
			assert.False(t, versioned, "a cache GitLab refills needs no old versions")
			assert.Equal(t, map[string]rule{abort.ID: abort}, rulesOf(t, lifecycle))
			continue
		}
		require.True(t, versioned, kind)
		assert.Equal(t, "Enabled", versioning.InputString("versioningConfiguration.status"), kind)
		assert.Equal(t, map[string]rule{abort.ID: abort, noncurrent.ID: noncurrent, staged.ID: staged}, rulesOf(t, lifecycle), kind)
		assert.Contains(t, lifecycle.Dependencies, versioning.URN, "%s: non-current rules need versioning first", kind)
	}

	backup := rulesOf(t, find(t, result, lifecycleType, objectstore.BackupKind))
	expire := rule{ID: "expire-current-objects", ExpireDays: 30}
	assert.Equal(t, map[string]rule{abort.ID: abort, noncurrent.ID: noncurrent, expire.ID: expire}, backup,
		"backups are kept 30 days, then 30 more as non-current versions; no staged uploads there")
	assert.Equal(t, "Enabled", find(t, result, versioningType, objectstore.BackupKind).InputString("versioningConfiguration.status"))
}

func TestRetentionIsTheCallersChoice(t *testing.T) {
	args := validArgs()
	args.NoncurrentVersionDays, args.BackupRetentionDays = 7, 90
	result, _ := build(t, args)
	backup := rulesOf(t, find(t, result, lifecycleType, objectstore.BackupKind))
	assert.Equal(t, 90, backup["expire-current-objects"].ExpireDays)
	assert.Equal(t, 7, backup["expire-noncurrent-versions"].NoncurrentDays)
	assert.Equal(t, 7, rulesOf(t, find(t, result, lifecycleType, "lfs"))["expire-noncurrent-versions"].NoncurrentDays)
}

func bucketNames(t *testing.T, s *objectstorage.S3) map[string]string {
	t.Helper()
	names := awstest.Value(t, s.Buckets).(map[string]string)
	names[objectstore.BackupKind] = awstest.Value(t, s.BackupBucket).(string)
	return names
}

func TestBucketNamesComeFromTheStackAndTwoStacksNeverShareOne(t *testing.T) {
	_, dev := build(t, validArgs(), componenttest.WithStack("gitlab-ha", "dev"))
	_, prod := build(t, validArgs(), componenttest.WithStack("gitlab-ha", "prod"))
	devNames, prodNames := bucketNames(t, dev), bucketNames(t, prod)
	require.Len(t, devNames, len(objectstore.Types)+1)
	seen := map[string]string{}
	for typ, name := range devNames {
		kind := objectstore.Kind(typ)
		assert.Regexp(t, regexp.MustCompile(`^gitlab-ha-dev-`+kind+`-[0-9a-f]{8}$`), name)
		assert.Regexp(t, regexp.MustCompile(`^gitlab-ha-prod-`+kind+`-[0-9a-f]{8}$`), prodNames[typ])
		seen[name] = "dev"
	}
	for _, name := range prodNames {
		assert.NotContains(t, seen, name, "prod reuses a dev bucket")
	}

	long := strings.Repeat("Very_Long.Project", 3)
	_, s := build(t, validArgs(), componenttest.WithStack(long, "Production-EU-West"))
	for _, name := range bucketNames(t, s) {
		assert.LessOrEqual(t, len(name), 63, name)
		assert.Regexp(t, `^[a-z0-9][a-z0-9-]*[a-z0-9]$`, name)
	}
}

func TestANamePrefixOfTheCallersOwnIsUsedAsGiven(t *testing.T) {
	args := validArgs()
	args.NamePrefix = "acme-gitlab"
	_, s := build(t, args)
	assert.Regexp(t, `^acme-gitlab-uploads-[0-9a-f]{8}$`, bucketNames(t, s)["uploads"])
}

// rolePolicy returns the role named <component>-<which> and its inline policy.
func rolePolicy(t *testing.T, result *componenttest.Result, which string) (componenttest.Resource, awstest.PolicyDocument) {
	t.Helper()
	role, ok := result.Find(roleType, "gitlab-objects-"+which)
	require.True(t, ok)
	policy, ok := result.Find(rolePolicyType, "gitlab-objects-"+which)
	require.True(t, ok)
	roleName, _ := role.Output("name")
	assert.Equal(t, roleName, policy.InputString("role"))
	return role, awstest.ParsePolicy(t, policy.InputString("policy"))
}

func TestEachRoleTrustsOnlyItsServiceAccountInItsNamespace(t *testing.T) {
	args := validArgs()
	args.Namespace = "git"
	result, _ := build(t, args)
	host := strings.TrimPrefix(issuer, "https://")
	for which, subject := range map[string]string{
		"gitlab": "system:serviceaccount:git:gitlab",
		"backup": "system:serviceaccount:git:gitlab-backup",
	} {
		role, _ := rolePolicy(t, result, which)
		trust := awstest.ParsePolicy(t, role.InputString("assumeRolePolicy"))
		require.Len(t, trust.Statement, 1, which)
		st := trust.Statement[0]
		assert.Equal(t, "Allow", st.Effect)
		assert.Equal(t, map[string]any{"Federated": providerARN}, st.Principal, which)
		assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, awstest.PolicyStrings(st.Action), which)
		assert.Equal(t, map[string]map[string]any{"StringEquals": {
			host + ":sub": subject,
			host + ":aud": "sts.amazonaws.com",
		}}, st.Condition, "%s: exact subject and audience, no wildcard", which)
	}
}

func TestEachRoleReachesOnlyItsBucketsAndTheKeyThroughS3(t *testing.T) {
	result, s := build(t, validArgs())
	names := awstest.Value(t, s.Buckets).(map[string]string)
	var objectBuckets []string
	for _, name := range names {
		objectBuckets = append(objectBuckets, "arn:aws:s3:::"+name)
	}
	sort.Strings(objectBuckets)
	backupBucket := "arn:aws:s3:::" + awstest.Value(t, s.BackupBucket).(string)
	keyARN := awstest.Value(t, s.KMSKeyARN).(string)

	for which, want := range map[string]struct {
		buckets []string
		actions []string
	}{
		"gitlab": {objectBuckets, []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"}},
		"backup": {[]string{backupBucket}, []string{"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"}},
	} {
		_, doc := rolePolicy(t, result, which)
		require.Len(t, doc.Statement, 3, which)
		var objects []string
		for _, b := range want.buckets {
			objects = append(objects, b+"/*")
		}
		for _, st := range doc.Statement {
			assert.Equal(t, "Allow", st.Effect)
			for _, r := range awstest.PolicyStrings(st.Resource) {
				assert.NotContains(t, r, "*/", "%s: no wildcard bucket", which)
				assert.NotEqual(t, "*", r, which)
			}
		}
		list, use, key := doc.Statement[0], doc.Statement[1], doc.Statement[2]
		assert.Equal(t, []string{"s3:ListBucket"}, awstest.PolicyStrings(list.Action), which)
		assert.Equal(t, want.buckets, awstest.PolicyStrings(list.Resource), which)
		assert.Equal(t, want.actions, awstest.PolicyStrings(use.Action), which)
		assert.Equal(t, objects, awstest.PolicyStrings(use.Resource), which)
		assert.Equal(t, []string{"kms:Decrypt", "kms:GenerateDataKey"}, awstest.PolicyStrings(key.Action), which)
		assert.Equal(t, []string{keyARN}, awstest.PolicyStrings(key.Resource), which)
		assert.Equal(t, "s3.eu-west-1.amazonaws.com", key.Condition["StringEquals"]["kms:ViaService"], which)
	}
}

func TestNoAccessKeyExistsAnywhere(t *testing.T) {
	result, _ := build(t, validArgs())
	for _, r := range result.Resources {
		assert.NotContains(t, []string{"aws:iam/user:User", "aws:iam/accessKey:AccessKey"}, r.Type, "identities come from the cluster, never from keys")
	}
}

func TestOutputsHaveWhatGitLabsConfigurationNeeds(t *testing.T) {
	_, s := build(t, validArgs())
	names := awstest.Value(t, s.Buckets).(map[string]string)
	var types []string
	for typ := range names {
		types = append(types, typ)
	}
	var want []string
	for _, typ := range objectstore.Types {
		want = append(want, typ.Name)
	}
	assert.ElementsMatch(t, want, types, "keys in GitLab's spelling")
	assert.Equal(t, awstest.Region, awstest.Value(t, s.Region))
	assert.Regexp(t, `^arn:aws:iam::123456789012:role/gitlab-objects-gitlab`, awstest.Value(t, s.RoleARN))
	assert.Regexp(t, `^arn:aws:iam::123456789012:role/gitlab-objects-backup`, awstest.Value(t, s.BackupRoleARN))
	assert.Regexp(t, `^arn:aws:kms:eu-west-1:123456789012:key/`, awstest.Value(t, s.KMSKeyARN))
}

func TestProtectGuardsBucketsAndKeyAndKeepsTheirSettingsWithThem(t *testing.T) {
	settings := map[string]bool{ownershipType: true, publicAccessType: true, encryptionType: true, policyType: true,
		versioningType: true, lifecycleType: true}
	args := validArgs()
	args.Protect = true
	result, _ := build(t, args)
	for _, r := range result.Resources {
		guarded := r.Type == bucketType || r.Type == keyType
		assert.Equal(t, guarded, r.Protect, "%s %s", r.Type, r.Name)
		assert.Equal(t, guarded || settings[r.Type], r.RetainOnDelete, "%s %s", r.Type, r.Name)
	}
	unprotected, _ := build(t, validArgs())
	for _, r := range unprotected.Resources {
		assert.False(t, r.Protect || r.RetainOnDelete, "%s %s", r.Type, r.Name)
	}
}

func TestForceDestroyIsANamedChoice(t *testing.T) {
	args := validArgs()
	args.ForceDestroy = true
	result, _ := build(t, args)
	for _, bucket := range result.OfType(bucketType) {
		assert.Equal(t, true, bucket.Inputs["forceDestroy"].V, bucket.Name)
	}
}

func TestEveryChildIsParentedTaggedAndUsesTheGivenProvider(t *testing.T) {
	result, _ := build(t, validArgs())
	component, ok := result.Find(objectstorage.S3TypeToken, "gitlab-objects")
	require.True(t, ok)
	children := awstest.CheckComponent(t, result, component.URN)
	buckets := len(objectstore.Types) + 1
	versioned := buckets - 1 // all but the dependency proxy's
	assert.Len(t, children, 1+1+buckets*6+versioned+2*2,
		"suffix, key, per bucket 6 (bucket, ownership, block, policy, encryption, lifecycle), versioning, two roles with their policies")
}

func TestAProviderOfAnotherIssuerFailsTheDeployment(t *testing.T) {
	args := &objectstorage.S3Args{
		// Outputs, as a cluster component gives them: checked when known.
		OIDCProviderARN: pulumi.String(strings.Replace(providerARN, "0123", "9999", 1)).ToStringOutput(),
		OIDCIssuer:      pulumi.String(issuer).ToStringOutput(),
	}
	result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		_, err := objectstorage.NewS3(ctx, "gitlab-objects", args, pulumi.Provider(provider))
		return err
	})
	require.Error(t, result.Err)
	assert.Contains(t, result.Err.Error(), "is not the IAM OIDC provider of issuer "+issuer)
}

func TestBadArgsGiveOneClearErrorAndRegisterNothing(t *testing.T) {
	cases := []struct {
		name string
		edit func(*objectstorage.S3Args)
		want string
	}{
		{"no provider", func(a *objectstorage.S3Args) { a.OIDCProviderARN = nil }, "oidcProviderArn: is required"},
		{"provider not an ARN", func(a *objectstorage.S3Args) { a.OIDCProviderARN = pulumi.String("oidc.eks.eu-west-1.amazonaws.com") },
			`oidcProviderArn: "oidc.eks.eu-west-1.amazonaws.com" is not an IAM OIDC provider ARN`},
		{"no issuer", func(a *objectstorage.S3Args) { a.OIDCIssuer = pulumi.String("") }, "oidcIssuer: is required"},
		{"issuer not https", func(a *objectstorage.S3Args) { a.OIDCIssuer = pulumi.String("oidc.eks.eu-west-1.amazonaws.com/id/X") },
			`oidcIssuer: "oidc.eks.eu-west-1.amazonaws.com/id/X" is not an https:// issuer URL`},
		{"provider of another issuer", func(a *objectstorage.S3Args) {
			a.OIDCIssuer = pulumi.String("https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER")
		},
			`oidcProviderArn: "` + providerARN + `" is not the IAM OIDC provider of issuer https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER`},
		{"bad namespace", func(a *objectstorage.S3Args) { a.Namespace = "GitLab" }, `namespace: "GitLab" is not a valid DNS label`},
		{"bad service account", func(a *objectstorage.S3Args) { a.ServiceAccount = "gitlab_web" }, `serviceAccount: "gitlab_web" is not a valid DNS label`},
		{"one identity for both", func(a *objectstorage.S3Args) { a.BackupServiceAccount = "gitlab" },
			`backupServiceAccount: "gitlab" is also serviceAccount`},
		{"prefix too long", func(a *objectstorage.S3Args) { a.NamePrefix = strings.Repeat("a", 38) }, "namePrefix: \"" + strings.Repeat("a", 38) + "\" is not a bucket name prefix"},
		{"prefix with capitals", func(a *objectstorage.S3Args) { a.NamePrefix = "GitLab" }, `namePrefix: "GitLab" is not a bucket name prefix`},
		{"reserved prefix", func(a *objectstorage.S3Args) { a.NamePrefix = "xn--gitlab" }, `namePrefix: "xn--gitlab" starts with "xn--"`},
		{"negative noncurrent days", func(a *objectstorage.S3Args) { a.NoncurrentVersionDays = -1 }, "noncurrentVersionDays: -1 is outside 1-36500"},
		{"retention beyond a century", func(a *objectstorage.S3Args) { a.BackupRetentionDays = 40000 }, "backupRetentionDays: 40000 is outside 1-36500"},
		{"force destroy and protect", func(a *objectstorage.S3Args) { a.ForceDestroy, a.Protect = true, true }, "forceDestroy: true contradicts protect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := validArgs()
			tc.edit(args)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := objectstorage.NewS3(ctx, "gitlab-objects", args)
				return err
			}, fmt.Sprintf("objectstorage %q: %s", "gitlab-objects", tc.want))
			assert.Error(t, objectstorage.ValidateS3(args, componenttest.DefaultProject, componenttest.DefaultStack))
		})
	}
}
