package linodedb_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/database/linodedb"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
)

const postgresType = "linode:index/databasePostgresqlV2:DatabasePostgresqlV2"

func postgresArgs() *linodedb.LinodePostgresArgs {
	return &linodedb.LinodePostgresArgs{
		Region: linodetest.Region, NodeAddresses: pulumi.ToStringArray([]string{"198.51.100.7", "198.51.100.3"}),
		ClientCIDRs: []string{"203.0.113.0/24"},
	}
}

func buildPostgres(t *testing.T, args *linodedb.LinodePostgresArgs, options ...componenttest.Option) (*componenttest.Result, *linodedb.LinodePostgres) {
	t.Helper()
	var db *linodedb.LinodePostgres
	result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		db, err = linodedb.NewLinodePostgres(ctx, "gitlab-db", args, pulumi.Provider(provider))
		return err
	}, options...)
	return result, db
}

// hostsAnswer plays the provider for a database whose API response carries the given hosts object.
func hostsAnswer(api map[string]string) componenttest.Answer {
	return func(req componenttest.Request) (string, resource.PropertyMap, error) {
		outputs := req.Inputs.Copy()
		for key, value := range componenttest.LinodeDatabaseHosts(api) {
			outputs[resource.PropertyKey(key)] = resource.NewStringProperty(value)
		}
		outputs["id"] = resource.NewStringProperty("4242")
		outputs["port"] = resource.NewNumberProperty(25696)
		outputs["sslConnection"] = resource.NewBoolProperty(true)
		return "4242", outputs, nil
	}
}

func TestLinodePostgresAdmitsTheNodesAndConnectsToThePrimary(t *testing.T) {
	result, db := buildPostgres(t, postgresArgs())
	require.NoError(t, result.Err)
	instance := result.OfType(postgresType)[0]
	assert.Equal(t, "postgresql/16", instance.InputString("engineId"))
	assert.Equal(t, float64(3), instance.Inputs["clusterSize"].V)
	assert.Equal(t, []any{"198.51.100.3/32", "198.51.100.7/32", "203.0.113.0/24"}, instance.MustInput(t, "allowLists"),
		"each node's public address alone, then the clients' networks")
	assert.Equal(t, []string{"allowLists"}, instance.IgnoreChanges, "after create the allow-list is the reconciler's")
	assert.Regexp(t, `^test-gitlab-db-[0-9a-f]{6}$`, instance.InputString("label"))

	var endpoint linodedb.Endpoint = db.Endpoint // the GitLab component takes either platform's
	password, err := componenttest.Await(endpoint.Password)
	require.NoError(t, err)
	assert.True(t, password.Secret)
	host, _ := componenttest.Await(endpoint.Address)
	assert.Equal(t, instance.Outputs["hostPrimary"].StringValue(), host.Value, "GitLab writes to the primary")
	assert.Empty(t, instance.Outputs["hostSecondary"].StringValue(), "the API reports primary and standby, no secondary")
	name, _ := componenttest.Await(endpoint.DatabaseName)
	assert.Equal(t, "defaultdb", name.Value)
}

// Today's API reports "primary" and "standby": the database is usable, and GitLab never gets the standby.
func TestADatabaseReportingPrimaryAndStandbyGivesGitLabThePrimary(t *testing.T) {
	result, db := buildPostgres(t, postgresArgs(), componenttest.WithAnswer(postgresType,
		hostsAnswer(map[string]string{"primary": "a4242-akamai-prod-1.g2a.akamaidb.net", "standby": "replica-a4242-akamai-prod-1.g2a.akamaidb.net"})))
	require.NoError(t, result.Err)
	host := componenttest.MustAwait(t, db.Address)
	assert.Equal(t, "a4242-akamai-prod-1.g2a.akamaidb.net", host.Value)
}

func TestADatabaseWithoutAPrimaryHostFailsClearly(t *testing.T) {
	for what, api := range map[string]map[string]string{
		"neither host":  {},
		"standby alone": {"standby": "replica-a4242-akamai-prod-1.g2a.akamaidb.net"},
	} {
		result, _ := buildPostgres(t, postgresArgs(), componenttest.WithAnswer(postgresType, hostsAnswer(api)))
		require.Error(t, result.Err, what)
		assert.Contains(t, result.Err.Error(), `database "gitlab-db": Linode reports no primary host`, what)
	}
}

// The hosts are public: a database that took plain-text connections would not do.
func TestADatabaseThatDoesNotRequireTLSFailsTheUpdate(t *testing.T) {
	withoutTLS := func(req componenttest.Request) (string, resource.PropertyMap, error) {
		id, outputs, err := hostsAnswer(map[string]string{"primary": "a4242.akamaidb.net"})(req)
		outputs["sslConnection"] = resource.NewBoolProperty(false)
		return id, outputs, err
	}
	result, _ := buildPostgres(t, postgresArgs(), componenttest.WithAnswer(postgresType, withoutTLS))
	require.Error(t, result.Err)
	assert.Contains(t, result.Err.Error(), `database "gitlab-db": Linode reports sslConnection false`)
}

func TestLinodePostgresBadArgs(t *testing.T) {
	nodes := pulumi.ToStringArray([]string{"198.51.100.7"})
	for want, args := range map[string]*linodedb.LinodePostgresArgs{
		"clusterSize: 2 is not 1 or 3":                                 {Region: "eu-central", ClusterSize: 2, NodeAddresses: nodes},
		`clientCidrs[0]: "0.0.0.0/0" opens the service`:                {Region: "eu-central", NodeAddresses: nodes, ClientCIDRs: []string{"0.0.0.0/0"}},
		`clientCidrs[0]: "192.168.128.0/17" overlaps 192.168.0.0/16`:   {Region: "eu-central", NodeAddresses: nodes, ClientCIDRs: []string{"192.168.128.0/17"}},
		`clientCidrs[1]: "10.2.0.0/16" overlaps 10.0.0.0/8`:            {Region: "eu-central", NodeAddresses: nodes, ClientCIDRs: []string{"203.0.113.0/24", "10.2.0.0/16"}},
		"nodeAddresses: is required":                                   {Region: "eu-central"},
		`nodeAddresses[0]: "192.168.130.4" is not a public IPv4`:       {Region: "eu-central", NodeAddresses: pulumi.ToStringArray([]string{"192.168.130.4"})},
		`engineVersion: "15" is not a PostgreSQL major`:                {Region: "eu-central", EngineVersion: "15", NodeAddresses: nodes},
		`region: "frankfurt" is not a Linode region`:                   {Region: "frankfurt", NodeAddresses: nodes},
		`clientCidrs[0]: "2001:db8::/32" is not an IPv4 range`:         {Region: "eu-central", NodeAddresses: nodes, ClientCIDRs: []string{"2001:db8::/32"}},
		`clientCidrs[0]: "100.64.0.0/10" overlaps 100.64.0.0/10`:       {Region: "eu-central", NodeAddresses: nodes, ClientCIDRs: []string{"100.64.0.0/10"}},
		`clientCidrs[0]: "not-a-cidr"`:                                 {Region: "eu-central", NodeAddresses: nodes, ClientCIDRs: []string{"not-a-cidr"}},
		`clientCidrs[0]: "172.16.4.0/24" overlaps 172.16.0.0/12, from`: {Region: "eu-central", NodeAddresses: nodes, ClientCIDRs: []string{"172.16.4.0/24"}},
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			_, err := linodedb.NewLinodePostgres(ctx, "gitlab-db", args)
			return err
		}, want)
	}
}
