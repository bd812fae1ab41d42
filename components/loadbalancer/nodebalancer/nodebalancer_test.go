package nodebalancer_test

import (
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer/nodebalancer"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
)

func TestTheNodeBalancerSitsBehindAFirewallOpenOnlyOnGitLabsPorts(t *testing.T) {
	var nb *nodebalancer.NodeBalancer
	result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		nb, err = nodebalancer.NewNodeBalancer(ctx, "gitlab", &nodebalancer.NodeBalancerArgs{Region: linodetest.Region}, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	balancer := result.OfType("linode:index/nodeBalancer:NodeBalancer")[0]
	firewall := result.OfType("linode:index/firewall:Firewall")[0]
	assert.Equal(t, firewall.ID, strconv.Itoa(int(balancer.Inputs["firewallId"].NumberValue())))
	assert.Equal(t, "DROP", firewall.InputString("inboundPolicy"))
	var ports []any
	rules, _ := firewall.Input("inbounds")
	for _, r := range rules.([]any) {
		ports = append(ports, r.(map[string]any)["ports"])
	}
	assert.Equal(t, []any{"80", "443", "22"}, ports)

	annotations, err := componenttest.Await(nb.ServiceAnnotations().ToStringMapOutput())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{nodebalancer.NodeBalancerIDAnnotation: balancer.ID}, annotations.Value)
	ip, _ := componenttest.Await(nb.IPv4)
	assert.Regexp(t, `^192\.0\.2\.`, ip.Value)
}

func TestNodeBalancerBadArgs(t *testing.T) {
	for want, args := range map[string]*nodebalancer.NodeBalancerArgs{
		`region: "EU" is not a Linode region`:             {Region: "EU"},
		"clientConnThrottle: 50 is outside 0-20":          {Region: "eu-central", ClientConnThrottle: pulumi.IntRef(50)},
		`allowedCidrs[0]: "everyone" is not a CIDR block`: {Region: "eu-central", AllowedCIDRs: []string{"everyone"}},
		"ports[1]: 70000 is not a TCP port":               {Region: "eu-central", Ports: []int{80, 70000}},
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			_, err := nodebalancer.NewNodeBalancer(ctx, "gitlab", args)
			return err
		}, want)
	}
}
