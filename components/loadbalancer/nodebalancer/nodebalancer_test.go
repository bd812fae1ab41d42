package nodebalancer_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer/nodebalancer"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
)

func buildNodeBalancer(t *testing.T, args *nodebalancer.NodeBalancerArgs) (*componenttest.Result, *nodebalancer.NodeBalancer) {
	t.Helper()
	var nb *nodebalancer.NodeBalancer
	result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		nb, err = nodebalancer.NewNodeBalancer(ctx, "gitlab", args, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	return result, nb
}

func TestTheFirewallAdmitsOnlyGitLabsPorts(t *testing.T) {
	result, nb := buildNodeBalancer(t, &nodebalancer.NodeBalancerArgs{Region: linodetest.Region})
	firewall := result.OfType("linode:index/firewall:Firewall")[0]
	assert.Equal(t, "DROP", firewall.InputString("inboundPolicy"))
	var ports []any
	rules, _ := firewall.Input("inbounds")
	for _, r := range rules.([]any) {
		ports = append(ports, r.(map[string]any)["ports"])
	}
	assert.Equal(t, []any{"80", "443", "22"}, ports)
	ip, _ := componenttest.Await(nb.IPv4)
	assert.Regexp(t, `^192\.0\.2\.`, ip.Value)
}

// The cloud controller rewrites a NodeBalancer's firewall, throttle and tags from the Service's annotations
// on every reconcile (and deletes an unannotated firewall): the Service says what the stack wants, and the
// NodeBalancer resource leaves those to the controller.
func TestTheServiceTellsTheCloudControllerWhatTheNodeBalancerCarriesNoMore(t *testing.T) {
	result, nb := buildNodeBalancer(t, &nodebalancer.NodeBalancerArgs{Region: linodetest.Region, ClientConnThrottle: pulumi.IntRef(15), Tags: []string{"team-a"}})
	balancer := result.OfType("linode:index/nodeBalancer:NodeBalancer")[0]
	firewall := result.OfType("linode:index/firewall:Firewall")[0]

	annotations, err := componenttest.Await(nb.ServiceAnnotations().ToStringMapOutput())
	require.NoError(t, err)
	assert.Subset(t, annotations.Value, map[string]string{
		nodebalancer.NodeBalancerIDAnnotation: balancer.ID,
		nodebalancer.FirewallIDAnnotation:     firewall.ID,
		nodebalancer.PreserveAnnotation:       "true",
		nodebalancer.ThrottleAnnotation:       "15",
		nodebalancer.TagsAnnotation:           "gitlab-ha,gitlab-ha-loadbalancer,team-a",
	})

	_, sendsFirewall := balancer.Inputs["firewallId"]
	_, sendsTags := balancer.Inputs["tags"]
	assert.False(t, sendsFirewall, "the controller attaches the firewall the annotation names")
	assert.False(t, sendsTags, "the controller sets the tags")
	assert.ElementsMatch(t, []string{"firewallId", "tags"}, balancer.IgnoreChanges,
		"a running stack's recorded firewall ID must not replace its NodeBalancer")
	assert.Equal(t, float64(15), balancer.Inputs["clientConnThrottle"].V, "the throttle the annotation gives, or the provider's 0 would fight it")
}

// Every config the controller builds checks its backends with a TCP connection to the node port it sends to
// (the controller has no check-port annotation, and a NodeBalancer config has no check port but for UDP):
// behind a Local Service that connection fails on a node without a ready GitLab pod. Each config sends PROXY
// protocol v2, so that GitLab learns who is calling, from the back-end range it names for GitLab to trust.
func TestEveryConfigChecksItsBackendsAndSendsPROXYProtocol(t *testing.T) {
	_, nb := buildNodeBalancer(t, &nodebalancer.NodeBalancerArgs{Region: linodetest.Region})
	annotations, err := componenttest.Await(nb.ServiceAnnotations().ToStringMapOutput())
	require.NoError(t, err)
	assert.Subset(t, annotations.Value, map[string]string{
		nodebalancer.CheckTypeAnnotation:     "connection",
		nodebalancer.CheckIntervalAnnotation: "5",
		nodebalancer.CheckTimeoutAnnotation:  "3",
		nodebalancer.CheckAttemptsAnnotation: "2",
		nodebalancer.CheckPassiveAnnotation:  "true",
		nodebalancer.ProxyProtocolAnnotation: "v2",
	})
	assert.Equal(t, []string{"192.168.255.0/24"}, nb.ProxyProtocolSources)

	_, plain := buildNodeBalancer(t, &nodebalancer.NodeBalancerArgs{Region: linodetest.Region, ProxyProtocol: nodebalancer.ProxyProtocolNone})
	annotations, err = componenttest.Await(plain.ServiceAnnotations().ToStringMapOutput())
	require.NoError(t, err)
	assert.Equal(t, "none", annotations.Value.(map[string]string)[nodebalancer.ProxyProtocolAnnotation])
	assert.Nil(t, plain.ProxyProtocolSources, "nothing to trust when nothing sends a header")
}

func TestTheNodeBalancerAndItsFirewallAreLabelledForTheStack(t *testing.T) {
	result, _ := buildNodeBalancer(t, &nodebalancer.NodeBalancerArgs{Region: linodetest.Region})
	for _, r := range append(result.OfType("linode:index/nodeBalancer:NodeBalancer"), result.OfType("linode:index/firewall:Firewall")...) {
		assert.Regexp(t, `^test-gitlab-lb-[0-9a-f]{6}$`, r.InputString("label"), r.Type)
	}
}

func TestNodeBalancerBadArgs(t *testing.T) {
	for want, args := range map[string]*nodebalancer.NodeBalancerArgs{
		`region: "EU" is not a Linode region`:             {Region: "EU"},
		"clientConnThrottle: 50 is outside 0-20":          {Region: "eu-central", ClientConnThrottle: pulumi.IntRef(50)},
		`allowedCidrs[0]: "everyone" is not a CIDR block`: {Region: "eu-central", AllowedCIDRs: []string{"everyone"}},
		"ports[1]: 70000 is not a TCP port":               {Region: "eu-central", Ports: []int{80, 70000}},
		`tags[0]: "a,b" is empty or holds a comma`:        {Region: "eu-central", Tags: []string{"a,b"}},
		`proxyProtocol: "v3" is not v2, v1 or none`:       {Region: "eu-central", ProxyProtocol: "v3"},
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			_, err := nodebalancer.NewNodeBalancer(ctx, "gitlab", args)
			return err
		}, want)
	}
}
