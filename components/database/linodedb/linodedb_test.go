package linodedb_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/database/linodedb"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
)

func TestLinodePostgresIsThreeNodesAdmittingOnlyTheClusterAndShapedLikeRDS(t *testing.T) {
	var db *linodedb.LinodePostgres
	result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		db, err = linodedb.NewLinodePostgres(ctx, "gitlab-db", &linodedb.LinodePostgresArgs{
			Region: linodetest.Region, AllowedCIDRs: []string{"10.0.0.0/24"},
		}, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	instance := result.OfType("linode:index/databasePostgresqlV2:DatabasePostgresqlV2")[0]
	assert.Equal(t, "postgresql/16", instance.InputString("engineId"))
	assert.Equal(t, float64(3), instance.Inputs["clusterSize"].V)
	assert.Equal(t, []any{"10.0.0.0/24"}, instance.MustInput(t, "allowLists"))

	var endpoint linodedb.Endpoint = db.Endpoint // the GitLab component takes either platform's
	password, err := componenttest.Await(endpoint.Password)
	require.NoError(t, err)
	assert.True(t, password.Secret)
	host, _ := componenttest.Await(endpoint.Address)
	assert.Contains(t, host.Value, "akamaidb.net")
	name, _ := componenttest.Await(endpoint.DatabaseName)
	assert.Equal(t, "defaultdb", name.Value)
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
