package linodedb_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/database/linodedb"
	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
)

func buildPostgres(t *testing.T, options ...componenttest.Option) (*componenttest.Result, *linodedb.LinodePostgres) {
	t.Helper()
	var db *linodedb.LinodePostgres
	result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		db, err = linodedb.NewLinodePostgres(ctx, "gitlab-db", &linodedb.LinodePostgresArgs{
			Region: linodetest.Region, AllowedCIDRs: []string{linodekit.PrivateRange},
		}, pulumi.Provider(provider))
		return err
	}, options...)
	return result, db
}

func TestLinodePostgresIsThreeNodesOnThePrivateNetworkAndShapedLikeRDS(t *testing.T) {
	result, db := buildPostgres(t)
	require.NoError(t, result.Err)
	instance := result.OfType("linode:index/databasePostgresqlV2:DatabasePostgresqlV2")[0]
	assert.Equal(t, "postgresql/16", instance.InputString("engineId"))
	assert.Equal(t, float64(3), instance.Inputs["clusterSize"].V)
	assert.Equal(t, []any{"192.168.128.0/17"}, instance.MustInput(t, "allowLists"), "the private network, where every node's address is")
	assert.Regexp(t, `^test-gitlab-db-[0-9a-f]{6}$`, instance.InputString("label"))

	var endpoint linodedb.Endpoint = db.Endpoint // the GitLab component takes either platform's
	password, err := componenttest.Await(endpoint.Password)
	require.NoError(t, err)
	assert.True(t, password.Secret)
	host, _ := componenttest.Await(endpoint.Address)
	assert.Equal(t, instance.Outputs["hostSecondary"].StringValue(), host.Value, "GitLab connects to the private host")
	assert.NotEqual(t, instance.Outputs["hostPrimary"].StringValue(), host.Value)
	name, _ := componenttest.Await(endpoint.DatabaseName)
	assert.Equal(t, "defaultdb", name.Value)
}

// The allow-list admits the private network, which other customers' machines share: a database that took
// plain-text connections would not do.
func TestADatabaseThatDoesNotRequireTLSFailsTheUpdate(t *testing.T) {
	withoutTLS := func(req componenttest.Request) (string, resource.PropertyMap, error) {
		outputs := req.Inputs.Copy()
		outputs["id"] = resource.NewStringProperty("4242")
		outputs["hostPrimary"] = resource.NewStringProperty("a4242.akamaidb.net")
		outputs["hostSecondary"] = resource.NewStringProperty("private-a4242.akamaidb.net")
		outputs["port"] = resource.NewNumberProperty(25696)
		outputs["sslConnection"] = resource.NewBoolProperty(false)
		return "4242", outputs, nil
	}
	result, _ := buildPostgres(t, componenttest.WithAnswer("linode:index/databasePostgresqlV2:DatabasePostgresqlV2", withoutTLS))
	require.Error(t, result.Err)
	assert.Contains(t, result.Err.Error(), `database "gitlab-db": Linode reports sslConnection false`)
}

func TestLinodePostgresBadArgs(t *testing.T) {
	for want, args := range map[string]*linodedb.LinodePostgresArgs{
		"clusterSize: 2 is not 1 or 3":                   {Region: "eu-central", ClusterSize: 2, AllowedCIDRs: []string{"10.0.0.0/24"}},
		`allowedCidrs[0]: "0.0.0.0/0" opens the service`: {Region: "eu-central", AllowedCIDRs: []string{"0.0.0.0/0"}},
		"allowedCidrs: is empty":                         {Region: "eu-central"},
		`engineVersion: "15" is not a PostgreSQL major`:  {Region: "eu-central", EngineVersion: "15", AllowedCIDRs: []string{"10.0.0.0/24"}},
		`region: "frankfurt" is not a Linode region`:     {Region: "frankfurt", AllowedCIDRs: []string{"10.0.0.0/24"}},
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			_, err := linodedb.NewLinodePostgres(ctx, "gitlab-db", args)
			return err
		}, want)
	}
}
