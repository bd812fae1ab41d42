package lke_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/cluster/lke"
	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
)

func threePools() *lke.LKEArgs {
	return &lke.LKEArgs{Region: linodetest.Region, Zones: []string{"pool-a", "pool-b", "pool-c"}, NodeType: "g6-standard-6"}
}

func buildLKE(t *testing.T, args *lke.LKEArgs) (*componenttest.Result, *lke.LKE) {
	t.Helper()
	var cluster *lke.LKE
	result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		cluster, err = lke.NewLKE(ctx, "gitlab", args, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	return result, cluster
}

func TestEachZoneIsAnLKENodePoolLabelledWithItsName(t *testing.T) {
	result, cluster := buildLKE(t, threePools())
	lkeCluster := result.OfType("linode:index/lkeCluster:LkeCluster")[0]
	for i, zone := range []string{"pool-a", "pool-b", "pool-c"} {
		pool := fmt.Sprintf("pools[%d].", i)
		assert.Equal(t, map[string]string{lke.PoolLabel: zone}, lkeCluster.InputMap(pool+"labels"), zone)
		assert.Equal(t, cluster.NodeSelector(zone), lkeCluster.InputMap(pool+"labels"), "the selector GitLab uses is the pool's label")
		assert.Equal(t, float64(1), lkeCluster.MustInput(t, pool+"autoscaler.min"))
		assert.Equal(t, float64(3), lkeCluster.MustInput(t, pool+"autoscaler.max"))
	}
	assert.Equal(t, "1.33", lkeCluster.InputString("k8sVersion"))
	assert.Equal(t, true, lkeCluster.MustInput(t, "controlPlane.highAvailability"))
}

func TestTheKubeconfigIsDecodedKeptSecretAndBuildsTheProvider(t *testing.T) {
	result, cluster := buildLKE(t, threePools())
	got, err := componenttest.Await(cluster.Kubeconfig)
	require.NoError(t, err)
	assert.True(t, got.Secret)
	assert.True(t, strings.HasPrefix(got.Value.(string), "apiVersion: v1\nkind: Config\n"), "decoded from base64")
	provider, ok := result.Find("pulumi:providers:kubernetes", "gitlab")
	require.True(t, ok)
	assert.True(t, provider.InputIsSecret("kubeconfig"))
	assert.Contains(t, provider.InputString("kubeconfig"), "kind: Config")
}

func TestTheNodesFirewallAdmitsOnlyWhatLKENeedsAndNodePortsFromNodeBalancers(t *testing.T) {
	result, _ := buildLKE(t, threePools())
	firewall := result.OfType("linode:index/firewall:Firewall")[0]
	assert.Equal(t, "DROP", firewall.InputString("inboundPolicy"))
	rules, _ := firewall.Input("inbounds")
	for _, r := range rules.([]any) {
		rule := r.(map[string]any)
		sources := rule["ipv4s"].([]any)
		require.Len(t, sources, 1)
		if rule["ports"] == "30000-32767" {
			assert.Equal(t, "192.168.255.0/24", sources[0], "node ports from NodeBalancers only")
		} else {
			assert.Equal(t, "192.168.128.0/17", sources[0], "%v from the private network only", rule["label"])
		}
	}
	nodes, _ := firewall.Input("linodes")
	assert.Len(t, nodes, 3, "every node of every pool")
}

func TestLKEBadArgsGiveOneClearErrorAndRegisterNothing(t *testing.T) {
	cases := []struct {
		name string
		edit func(*lke.LKEArgs)
		want string
	}{
		{"unknown region format", func(a *lke.LKEArgs) { a.Region = "Frankfurt" }, `region: "Frankfurt" is not a Linode region`},
		{"zero pools", func(a *lke.LKEArgs) { a.Zones = nil }, "zones: names no node pool"},
		{"pool count out of range", func(a *lke.LKEArgs) {
			a.Zones = nil
			for i := 0; i < 11; i++ {
				a.Zones = append(a.Zones, fmt.Sprintf("pool-%d", i))
			}
		}, "zones: 11 pools asked for; at most 10"},
		{"node type empty", func(a *lke.LKEArgs) { a.NodeType = "" }, "nodeType: is required"},
		{"pool name not a label", func(a *lke.LKEArgs) { a.Zones[0] = "Pool A" }, `zones[0]: "Pool A" is not a valid DNS label`},
		{"API open to all", func(a *lke.LKEArgs) { a.APIAllowedCIDRs = []string{"0.0.0.0/0"} }, `apiAllowedCidrs[0]: "0.0.0.0/0" opens`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := threePools()
			tc.edit(args)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := lke.NewLKE(ctx, "gitlab", args)
				return err
			}, `cluster "gitlab": `+tc.want)
		})
	}
}
