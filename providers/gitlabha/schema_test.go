package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/providers/gitlabha/componentpkg"
)

// root is the module's folder, from this package's.
const root = "../.."

func TestSchemaJSONIsGeneratedFromTheComponentsGoTypes(t *testing.T) {
	pkg, err := componentpkg.Schema(root)
	require.NoError(t, err)
	generated, err := pkg.JSON()
	require.NoError(t, err)
	committed, err := os.ReadFile(filepath.Join(root, "providers/gitlabha/schema.json"))
	require.NoError(t, err)
	if string(generated) != string(committed) {
		t.Fatal("providers/gitlabha/schema.json is not what the components' Args generate: run `make package` and commit the result")
	}
}

func TestEveryComponentIsInTheSchemaWithItsArgsAsInputs(t *testing.T) {
	pkg, err := componentpkg.Schema(root)
	require.NoError(t, err)
	require.Len(t, pkg.Resources, len(componentpkg.Components))
	gitlab := pkg.Resources["gitlab-ha:gitlab:GitLab"]
	assert.True(t, gitlab.IsComponent)

	zones := gitlab.InputProperties["zones"]
	assert.Equal(t, "array", zones.Type)
	assert.True(t, zones.Plain, "zones are plain values: each names resources")
	assert.Equal(t, "#/types/gitlab-ha:gitlab:Zone", zones.Items.Ref)

	url := gitlab.InputProperties["externalURL"]
	assert.Equal(t, "string", url.Type)
	assert.False(t, url.Plain, "a pulumi.StringInput takes an output")
	assert.Contains(t, url.Description, "Required.")
	assert.Contains(t, gitlab.RequiredInputs, "externalURL")
	assert.Contains(t, gitlab.RequiredInputs, "database")
	assert.NotContains(t, gitlab.RequiredInputs, "redis")

	nfs := pkg.Types["gitlab-ha:gitlab:NFS"]
	assert.Equal(t, []string{"server"}, nfs.Required)
	assert.False(t, nfs.Properties["server"].Plain)
	assert.True(t, nfs.Properties["path"].Plain)
	assert.Contains(t, nfs.Properties["path"].Description, `Default "/".`)

	buckets := pkg.Types["gitlab-ha:gitlab:ObjectStorage"].Properties["buckets"]
	assert.True(t, buckets.Plain, "map[string]pulumi.StringInput: the map is plain")
	assert.False(t, buckets.AdditionalProperties.Plain, "its values take outputs")

	assert.Contains(t, gitlab.InputProperties["image"].Description, `Default "gitlab/gitlab-ce:`,
		"a constant the doc names is given by its value, which a program in another language must write")
	assert.Contains(t, pkg.Resources["gitlab-ha:database:LinodePostgres"].InputProperties["engineVersion"].Description,
		`Default "16"`, "through a constant of another package (postgres.DefaultEngineVersion)")

	assert.Contains(t, gitlab.Properties, "rootPassword")
	assert.NotContains(t, gitlab.Properties, "service", "child resources are not outputs")
	assert.Contains(t, pkg.Resources["gitlab-ha:database:RDS"].Properties, "password", "an embedded Endpoint's fields are outputs")

	_, lke := pkg.Types["gitlab-ha:cluster:LKENodeCounts"]
	assert.True(t, lke, "lke.NodeCounts is not cluster.NodeCounts")
}

func TestPropertyNamesAreTheNamesTheComponentsErrorsUse(t *testing.T) {
	for goName, want := range map[string]string{
		"VpcID": "vpcId", "PublicAccessCIDRs": "publicAccessCidrs", "SSLMode": "sslMode", "DiskSizeGiB": "diskSizeGiB",
		"ProvisionedThroughputMiBps": "provisionedThroughputMiBps", "KMSKeyID": "kmsKeyId", "OIDCProviderARN": "oidcProviderArn",
		"TLSSecretName": "tlsSecretName", "ClientSecurityGroupID": "clientSecurityGroupId", "NATStrategy": "natStrategy",
		"SubnetIDs": "subnetIds", "HTTPS": "https", "Zones": "zones", "ExternalURL": "externalURL", "VPCCNI": "vpcCni",
		"CoreDNS": "coreDns", "TransitionToIA": "transitionToIA", "GitLabURL": "gitLabURL", "KeepNFS": "keepNFS", "IPv4": "ipv4", "APIAllowedCIDRs": "apiAllowedCidrs",
	} {
		assert.Equal(t, want, componentpkg.PropertyName(goName), goName)
	}
}

// A component whose Args hold a Go type with no schema equivalent.
type badArgs struct {
	Zones    []string
	Progress chan int
}

type badComponent struct{ pulumi.ResourceState }

func newBad(*pulumi.Context, string, *badArgs, ...pulumi.ResourceOption) (*badComponent, error) {
	return nil, nil
}

func TestAGoTypeWithNoSchemaEquivalentFailsGenerationNamingTheField(t *testing.T) {
	_, err := componentpkg.SchemaOf(root, []componentpkg.Component{componentpkg.NewComponent("gitlab-ha:test:Bad", newBad)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "main.badArgs.Progress")
	assert.Contains(t, err.Error(), "chan int")
}
