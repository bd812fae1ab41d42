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
	assert.Equal(t, lke.DefaultKubernetesVersion, lkeCluster.InputString("k8sVersion"))
	assert.Equal(t, "1.36", lke.DefaultKubernetesVersion, "a minor LKE offers on 2026-12-02")
	assert.Equal(t, true, lkeCluster.MustInput(t, "controlPlane.highAvailability"))
	assert.Regexp(t, `^test-gitlab-[0-9a-f]{6}$`, lkeCluster.InputString("label"), "named for the stack")
}

// The provider sends a pool's declared count on every pool update; an autoscaled pool that declared one
// would be scaled back to it by the next `pulumi up`.
func TestAnAutoscaledPoolSendsNoCountAndAFixedPoolNoAutoscaler(t *testing.T) {
	result, _ := buildLKE(t, threePools())
	pools, _ := result.OfType("linode:index/lkeCluster:LkeCluster")[0].Input("pools")
	for _, p := range pools.([]any) {
		pool := p.(map[string]any)
		assert.NotContains(t, pool, "count", "the autoscaler owns the count")
		assert.Contains(t, pool, "autoscaler")
	}

	fixed := threePools()
	fixed.Nodes = lke.NodeCounts{Min: 2, Desired: 2, Max: 2}
	result, _ = buildLKE(t, fixed)
	pools, _ = result.OfType("linode:index/lkeCluster:LkeCluster")[0].Input("pools")
	for _, p := range pools.([]any) {
		pool := p.(map[string]any)
		assert.Equal(t, float64(2), pool["count"])
		assert.NotContains(t, pool, "autoscaler")
	}
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

// A firewall Pulumi attaches by instance misses every node LKE adds between two `pulumi up`s; the
// controller in the cluster attaches each node as it joins, with the stack's rules.
func TestEveryNodeIsKeptBehindTheFirewallByTheControllerInTheCluster(t *testing.T) {
	result, _ := buildLKE(t, threePools())
	assert.Empty(t, result.OfType("linode:index/firewall:Firewall"), "no firewall attached by instance ID")

	deployment, ok := result.Find("kubernetes:apps/v1:Deployment", "gitlab-firewall-controller")
	require.True(t, ok)
	assert.Equal(t, "kube-system", deployment.InputString("metadata.namespace"), "beside the token LKE keeps there")
	assert.Equal(t, lke.FirewallControllerImage, deployment.InputString("spec.template.spec.containers[0].image"))
	assert.Equal(t, false, deployment.MustInput(t, "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation"))
	assert.Equal(t, true, deployment.MustInput(t, "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem"))
	assert.Equal(t, "IfNotPresent", deployment.InputString("spec.template.spec.containers[0].imagePullPolicy"),
		"a restart needs no registry: what the node holds runs")
	provider, _ := result.Find("pulumi:providers:kubernetes", "gitlab")
	assert.True(t, strings.HasPrefix(deployment.Provider, provider.URN+"::"), "on the cluster's own provider")

	policy, ok := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-firewall-controller")
	require.True(t, ok)
	assert.Equal(t, deployment.InputMap("spec.template.metadata.labels"), policy.InputMap("spec.podSelector.matchLabels"))
	assert.Equal(t, []any{"Ingress", "Egress"}, policy.MustInput(t, "spec.policyTypes"))
	_, ingress := policy.Input("spec.ingress")
	assert.False(t, ingress, "nothing may connect to it")
	assert.Equal(t, []any{
		map[string]any{"ports": []any{map[string]any{"protocol": "UDP", "port": float64(53)}, map[string]any{"protocol": "TCP", "port": float64(53)}}},
		map[string]any{"ports": []any{map[string]any{"protocol": "TCP", "port": float64(443)}, map[string]any{"protocol": "TCP", "port": float64(6443)}}},
	}, policy.MustInput(t, "spec.egress"), "DNS, the API server and Linode's API alone")

	firewall, ok := result.Find("kubernetes:networking.linode.com/alpha1v1:CloudFirewall", "gitlab-nodes")
	require.True(t, ok)
	crd, _ := result.Find("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "gitlab-cloudfirewalls")
	assert.Contains(t, firewall.Dependencies, crd.URN, "the kind exists before the object")
	assert.Equal(t, "primary", firewall.InputString("metadata.name"), "the one the controller reconciles")
	assert.Equal(t, false, firewall.MustInput(t, "spec.defaultRules"), "the stack's rules, not the controller's defaults")
	assert.Equal(t, "DROP", firewall.InputString("spec.ruleset.inbound_policy"))
}

func TestTheNodesAdmitWhatLKEDocumentsAndNodePortsFromNodeBalancersOnly(t *testing.T) {
	result, _ := buildLKE(t, threePools())
	firewall, _ := result.Find("kubernetes:networking.linode.com/alpha1v1:CloudFirewall", "gitlab-nodes")
	rules := firewall.MustInput(t, "spec.ruleset.inbound").([]any)
	admitted := map[string]string{}
	for _, r := range rules {
		rule := r.(map[string]any)
		sources := rule["addresses"].(map[string]any)["ipv4"].([]any)
		require.Len(t, sources, 1)
		ports, _ := rule["ports"].(string)
		admitted[rule["protocol"].(string)+" "+ports] = sources[0].(string)
	}
	private, nodeBalancers := "192.168.128.0/17", "192.168.255.0/24"
	assert.Equal(t, map[string]string{
		"TCP 10250,10256": private, // kubelet, kube-proxy health
		"UDP 51820":       private, // WireGuard
		"TCP 53":          private, // cluster DNS
		"UDP 53":          private,
		"TCP 179":         private, // Calico BGP
		"TCP 5473":        private, // Calico Typha
		"IPENCAP ":        private, // Calico IP-in-IP
		"TCP 30000-32767": nodeBalancers,
		"UDP 30000-32767": nodeBalancers,
		"ICMP ":           "0.0.0.0/0",
	}, admitted, "nothing else, NFS's 2049 least of all")
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
		{"a count the autoscaler would not keep", func(a *lke.LKEArgs) { a.Nodes = lke.NodeCounts{Min: 1, Desired: 2, Max: 3} },
			`nodes: "1/2/3" asks for 2 nodes, but LKE starts an autoscaled pool at min`},
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

// The controller reads one Secret through a cached client that lists and watches every namespace's; a Role
// narrowed to kube-system/linode would leave it waiting for ever (see firewallControllerAccess).
func TestTheFirewallControllerKeepsTheSecretAccessItsClientNeeds(t *testing.T) {
	result, _ := buildLKE(t, threePools())
	role, ok := result.Find("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "gitlab-firewall-controller")
	require.True(t, ok)
	assert.Contains(t, role.MustInput(t, "rules"), map[string]any{"apiGroups": []any{""}, "resources": []any{"secrets"}, "verbs": []any{"get", "list", "watch"}})
}

func TestAnotherFirewallControllerImageCanBePinnedByDigest(t *testing.T) {
	args := threePools()
	args.FirewallControllerImage = "docker.io/linode/cloud-firewall-controller:v0.2.1@sha256:" + strings.Repeat("ab", 32)
	result, _ := buildLKE(t, args)
	deployment, _ := result.Find("kubernetes:apps/v1:Deployment", "gitlab-firewall-controller")
	assert.Equal(t, args.FirewallControllerImage, deployment.InputString("spec.template.spec.containers[0].image"))
}

// The database admits pods by their nodes' public addresses: the cluster reports them from the instances
// behind its pools' nodes.
func TestTheClusterReportsItsNodesPublicAddresses(t *testing.T) {
	result, cluster := buildLKE(t, threePools())
	addresses := componenttest.MustAwait(t, cluster.NodeAddresses).Value.([]string)
	require.Len(t, addresses, 3, "one node in each of three autoscaled pools at create")
	for _, address := range addresses {
		assert.Regexp(t, `^198\.51\.100\.[0-9]+$`, address, "public, not the private 192.168.128.0/17 address beside it")
	}
	assert.Contains(t, result.Invokes, "linode:index/getInstances:getInstances")
}

// LKE is asked which versions it offers (the mock answers as LKE's policy stands on 2026-12-02).
func TestLKEIsAskedWhetherItOffersTheVersion(t *testing.T) {
	ask := func(version string) error {
		var err error
		result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
			err = lke.OfferedVersion(ctx, version, pulumi.Provider(provider))
			return nil
		})
		require.NoError(t, result.Err)
		return err
	}
	assert.NoError(t, ask(""), "the default is offered")
	assert.NoError(t, ask("1.35"))
	assert.ErrorContains(t, ask("1.33"), `version: "1.33" is not a Kubernetes version LKE offers today; it offers 1.35, 1.36`)
}
