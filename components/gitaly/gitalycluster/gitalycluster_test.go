package gitalycluster_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly/gitalycluster"
)

func threeZones() *gitalycluster.GitalyClusterArgs {
	a := &gitalycluster.GitalyClusterArgs{
		VpcID: pulumi.String("vpc-1"), Zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
		SubnetIDs: map[string]pulumi.StringInput{}, GitLabAutoscalingGroups: map[string]pulumi.StringInput{},
		ClientSecurityGroupID: pulumi.String("sg-nodes"), GitLabNodePort: 30080, GitLabHealthCheckNodePort: 30056,
		Database: gitalycluster.Database{Host: pulumi.String("db.internal"), SecurityGroupID: pulumi.String("sg-db")},
		Version:  "18.11.11", Release: "ce.0", AMI: pulumi.String("ami-1"), Region: "eu-west-1", ParameterPrefix: "/gitlab-ha/prod",
	}
	for _, zone := range a.Zones {
		a.SubnetIDs[zone] = pulumi.String("subnet-" + zone)
		a.GitLabAutoscalingGroups[zone] = pulumi.String("asg-" + zone)
	}
	return a
}

func TestBadArgumentsAreRefusedNamingTheField(t *testing.T) {
	cases := map[string]struct {
		edit func(*gitalycluster.GitalyClusterArgs)
		want string
	}{
		"two zones":     {func(a *gitalycluster.GitalyClusterArgs) { a.Zones = a.Zones[:2] }, "zones: has 2 zones; Gitaly Cluster needs an odd number"},
		"four zones":    {func(a *gitalycluster.GitalyClusterArgs) { a.Zones = append(a.Zones, "eu-west-1d") }, "has 4 zones"},
		"no subnet":     {func(a *gitalycluster.GitalyClusterArgs) { delete(a.SubnetIDs, "eu-west-1b") }, `subnetIds["eu-west-1b"]`},
		"bad version":   {func(a *gitalycluster.GitalyClusterArgs) { a.Version = "18.11" }, `version: "18.11" is not a GitLab version`},
		"bad release":   {func(a *gitalycluster.GitalyClusterArgs) { a.Release = "0" }, `release: "0" is not a package release`},
		"no AMI":        {func(a *gitalycluster.GitalyClusterArgs) { a.AMI = nil }, "ami"},
		"bad prefix":    {func(a *gitalycluster.GitalyClusterArgs) { a.ParameterPrefix = "gitlab" }, `parameterPrefix: "gitlab" is not an SSM path`},
		"huge volume":   {func(a *gitalycluster.GitalyClusterArgs) { a.VolumeSizeGiB = 20000 }, "volumeSizeGiB: 20000 is outside"},
		"bad node port": {func(a *gitalycluster.GitalyClusterArgs) { a.GitLabNodePort = 80 }, "gitLabNodePort: 80 is outside"},
		"health port is the node port": {func(a *gitalycluster.GitalyClusterArgs) { a.GitLabHealthCheckNodePort = 30080 },
			"gitLabHealthCheckNodePort: 30080 is outside the node port range 30000-32767 or is gitLabNodePort"},
		"bad storage":    {func(a *gitalycluster.GitalyClusterArgs) { a.VirtualStorage = "my storage" }, `virtualStorage: "my storage"`},
		"no database SG": {func(a *gitalycluster.GitalyClusterArgs) { a.Database.SecurityGroupID = nil }, "database.securityGroupId"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a := threeZones()
			c.edit(a)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := gitalycluster.NewGitalyCluster(ctx, "gitaly-cluster", a)
				return err
			}, c.want)
		})
	}
}

func TestTheClusterIsOneComponentWithItsOutputsRegistered(t *testing.T) {
	var cluster *gitalycluster.GitalyCluster
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		var err error
		cluster, err = gitalycluster.NewGitalyCluster(ctx, "gitaly-cluster", threeZones())
		return err
	})
	require.NoError(t, result.Err)
	assert.Equal(t, len(result.Components()), result.OutputsRegistered)
	assert.Len(t, cluster.GitalyInstances, 3)
	assert.Len(t, cluster.PraefectInstances, 3)
	assert.Len(t, cluster.Ready(), 3)
	address := componenttest.MustAwait(t, cluster.Address)
	assert.Regexp(t, `^tcp://gitaly-cluster-[0-9a-f-]+\.elb\.[a-z0-9-]+\.amazonaws\.com:2305$`, address.Value)
	for _, secret := range []pulumi.StringOutput{cluster.ExternalToken, cluster.ShellSecret, cluster.DatabasePassword} {
		assert.True(t, componenttest.MustAwait(t, secret).Secret)
	}
	assert.Empty(t, result.UntaggedAWSResources("gitlab-ha:component"), "every AWS resource that takes tags is tagged")
}

// GitLab's Service keeps traffic on the node that receives it (externalTrafficPolicy Local): a node without a ready
// GitLab pod drops what reaches its node port. The internal API's target group asks kube-proxy on the Service's
// health-check port which nodes those are, so that Gitaly's and Praefect's calls reach only the others.
func TestTheInternalAPIReachesOnlyNodesWithAReadyGitLabPod(t *testing.T) {
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		_, err := gitalycluster.NewGitalyCluster(ctx, "gitaly-cluster", threeZones())
		return err
	})
	require.NoError(t, result.Err)
	api, ok := result.Find("aws:lb/targetGroup:TargetGroup", "gitaly-cluster-gitlab-api")
	require.True(t, ok)
	assert.Equal(t, 30080.0, api.MustInput(t, "port"))
	assert.Equal(t, "HTTP", api.InputString("healthCheck.protocol"))
	assert.Equal(t, "30056", api.InputString("healthCheck.port"))
	assert.Equal(t, "/healthz", api.InputString("healthCheck.path"))
	ingress, ok := result.Find("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "gitaly-cluster-nodes-api-health-from-balancer")
	require.True(t, ok, "the nodes admit the health check from the load balancer")
	assert.Equal(t, 30056.0, ingress.MustInput(t, "fromPort"))
}
