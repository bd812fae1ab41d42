package gitalycluster

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer"
	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
	"github.com/gitlab-ha/gitlab-ha/internal/securitygroup"
)

// gitLabAPIPort is the load balancer's listener for GitLab's internal API: Gitaly's hooks and Praefect call
// GitLab at http://<load balancer>, which forwards to GitLab's HTTP node port on the cluster's nodes, inside
// the VPC.
const gitLabAPIPort = 80

// groups are the cluster's security groups.
type groups struct {
	gitaly, praefect, balancer *ec2.SecurityGroup
}

// newSecurityGroups admits, by source group only (GitLab's docs, "Network latency and connectivity"):
//   - Praefect's load balancer: Praefect's port from GitLab's nodes and from Gitaly; GitLab's internal API from
//     Gitaly and Praefect. It reaches Praefect's port and GitLab's node port, and nothing else.
//   - Praefect: its port from the load balancer alone.
//   - Gitaly: its port from Praefect, and from the other Gitaly nodes, which replicate repositories from each
//     other (Gitaly to Gitaly, 8075, in the same table).
//   - PostgreSQL: its port from Praefect, beside GitLab's nodes.
//
// The instances reach out anywhere (GitLab's package repository, SSM, the load balancer).
func (c *GitalyCluster) newSecurityGroups(ctx *pulumi.Context, name string, a GitalyClusterArgs) (*groups, error) {
	g := &groups{}
	var err error
	common := func(group, description string, allEgress bool) securitygroup.Args {
		return securitygroup.Args{Component: componentTag, VpcID: a.VpcID, Description: description, AllowAllEgress: allEgress, Tags: a.Tags}
	}
	if g.gitaly, err = securitygroup.New(ctx, name+"-gitaly", common("gitaly", "GitLab HA Gitaly Cluster: Gitaly nodes", true), c); err != nil {
		return nil, err
	}
	if g.praefect, err = securitygroup.New(ctx, name+"-praefect", common("praefect", "GitLab HA Gitaly Cluster: Praefect nodes", true), c); err != nil {
		return nil, err
	}
	balancer := common("balancer", "GitLab HA Gitaly Cluster: Praefect's internal load balancer", false)
	balancer.Egress = []securitygroup.Rule{
		{Key: "to-praefect", Description: "Praefect", FromPort: PraefectPort, FromGroup: g.praefect.ID()},
		{Key: "to-gitlab", Description: "GitLab's internal API, on its HTTP node port", FromPort: a.GitLabNodePort, FromGroup: a.ClientSecurityGroupID},
		{Key: "to-gitlab-health", Description: "GitLab Service's health-check port (kube-proxy)", FromPort: a.GitLabHealthCheckNodePort, FromGroup: a.ClientSecurityGroupID},
	}
	if g.balancer, err = securitygroup.New(ctx, name+"-balancer", balancer, c); err != nil {
		return nil, err
	}
	rules := []struct {
		group   string
		groupID pulumi.StringInput
		rule    securitygroup.Rule
	}{
		{name + "-balancer", g.balancer.ID(), securitygroup.Rule{Key: "praefect-from-gitlab", Description: "Praefect, from GitLab's nodes",
			FromPort: PraefectPort, FromGroup: a.ClientSecurityGroupID}},
		{name + "-balancer", g.balancer.ID(), securitygroup.Rule{Key: "praefect-from-gitaly", Description: "Praefect, from Gitaly",
			FromPort: PraefectPort, FromGroup: g.gitaly.ID()}},
		{name + "-balancer", g.balancer.ID(), securitygroup.Rule{Key: "api-from-gitaly", Description: "GitLab's internal API, from Gitaly's hooks",
			FromPort: gitLabAPIPort, FromGroup: g.gitaly.ID()}},
		{name + "-balancer", g.balancer.ID(), securitygroup.Rule{Key: "api-from-praefect", Description: "GitLab's internal API, from Praefect",
			FromPort: gitLabAPIPort, FromGroup: g.praefect.ID()}},
		{name + "-praefect", g.praefect.ID(), securitygroup.Rule{Key: "from-balancer", Description: "Praefect, from its load balancer alone",
			FromPort: PraefectPort, FromGroup: g.balancer.ID()}},
		{name + "-gitaly", g.gitaly.ID(), securitygroup.Rule{Key: "from-praefect", Description: "Gitaly, from Praefect",
			FromPort: GitalyPort, FromGroup: g.praefect.ID()}},
		{name + "-gitaly", g.gitaly.ID(), securitygroup.Rule{Key: "from-gitaly", Description: "Gitaly, from the other Gitaly nodes (replication)",
			FromPort: GitalyPort, FromGroup: g.gitaly.ID()}},
		{name + "-database", a.Database.SecurityGroupID, securitygroup.Rule{Key: "from-praefect", Description: "PostgreSQL, from Praefect",
			FromPort: 5432, FromGroup: g.praefect.ID()}},
		{name + "-nodes", a.ClientSecurityGroupID, securitygroup.Rule{Key: "api-from-balancer", Description: "GitLab's HTTP node port, from the Gitaly Cluster's load balancer",
			FromPort: a.GitLabNodePort, FromGroup: g.balancer.ID()}},
		{name + "-nodes", a.ClientSecurityGroupID, securitygroup.Rule{Key: "api-health-from-balancer", Description: "GitLab Service's health-check port, from the Gitaly Cluster's load balancer",
			FromPort: a.GitLabHealthCheckNodePort, FromGroup: g.balancer.ID()}},
	}
	for _, r := range rules {
		if err := securitygroup.AddIngress(ctx, r.group, r.groupID, componentTag, r.rule, a.Tags, c); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// balancer is the internal load balancer and its target groups.
type balancer struct {
	lb       *lb.LoadBalancer
	praefect *lb.TargetGroup
}

// newBalancer makes the internal network load balancer, in every zone's private subnet, with a listener for
// Praefect and one for GitLab's internal API.
func (c *GitalyCluster) newBalancer(ctx *pulumi.Context, name string, a GitalyClusterArgs, g *groups) (*balancer, error) {
	subnets := pulumi.StringArray{}
	for _, zone := range a.Zones {
		subnets = append(subnets, a.SubnetIDs[zone])
	}
	balancerName := name
	nlb, err := lb.NewLoadBalancer(ctx, balancerName, &lb.LoadBalancerArgs{
		LoadBalancerType: pulumi.String("network"), Internal: pulumi.Bool(true), Subnets: subnets,
		SecurityGroups:               pulumi.StringArray{g.balancer.ID()},
		EnableCrossZoneLoadBalancing: pulumi.Bool(true),
		Tags:                         awstags.For(componentTag, balancerName, a.Tags),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	target := func(key string, port int, check *lb.TargetGroupHealthCheckArgs) (*lb.TargetGroup, error) {
		return lb.NewTargetGroup(ctx, name+"-"+key, &lb.TargetGroupArgs{
			VpcId: a.VpcID, TargetType: pulumi.String("instance"), Protocol: pulumi.String("TCP"), Port: pulumi.Int(port),
			// The source is the load balancer, whose group the targets admit: no client address to preserve.
			PreserveClientIp:    pulumi.String("false"),
			HealthCheck:         check,
			DeregistrationDelay: pulumi.Int(60),
			Tags:                awstags.For(componentTag, name+"-"+key, a.Tags),
		}, pulumi.Parent(c))
	}
	praefect, err := target("praefect", PraefectPort, &lb.TargetGroupHealthCheckArgs{
		Protocol: pulumi.String("TCP"), Port: pulumi.String("traffic-port"),
		Interval: pulumi.Int(10), HealthyThreshold: pulumi.Int(3), UnhealthyThreshold: pulumi.Int(3),
	})
	if err != nil {
		return nil, err
	}
	// GitLab's node port answers only on nodes with a ready GitLab pod (the Service's Local policy): the
	// check asks kube-proxy which those are, as the public load balancer does.
	api, err := target("gitlab-api", a.GitLabNodePort, loadbalancer.KubeProxyHealthCheck(a.GitLabHealthCheckNodePort))
	if err != nil {
		return nil, err
	}
	for _, l := range []struct {
		key  string
		port int
		to   *lb.TargetGroup
	}{{"praefect", PraefectPort, praefect}, {"gitlab-api", gitLabAPIPort, api}} {
		if _, err := lb.NewListener(ctx, name+"-"+l.key, &lb.ListenerArgs{
			LoadBalancerArn: nlb.Arn, Port: pulumi.Int(l.port), Protocol: pulumi.String("TCP"),
			DefaultActions: lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{Type: pulumi.String("forward"), TargetGroupArn: l.to.Arn}},
			Tags:           awstags.For(componentTag, name+"-"+l.key, a.Tags),
		}, pulumi.Parent(c)); err != nil {
			return nil, err
		}
	}
	for _, zone := range a.Zones {
		if _, err := autoscaling.NewAttachment(ctx, name+"-gitlab-api-"+zone, &autoscaling.AttachmentArgs{
			AutoscalingGroupName: a.GitLabAutoscalingGroups[zone], LbTargetGroupArn: api.Arn,
		}, pulumi.Parent(c)); err != nil {
			return nil, err
		}
	}
	return &balancer{lb: nlb, praefect: praefect}, nil
}
