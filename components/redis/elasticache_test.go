package redis_test

import (
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/redis"
	"github.com/gitlab-ha/gitlab-ha/internal/awstest"
)

const groupType = "aws:elasticache/replicationGroup:ReplicationGroup"

func threeZones() *redis.ElastiCacheArgs {
	return &redis.ElastiCacheArgs{
		VpcID: pulumi.String("vpc-1"), ClientSecurityGroupID: pulumi.String("sg-nodes"),
		Zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
		SubnetIDs: map[string]pulumi.StringInput{
			"eu-west-1a": pulumi.String("subnet-a"), "eu-west-1b": pulumi.String("subnet-b"), "eu-west-1c": pulumi.String("subnet-c"),
		},
	}
}

func build(t *testing.T, args *redis.ElastiCacheArgs) (*componenttest.Result, *redis.ElastiCache) {
	t.Helper()
	var r *redis.ElastiCache
	result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		r, err = redis.NewElastiCache(ctx, "gitlab-redis", args, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	return result, r
}

func TestANodeInEveryZoneWithAutomaticFailoverAndEncryptionEverywhere(t *testing.T) {
	result, r := build(t, threeZones())
	group := result.OfType(groupType)[0]
	assert.Equal(t, float64(3), group.Inputs["numCacheClusters"].V)
	assert.Equal(t, []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, group.MustInput(t, "preferredCacheClusterAzs"))
	for _, flag := range []string{"automaticFailoverEnabled", "multiAzEnabled", "atRestEncryptionEnabled", "transitEncryptionEnabled"} {
		assert.Equal(t, true, group.MustInput(t, flag), flag)
	}
	assert.Regexp(t, `^master\.`, awstest.Value(t, r.PrimaryEndpoint))
	assert.Equal(t, 6379, awstest.Value(t, r.Port))
}

func TestTheAuthTokenIsSecretEverywhere(t *testing.T) {
	result, r := build(t, threeZones())
	token, _ := result.OfType("random:index/randomPassword:RandomPassword")[0].Output("result")
	assert.Len(t, token, 64)
	assert.Empty(t, result.PlaintextLeaks(token.(string)))
	assert.True(t, result.OfType(groupType)[0].InputIsSecret("authToken"))
	got, err := componenttest.Await(r.AuthToken)
	require.NoError(t, err)
	assert.True(t, got.Secret)
}

func TestOnlyTheNodesMayConnectAndOnlyToRedis(t *testing.T) {
	result, _ := build(t, threeZones())
	rules := result.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
	require.Len(t, rules, 1)
	assert.Equal(t, "sg-nodes", rules[0].InputString("referencedSecurityGroupId"))
	assert.Equal(t, float64(6379), rules[0].Inputs["fromPort"].V)
	assert.Equal(t, float64(6379), rules[0].Inputs["toPort"].V)
	assert.Empty(t, result.OfType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"))
}

func TestEveryChildIsParentedTaggedAndUsesTheGivenProvider(t *testing.T) {
	result, _ := build(t, threeZones())
	children := awstest.CheckComponent(t, result, result.Components()[0].URN)
	assert.Len(t, children, len(result.Resources)-2, "all but the provider and the component")
}

func TestBadArgsGiveOneClearErrorAndRegisterNothing(t *testing.T) {
	cases := []struct {
		name string
		edit func(*redis.ElastiCacheArgs)
		want string
	}{
		{"one zone cannot fail over", func(a *redis.ElastiCacheArgs) { a.Zones = a.Zones[:1] }, "zones: 1 zones given; at least 2 needed"},
		{"zone without subnet", func(a *redis.ElastiCacheArgs) { delete(a.SubnetIDs, "eu-west-1b") }, `subnetIds["eu-west-1b"]: is required`},
		{"no client group", func(a *redis.ElastiCacheArgs) { a.ClientSecurityGroupID = nil }, "clientSecurityGroupId: is required"},
		{"bad node type", func(a *redis.ElastiCacheArgs) { a.NodeType = "m6g.large" }, `nodeType: "m6g.large"`},
		{"retention too long", func(a *redis.ElastiCacheArgs) { a.SnapshotRetentionDays = pulumi.IntRef(40) }, "snapshotRetentionDays: 40 is outside 0-35"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := threeZones()
			tc.edit(args)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := redis.NewElastiCache(ctx, "gitlab-redis", args)
				return err
			}, fmt.Sprintf("redis %q: %s", "gitlab-redis", tc.want))
		})
	}
}
