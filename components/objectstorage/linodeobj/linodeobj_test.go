package linodeobj_test

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
	"github.com/gitlab-ha/gitlab-ha/components/objectstorage/linodeobj"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
	"github.com/gitlab-ha/gitlab-ha/internal/objectstore"
)

const (
	bucketType = "linode:index/objectStorageBucket:ObjectStorageBucket"
	keyType    = "linode:index/objectStorageKey:ObjectStorageKey"
)

func build(t *testing.T, args *linodeobj.LinodeObjectStorageArgs, options ...componenttest.Option) (*componenttest.Result, *linodeobj.LinodeObjectStorage) {
	t.Helper()
	var o *linodeobj.LinodeObjectStorage
	result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		o, err = linodeobj.NewLinodeObjectStorage(ctx, "gitlab-objects", args, pulumi.Provider(provider))
		return err
	}, options...)
	require.NoError(t, result.Err)
	return result, o
}

func labels(t *testing.T, o *linodeobj.LinodeObjectStorage) map[string]string {
	t.Helper()
	out := componenttest.MustAwait(t, o.Buckets).Value.(map[string]string)
	out[objectstore.BackupKind] = componenttest.MustAwait(t, o.BackupBucket).Value.(string)
	return out
}

func TestEveryBucketIsPrivateInTheRegionNamedByKindAndStack(t *testing.T) {
	result, o := build(t, &linodeobj.LinodeObjectStorageArgs{Region: linodetest.Region})
	buckets := result.OfType(bucketType)
	require.Len(t, buckets, len(objectstore.Types)+1)
	for _, bucket := range buckets {
		assert.Equal(t, "private", bucket.InputString("acl"), bucket.Name)
		assert.Equal(t, false, bucket.Inputs["corsEnabled"].V, bucket.Name)
		assert.Equal(t, linodetest.Region, bucket.InputString("region"), bucket.Name)
		_, cluster := bucket.Input("cluster")
		assert.False(t, cluster, "%s: region, not the deprecated cluster", bucket.Name)
	}
	for typ, label := range labels(t, o) {
		assert.Regexp(t, regexp.MustCompile(`^gitlab-ha-test-`+objectstore.Kind(typ)+`-[0-9a-f]{8}$`), label)
	}
	assert.Equal(t, linodetest.Region, componenttest.MustAwait(t, o.Region).Value)
	assert.Equal(t, "https://eu-central-1.linodeobjects.com", componenttest.MustAwait(t, o.Endpoint).Value)
}

func TestTwoStacksNeverShareABucket(t *testing.T) {
	_, dev := build(t, &linodeobj.LinodeObjectStorageArgs{Region: linodetest.Region}, componenttest.WithStack("gitlab-ha", "dev"))
	_, prod := build(t, &linodeobj.LinodeObjectStorageArgs{Region: linodetest.Region}, componenttest.WithStack("gitlab-ha", "prod"))
	devLabels := map[string]bool{}
	for _, label := range labels(t, dev) {
		devLabels[label] = true
		assert.Contains(t, label, "-dev-")
	}
	for _, label := range labels(t, prod) {
		assert.False(t, devLabels[label], "prod reuses dev's %s", label)
	}
}

// access returns a key's bucket grants as "label region permission", sorted.
func access(t *testing.T, key componenttest.Resource) []string {
	t.Helper()
	var out []string
	for _, e := range key.MustInput(t, "bucketAccesses").([]any) {
		grant := e.(map[string]any)
		out = append(out, fmt.Sprintf("%s %s %s", grant["bucketName"], grant["region"], grant["permissions"]))
	}
	sort.Strings(out)
	return out
}

func TestEachKeyReadsAndWritesOnlyItsBuckets(t *testing.T) {
	result, o := build(t, &linodeobj.LinodeObjectStorageArgs{Region: linodetest.Region})
	names := labels(t, o)
	var objectGrants []string
	for _, typ := range objectstore.Types {
		objectGrants = append(objectGrants, names[typ.Name]+" eu-central read_write")
	}
	sort.Strings(objectGrants)

	for which, want := range map[string][]string{
		"gitlab": objectGrants,
		"backup": {names[objectstore.BackupKind] + " eu-central read_write"},
	} {
		key, ok := result.Find(keyType, "gitlab-objects-"+which)
		require.True(t, ok, which)
		assert.Equal(t, want, access(t, key), which)
		_, regions := key.Input("regions")
		assert.False(t, regions, "%s: a key with regions may create buckets there", which)
		limited, _ := key.Output("limited")
		assert.Equal(t, true, limited, which)
		assert.Equal(t, "gitlab-ha-test-"+which, key.InputString("label"))
	}
	assert.Len(t, result.OfType(keyType), 2)
}

func TestTheSecretKeysStaySecretEverywhere(t *testing.T) {
	result, o := build(t, &linodeobj.LinodeObjectStorageArgs{Region: linodetest.Region})
	var secrets []string
	for _, out := range []pulumi.StringOutput{o.SecretAccessKey, o.BackupSecretAccessKey} {
		got := componenttest.MustAwait(t, out)
		assert.True(t, got.Secret)
		assert.Len(t, got.Value, 40)
		secrets = append(secrets, got.Value.(string))
	}
	assert.NotEqual(t, secrets[0], secrets[1], "two keys, two secrets")
	assert.Empty(t, result.PlaintextLeaks(secrets...))
	assert.Regexp(t, `^[0-9A-F]{20}$`, componenttest.MustAwait(t, o.AccessKeyID).Value)
}

func TestProtectGuardsTheBucketsOnly(t *testing.T) {
	result, _ := build(t, &linodeobj.LinodeObjectStorageArgs{Region: linodetest.Region, Protect: true})
	for _, r := range result.Resources {
		assert.Equal(t, r.Type == bucketType, r.Protect, "%s %s", r.Type, r.Name)
		assert.Equal(t, r.Type == bucketType, r.RetainOnDelete, "%s %s", r.Type, r.Name)
	}
}

func TestEveryChildIsParentedAndUsesTheGivenProvider(t *testing.T) {
	result, _ := build(t, &linodeobj.LinodeObjectStorageArgs{Region: linodetest.Region})
	component, ok := result.Find(linodeobj.TypeToken, "gitlab-objects")
	require.True(t, ok)
	provider, ok := result.Find("pulumi:providers:linode", "linode")
	require.True(t, ok)
	children := result.ChildrenOf(component.URN)
	assert.Len(t, children, 1+len(objectstore.Types)+1+2, "suffix, a bucket per type and for backups, two keys")
	for _, r := range children {
		if strings.HasPrefix(r.Type, "linode:") {
			assert.Equal(t, provider.URN+"::"+provider.ID, r.Provider, "%s %s", r.Type, r.Name)
		}
	}
	assert.Equal(t, 1, result.OutputsRegistered)
}

func TestBadArgsGiveOneClearErrorAndRegisterNothing(t *testing.T) {
	for want, args := range map[string]*linodeobj.LinodeObjectStorageArgs{
		`region: "frankfurt" is not a Linode region`:           {Region: "frankfurt"},
		`region: "" is not a Linode region`:                    {},
		`namePrefix: "Acme" is not a bucket name prefix`:       {Region: "eu-central", NamePrefix: "Acme"},
		`namePrefix: "sthree-acme" starts with "sthree-"`:      {Region: "eu-central", NamePrefix: "sthree-acme"},
		`namePrefix: "` + strings.Repeat("a", 38) + `" is not`: {Region: "eu-central", NamePrefix: strings.Repeat("a", 38)},
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			_, err := linodeobj.NewLinodeObjectStorage(ctx, "gitlab-objects", args)
			return err
		}, `objectstorage "gitlab-objects": `+want)
		assert.Error(t, linodeobj.Validate(args, componenttest.DefaultProject, componenttest.DefaultStack), want)
	}
}
