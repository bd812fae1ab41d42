package loadbalancer_test

import (
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer"
	"github.com/gitlab-ha/gitlab-ha/internal/awstest"
)

const (
	listenerType    = "aws:lb/listener:Listener"
	targetGroupType = "aws:lb/targetGroup:TargetGroup"
	ingressType     = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	egressType      = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
)

var zones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}

func threeZones() *loadbalancer.NLBArgs {
	subnets, groups := map[string]pulumi.StringInput{}, map[string]pulumi.StringInput{}
	for _, zone := range zones {
		subnets[zone] = pulumi.String("subnet-public-" + zone)
		groups[zone] = pulumi.String("eks-nodes-" + zone)
	}
	return &loadbalancer.NLBArgs{
		VpcID: pulumi.String("vpc-1"), Zones: append([]string(nil), zones...), PublicSubnetIDs: subnets,
		AutoscalingGroups: groups, NodeSecurityGroupID: pulumi.String("sg-nodes"),
	}
}

func build(t *testing.T, args *loadbalancer.NLBArgs) (*componenttest.Result, *loadbalancer.NLB) {
	t.Helper()
	var nlb *loadbalancer.NLB
	result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		nlb, err = loadbalancer.NewNLB(ctx, "gitlab", args, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	return result, nlb
}

// forwarding maps listener port to the node port its target group sends to.
func forwarding(t *testing.T, result *componenttest.Result) map[float64]float64 {
	t.Helper()
	out := map[float64]float64{}
	for _, l := range result.OfType(listenerType) {
		arn := l.InputString("defaultActions[0].targetGroupArn")
		for _, tg := range result.OfType(targetGroupType) {
			if tg.ID == arn {
				out[l.Inputs["port"].NumberValue()] = tg.Inputs["port"].NumberValue()
			}
		}
	}
	return out
}

func TestListenersForwardHTTPHTTPSAndSSHToTheServicesNodePorts(t *testing.T) {
	result, nlb := build(t, threeZones())
	assert.Equal(t, map[float64]float64{80: 30080, 443: 30443, 22: 30022}, forwarding(t, result))
	for _, l := range result.OfType(listenerType) {
		assert.Equal(t, "TCP", l.InputString("protocol"), "passthrough: GitLab serves its own certificate")
	}
	balancer := result.OfType("aws:lb/loadBalancer:LoadBalancer")[0]
	assert.Equal(t, "network", balancer.InputString("loadBalancerType"))
	assert.Equal(t, false, balancer.Inputs["internal"].V)
	assert.Equal(t, true, balancer.Inputs["enableCrossZoneLoadBalancing"].V)
	assert.Equal(t, []any{"subnet-public-eu-west-1a", "subnet-public-eu-west-1b", "subnet-public-eu-west-1c"}, balancer.MustInput(t, "subnets"))
	assert.Regexp(t, `\.elb\.eu-west-1\.amazonaws\.com$`, awstest.Value(t, nlb.DNSName))
}

// With TLS ended here, 443 reaches GitLab's plain HTTP port, and plain http:// on 80 reaches the Service's
// redirect port rather than GitLab itself: a page served over http:// under an https external URL signs
// nobody in, and an NLB cannot redirect.
func TestTerminatingTLSUsesTheCertificateSendsPlainHTTPToGitLabAndRedirectsPort80(t *testing.T) {
	args := threeZones()
	args.TLS, args.CertificateARN = loadbalancer.TLSTerminate, pulumi.String("arn:aws:acm:eu-west-1:123456789012:certificate/abc")
	result, _ := build(t, args)
	assert.Equal(t, map[float64]float64{80: 30081, 443: 30080, 22: 30022}, forwarding(t, result))
	for _, l := range result.OfType(listenerType) {
		if l.Inputs["port"].NumberValue() == 443 {
			assert.Equal(t, "TLS", l.InputString("protocol"))
			assert.Equal(t, "arn:aws:acm:eu-west-1:123456789012:certificate/abc", l.InputString("certificateArn"))
			assert.Equal(t, "ELBSecurityPolicy-TLS13-1-2-2021-06", l.InputString("sslPolicy"))
		}
	}
	none := threeZones()
	none.TLS = loadbalancer.TLSNone
	result, _ = build(t, none)
	assert.Equal(t, map[float64]float64{80: 30080, 22: 30022}, forwarding(t, result))
}

func TestEveryZonesNodeGroupIsAttachedToEveryTargetGroup(t *testing.T) {
	result, _ := build(t, threeZones())
	attached := map[string][]string{}
	for _, a := range result.OfType("aws:autoscaling/attachment:Attachment") {
		attached[a.InputString("lbTargetGroupArn")] = append(attached[a.InputString("lbTargetGroupArn")], a.InputString("autoscalingGroupName"))
	}
	require.Len(t, attached, 3)
	for arn, groups := range attached {
		assert.ElementsMatch(t, []string{"eks-nodes-eu-west-1a", "eks-nodes-eu-west-1b", "eks-nodes-eu-west-1c"}, groups, arn)
	}
}

func TestOnlyListenerPortsAreOpenToTheInternetAndNodePortsOnlyToTheLoadBalancer(t *testing.T) {
	result, nlb := build(t, threeZones())
	lbGroup := awstest.Value(t, nlb.SecurityGroupID).(string)
	for _, rule := range result.OfType(ingressType) {
		port := rule.Inputs["fromPort"].NumberValue()
		assert.Equal(t, port, rule.Inputs["toPort"].NumberValue(), "one port per rule")
		switch rule.InputString("securityGroupId") {
		case lbGroup:
			assert.Contains(t, []float64{80, 443, 22}, port, "the load balancer admits its listener ports only")
			assert.Equal(t, "0.0.0.0/0", rule.InputString("cidrIpv4"))
		case "sg-nodes":
			assert.Contains(t, []float64{30080, 30443, 30022, 30056}, port, "the node ports and the health-check port")
			assert.Equal(t, lbGroup, rule.InputString("referencedSecurityGroupId"), "node ports from the load balancer alone")
			_, open := rule.Input("cidrIpv4")
			assert.False(t, open)
		default:
			t.Errorf("rule %s on unexpected group %s", rule.Name, rule.InputString("securityGroupId"))
		}
	}
	assert.Len(t, result.OfType(ingressType), 7, "three listener ports, three node ports, the health-check port")
	var egressPorts []float64
	for _, rule := range result.OfType(egressType) {
		assert.Equal(t, "sg-nodes", rule.InputString("referencedSecurityGroupId"), "the load balancer reaches the nodes and nothing else")
		egressPorts = append(egressPorts, rule.Inputs["fromPort"].NumberValue())
	}
	assert.ElementsMatch(t, []float64{30080, 30443, 30022, 30056}, egressPorts)
}

// Every target group asks kube-proxy on each node, over HTTP on the Service's health-check port, whether the
// node holds a ready GitLab pod, as often and as briefly as the NLB allows; the traffic itself stays TCP to
// instance targets, which keep the client's address.
func TestEveryTargetGroupChecksTheHealthCheckPortOverHTTPAsFastAsTheNLBAllows(t *testing.T) {
	for _, tls := range []string{loadbalancer.TLSPassthrough, loadbalancer.TLSTerminate, loadbalancer.TLSNone} {
		args := threeZones()
		args.TLS, args.NodePorts.HealthCheck = tls, 30100
		if tls == loadbalancer.TLSTerminate {
			args.CertificateARN = pulumi.String("arn:aws:acm:eu-west-1:123456789012:certificate/abc")
		}
		result, _ := build(t, args)
		groups := result.OfType(targetGroupType)
		require.NotEmpty(t, groups, tls)
		for _, tg := range groups {
			assert.Equal(t, map[string]any{
				"protocol": "HTTP", "port": "30100", "path": "/healthz", "matcher": "200",
				"interval": float64(5), "timeout": float64(2), "healthyThreshold": float64(2), "unhealthyThreshold": float64(2),
			}, tg.MustInput(t, "healthCheck"), "%s: %s", tls, tg.Name)
			assert.Equal(t, []any{map[string]any{"enableUnhealthyConnectionTermination": false, "unhealthyDrainingInterval": float64(120)}},
				tg.MustInput(t, "targetHealthStates"), "an unhealthy node keeps its open connections while its pod drains")
			assert.Equal(t, "instance", tg.InputString("targetType"), "instance targets see the client's address")
			assert.Equal(t, "TCP", tg.InputString("protocol"))
		}
	}
}

func TestAllowedCIDRsReplaceTheOpenInternet(t *testing.T) {
	args := threeZones()
	args.AllowedCIDRs = []string{"198.51.100.0/24", "203.0.113.0/24"}
	result, nlb := build(t, args)
	lbGroup := awstest.Value(t, nlb.SecurityGroupID).(string)
	var sources []string
	for _, rule := range result.OfType(ingressType) {
		if rule.InputString("securityGroupId") == lbGroup {
			sources = append(sources, rule.InputString("cidrIpv4"))
		}
	}
	assert.Len(t, sources, 6, "three listeners, two networks")
	assert.NotContains(t, sources, "0.0.0.0/0")
}

func TestEveryChildIsParentedTaggedAndUsesTheGivenProvider(t *testing.T) {
	result, _ := build(t, threeZones())
	children := awstest.CheckComponent(t, result, result.Components()[0].URN)
	assert.Len(t, children, len(result.Resources)-2, "all but the provider and the component")
}

func TestBadArgsGiveOneClearErrorAndRegisterNothing(t *testing.T) {
	cases := []struct {
		name string
		edit func(*loadbalancer.NLBArgs)
		want string
	}{
		{"no node group", func(a *loadbalancer.NLBArgs) { delete(a.AutoscalingGroups, "eu-west-1b") }, `autoscalingGroups["eu-west-1b"]: is required`},
		{"no public subnet", func(a *loadbalancer.NLBArgs) { delete(a.PublicSubnetIDs, "eu-west-1a") }, `publicSubnetIds["eu-west-1a"]: is required`},
		{"no node group security group", func(a *loadbalancer.NLBArgs) { a.NodeSecurityGroupID = nil }, "nodeSecurityGroupId: is required"},
		{"node port out of range", func(a *loadbalancer.NLBArgs) { a.NodePorts.SSH = 22 }, "nodePorts.ssh: 22 is outside the node port range"},
		{"node port twice", func(a *loadbalancer.NLBArgs) { a.NodePorts = loadbalancer.NodePorts{HTTP: 30080, HTTPS: 30080} }, "nodePorts.https: 30080 is also nodePorts.http"},
		{"health-check port out of range", func(a *loadbalancer.NLBArgs) { a.NodePorts.HealthCheck = 10256 },
			"nodePorts.healthCheck: 10256 is outside the node port range"},
		{"health-check port is a traffic port", func(a *loadbalancer.NLBArgs) { a.NodePorts.HealthCheck = 30022 },
			"nodePorts.healthCheck: 30022 is also nodePorts.ssh"},
		{"redirect port is a traffic port", func(a *loadbalancer.NLBArgs) {
			a.TLS, a.CertificateARN, a.NodePorts.HTTPRedirect = loadbalancer.TLSTerminate, pulumi.String("arn:cert"), 30080
		}, "nodePorts.httpRedirect: 30080 is also nodePorts.http"},
		{"terminate without certificate", func(a *loadbalancer.NLBArgs) { a.TLS = loadbalancer.TLSTerminate }, "certificateArn: is required"},
		{"certificate without terminate", func(a *loadbalancer.NLBArgs) { a.CertificateARN = pulumi.String("arn:cert") },
			`certificateArn: is set, but tls is "passthrough"`},
		{"unknown TLS mode", func(a *loadbalancer.NLBArgs) { a.TLS = "offload" }, `tls: "offload"`},
		{"nobody allowed", func(a *loadbalancer.NLBArgs) { a.AllowedCIDRs = []string{} }, "allowedCidrs: is empty"},
		{"bad allowed CIDR", func(a *loadbalancer.NLBArgs) { a.AllowedCIDRs = []string{"office"} }, `allowedCidrs[0]: "office" is not a CIDR block`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := threeZones()
			tc.edit(args)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := loadbalancer.NewNLB(ctx, "gitlab", args)
				return err
			}, fmt.Sprintf("loadbalancer %q: %s", "gitlab", tc.want))
		})
	}
}
