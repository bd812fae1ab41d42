package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

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

func TestADurationIsAStringInGoSyntaxDocumentedAsSuch(t *testing.T) {
	pkg, err := componentpkg.Schema(root)
	require.NoError(t, err)
	monitoring := pkg.Resources["gitlab-ha:monitoring:Monitoring"]
	for name, property := range map[string]componentpkg.Property{
		"migrationDeadline":       monitoring.InputProperties["migrationDeadline"],
		"thresholds.zoneDownFor":  pkg.Types["gitlab-ha:monitoring:Thresholds"].Properties["zoneDownFor"],
		"thresholds.gitLatency":   pkg.Types["gitlab-ha:monitoring:Thresholds"].Properties["gitLatency"],
		"thresholds.backupMargin": pkg.Types["gitlab-ha:monitoring:Thresholds"].Properties["backupMargin"],
	} {
		assert.Equal(t, "string", property.Type, name)
		assert.True(t, property.Plain, "%s: a time.Duration is a Go value, not an input", name)
		assert.Contains(t, property.Description, `a string in Go's syntax (time.ParseDuration): "90s", "5m", "1h30m"`, name)
	}
	assert.Contains(t, pkg.Types["gitlab-ha:monitoring:Thresholds"].Properties["zoneDownFor"].Description, "Default 5m.",
		"the default, in the syntax the property takes")
	assert.NotContains(t, pkg.Types["gitlab-ha:monitoring:Thresholds"].Properties["errorRatio"].Description, "duration",
		"a float64 is no duration")
	assert.Contains(t, monitoring.RequiredInputs, "migrationDeadline")
	assert.Contains(t, monitoring.RequiredInputs, "namespace", `"Required (pass ...)" is required`)
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

// A component with a duration among its outputs.
type timedArgs struct{}

type timedComponent struct {
	pulumi.ResourceState

	// Interval is how often it runs.
	Interval time.Duration
}

func newTimed(*pulumi.Context, string, *timedArgs, ...pulumi.ResourceOption) (*timedComponent, error) {
	return nil, nil
}

func TestADurationOutputIsTheStringTheSchemaSays(t *testing.T) {
	pkg, err := componentpkg.SchemaOf(root, []componentpkg.Component{componentpkg.NewComponent("gitlab-ha:test:Timed", newTimed)})
	require.NoError(t, err)
	assert.Equal(t, "string", pkg.Resources["gitlab-ha:test:Timed"].Properties["interval"].Type)
	state, err := componentpkg.Outputs(&timedComponent{Interval: 90 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, pulumi.String("1m30s"), state["interval"])
}
