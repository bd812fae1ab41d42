package all_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/cluster/lke"
	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer/nodebalancer"
	"github.com/gitlab-ha/gitlab-ha/internal/objectstore"
)

// linodeStack is a three-pool Linode stack built from the dev stack's GitLab settings.
func linodeStack(t *testing.T) *stack {
	s := load(t, "dev")
	for _, key := range []string{"network", "cluster", "database", "fileStorage", "objectStorage", "backup"} {
		delete(s.config, "gitlab-ha:"+key)
	}
	return s.set("platform", "linode").set("region", "us-ord").set("zones", []string{"pool-a", "pool-b", "pool-c"}).
		set("linode", map[string]any{"databaseClusterSize": 3, "apiAccess": "public", "apiAllowedCidrs": []string{"198.18.0.0/24"}})
}

func TestTheLinodeStackPinsEachZoneToItsPoolAndAdoptsItsNodeBalancer(t *testing.T) {
	result, out := linodeStack(t).run(t)
	require.NoError(t, result.Err)
	for _, r := range result.Resources {
		assert.False(t, strings.HasPrefix(r.Type, "aws:"), "%s %s", r.Type, r.Name)
	}

	cluster := result.OfType("linode:index/lkeCluster:LkeCluster")[0]
	pools, _ := cluster.Input("pools")
	require.Len(t, pools, 3)
	for i, zone := range []string{"pool-a", "pool-b", "pool-c"} {
		pool := pools.([]any)[i].(map[string]any)
		assert.Equal(t, map[string]any{lke.PoolLabel: zone}, pool["labels"])
		assert.NotContains(t, pool, "count", "the autoscaler owns the count")
		deployment, ok := result.Find("kubernetes:apps/v1:Deployment", "gitlab-"+zone)
		require.True(t, ok, zone)
		assert.Equal(t, map[string]string{lke.PoolLabel: zone}, deployment.InputMap("spec.template.spec.nodeSelector"),
			"%s: exactly its pool's label", zone)
	}

	balancer := result.OfType("linode:index/nodeBalancer:NodeBalancer")[0]
	service, _ := result.Find("kubernetes:core/v1:Service", "gitlab")
	assert.Equal(t, "LoadBalancer", service.InputString("spec.type"))
	annotations := service.InputMap("metadata.annotations")
	assert.Equal(t, balancer.ID, annotations[nodebalancer.NodeBalancerIDAnnotation], "the Service adopts the stack's NodeBalancer")
	firewall, _ := result.Find("linode:index/firewall:Firewall", "gitlab")
	assert.Equal(t, firewall.ID, annotations[nodebalancer.FirewallIDAnnotation], "and keeps its firewall on it")
	assert.Equal(t, "true", annotations[nodebalancer.PreserveAnnotation])
	assert.Equal(t, "20", annotations[nodebalancer.ThrottleAnnotation])
	assert.Equal(t, "gitlab-ha,gitlab-ha-loadbalancer", annotations[nodebalancer.TagsAnnotation])
	assert.False(t, balancer.Inputs.HasValue("firewallId"), "the cloud controller attaches the firewall")
	assert.False(t, balancer.Inputs.HasValue("tags"), "the cloud controller sets the tags")

	assert.Empty(t, result.OfType("linode:index/vpc:Vpc"), "nothing in the stack can join a VPC")
	assert.Empty(t, result.OfType("linode:index/instance:Instance"), "the NFS server runs in the cluster")
	for _, fw := range result.OfType("linode:index/firewall:Firewall") {
		assert.Equal(t, "DROP", fw.InputString("inboundPolicy"), fw.Name)
	}
	_, nodes := result.Find("kubernetes:networking.linode.com/alpha1v1:CloudFirewall", "gitlab-nodes")
	assert.True(t, nodes, "the nodes' firewall follows the pools")

	kubeconfig := componenttest.MustAwait(t, out.Kubeconfig)
	assert.True(t, kubeconfig.Secret)
	assert.Contains(t, kubeconfig.Value, "kind: Config", "decoded")
	assert.Regexp(t, `^http://192\.0\.2\.\d+$`, componenttest.MustAwait(t, out.URL).Value)
}

// GitLab writes to the database's primary host; the database admits the cluster's nodes by their public
// addresses (pods leave a node from it) and nothing else, and a reconciler in the cluster keeps it so.
func TestGitLabWritesToThePrimaryWhichAdmitsTheNodesAndKeepsAdmittingThem(t *testing.T) {
	result, out := linodeStack(t).run(t)
	require.NoError(t, result.Err)
	db := result.OfType("linode:index/databasePostgresqlV2:DatabasePostgresqlV2")[0]
	cluster := result.OfType("linode:index/lkeCluster:LkeCluster")[0]
	var nodes []any
	for _, pool := range cluster.Outputs["pools"].ArrayValue() {
		for _, node := range pool.ObjectValue()["nodes"].ArrayValue() {
			id := int(node.ObjectValue()["instanceId"].NumberValue())
			nodes = append(nodes, fmt.Sprintf("198.51.100.%d/32", 1+id%254))
		}
	}
	assert.ElementsMatch(t, nodes, db.MustInput(t, "allowLists"), "each node's public address, as the instances report it, and nothing else")
	for _, entry := range db.MustInput(t, "allowLists").([]any) {
		assert.NotContains(t, entry, "192.168.", "no private range: nothing from one reaches the database")
	}
	assert.Contains(t, db.DataDependencies, cluster.URN, "created once the nodes exist")

	primary := db.Outputs["hostPrimary"].StringValue()
	assert.Regexp(t, "^"+primary+":25696$", componenttest.MustAwait(t, out.DatabaseEndpoint).Value)
	var gitlabConfig string
	for _, r := range result.OfType("kubernetes:core/v1:ConfigMap") {
		for _, v := range r.InputMap("data") {
			gitlabConfig += v
		}
	}
	assert.Contains(t, gitlabConfig, "gitlab_rails['db_host'] = '"+primary+"'", "GitLab's configuration names the primary host")
	assert.NotContains(t, gitlabConfig, "replica-", "never the read-only standby")
	assert.Contains(t, gitlabConfig, "gitlab_rails['db_sslmode'] = 'require'", "over TLS, across the internet")

	reconciler, ok := result.Find("kubernetes:apps/v1:Deployment", "gitlab-db-allow-list")
	require.True(t, ok, "the reconciler keeps the list as the autoscaler replaces nodes")
	env := map[string]string{}
	for _, e := range reconciler.MustInput(t, "spec.template.spec.containers[0].env").([]any) {
		if v, ok := e.(map[string]any)["value"].(string); ok {
			env[e.(map[string]any)["name"].(string)] = v
		}
	}
	assert.Equal(t, db.ID, env["DATABASE_ID"], "the stack's database")
	provider, _ := result.Find("pulumi:providers:kubernetes", "gitlab")
	assert.True(t, strings.HasPrefix(reconciler.Provider, provider.URN+"::"), "in the stack's cluster")
	for _, child := range [][2]string{{"gitlab-ha:database:NodeAllowList", "gitlab-db-allow-list"},
		{"gitlab-ha:filesystem:LinodeNFS", "gitlab-nfs"}, {"gitlab-ha:gitlab:GitLab", "gitlab"}} {
		component, ok := result.Find(child[0], child[1])
		require.True(t, ok, child[1])
		assert.Contains(t, component.Dependencies, db.URN, "%s, and all it holds, waits for a database it can use", child[1])
	}
}

// Linode reports a database with neither host: the update fails naming it, and nothing of GitLab's, the
// NFS server's or the reconciler's reaches the cluster (only the cluster's own firewall, which waits for
// no database).
func TestADatabaseWithoutAPrimaryHostStopsTheStackBeforeGitLab(t *testing.T) {
	neither := func(req componenttest.Request) (string, resource.PropertyMap, error) {
		outputs := req.Inputs.Copy()
		outputs["hostPrimary"], outputs["hostSecondary"] = resource.NewStringProperty(""), resource.NewStringProperty("")
		outputs["sslConnection"], outputs["port"] = resource.NewBoolProperty(true), resource.NewNumberProperty(25696)
		return "4242", outputs, nil
	}
	result, _ := linodeStack(t).run(t, componenttest.WithAnswer("linode:index/databasePostgresqlV2:DatabasePostgresqlV2", neither))
	require.Error(t, result.Err)
	assert.Contains(t, result.Err.Error(), `database "gitlab-db": Linode reports no primary host`)
	cluster, _ := result.Find("gitlab-ha:cluster:LKE", "gitlab")
	for _, r := range result.Resources {
		if strings.HasPrefix(r.Type, "kubernetes:") {
			assert.Equal(t, cluster.URN, r.Parent, "%s %s: only the cluster's firewall objects exist", r.Type, r.Name)
		}
	}
	assert.Empty(t, result.OfType("linode:index/volume:Volume"), "nor the NFS server's volume")
	assert.Empty(t, result.OfType("linode:index/token:Token"), "nor the reconciler's token")
}

// The pre-flight asks Linode what it offers, and a configuration it cannot serve is refused naming its key.
func TestLinodeRefusesWhatItDoesNotOfferNamingTheKey(t *testing.T) {
	for want, edit := range map[string]func(*stack) *stack{
		`gitlab-ha:linode.kubernetesVersion: "1.33" is not a Kubernetes version LKE offers today; it offers 1.35, 1.36`: func(s *stack) *stack {
			return s.patch("linode", map[string]any{"kubernetesVersion": "1.33"})
		},
		`gitlab-ha:linode.nfsVolumeEncryption: true needs "Block Storage Encryption", which region eu-central does not offer`: func(s *stack) *stack {
			return s.set("region", "eu-central")
		},
		`gitlab-ha:linode.clientCidrs[0]: "192.168.128.0/17" overlaps 192.168.0.0/16, from which no connection reaches the database`: func(s *stack) *stack {
			return s.patch("linode", map[string]any{"clientCidrs": []string{"192.168.128.0/17"}})
		},
		`gitlab-ha:linode.nfsServerIp: "10.96.0.49" is not an address of LKE's Service network`: func(s *stack) *stack {
			return s.patch("linode", map[string]any{"nfsServerIp": "10.96.0.49"})
		},
	} {
		result, _ := edit(linodeStack(t)).run(t)
		require.Error(t, result.Err, want)
		assert.Contains(t, result.Err.Error(), want)
		for _, r := range result.Resources {
			assert.True(t, strings.HasPrefix(r.Type, "pulumi:providers:"), "%s: registered %s %s", want, r.Type, r.Name)
		}
	}
}

// A region without Block Storage Encryption takes an unencrypted NFS volume only when the stack says so.
func TestAnUnencryptedVolumeIsAChoiceByName(t *testing.T) {
	result, _ := linodeStack(t).set("region", "eu-central").patch("linode", map[string]any{"nfsVolumeEncryption": false}).run(t)
	require.NoError(t, result.Err)
	assert.Equal(t, "disabled", result.OfType("linode:index/volume:Volume")[0].InputString("encryption"))
	encrypted, _ := linodeStack(t).run(t)
	assert.Equal(t, "enabled", encrypted.OfType("linode:index/volume:Volume")[0].InputString("encryption"), "on by default")
}

// Every zone mounts the NFS server through its Service's cluster IP, which only the cluster routes.
func TestEveryZoneMountsTheNFSServerInTheCluster(t *testing.T) {
	result, out := linodeStack(t).run(t)
	require.NoError(t, result.Err)
	service, ok := result.Find("kubernetes:core/v1:Service", "gitlab-nfs")
	require.True(t, ok)
	assert.Equal(t, "ClusterIP", service.InputString("spec.type"))
	clusterIP := service.Outputs["spec"].ObjectValue()["clusterIP"].StringValue()
	assert.Equal(t, "10.128.0.49", clusterIP, "fixed, so that the volumes' server survives a new Service")
	for _, zone := range []string{"pool-a", "pool-b", "pool-c"} {
		volume, _ := result.Find("kubernetes:core/v1:PersistentVolume", "gitlab-"+zone)
		assert.Equal(t, clusterIP, volume.InputString("spec.nfs.server"), zone)
		assert.Equal(t, "/gitlab", volume.InputString("spec.nfs.path"))
		assert.Equal(t, clusterIP, componenttest.MustAwait(t, out.MountTargets).Value.(map[string]string)[zone])
	}
	policy, _ := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-nfs")
	assert.Equal(t, "10.2.0.0/16", policy.InputString("spec.ingress[0].from[0].ipBlock.cidr"), "the cluster's pods")
	assert.Equal(t, "192.168.128.0/17", policy.InputString("spec.ingress[0].from[1].ipBlock.cidr"),
		"and the nodes, whose kubelets may mount from their private address (the nodes' firewall admits no NFS from outside)")
	firewall, _ := result.Find("kubernetes:networking.linode.com/alpha1v1:CloudFirewall", "gitlab-nodes")
	for _, r := range firewall.MustInput(t, "spec.ruleset.inbound").([]any) {
		ports, _ := r.(map[string]any)["ports"].(string)
		assert.NotContains(t, ports, "2049", "no node admits NFS from outside")
	}
}

// Two stacks in one Linode account: every label names its stack, so none collide.
func TestTwoLinodeStacksLabelEveryResourceApart(t *testing.T) {
	labels := func(s *stack) map[string]string {
		result, _ := s.run(t)
		require.NoError(t, result.Err)
		got := map[string]string{}
		for _, r := range result.Resources {
			if label := r.InputString("label"); strings.HasPrefix(r.Type, "linode:") && label != "" {
				got[r.Type+" "+r.Name] = label
			}
		}
		return got
	}
	dev := labels(linodeStack(t))
	other := linodeStack(t)
	other.name = "prod"
	prod := labels(other)
	require.Len(t, dev, 6+10+2, "cluster, database, its reconciler's token, NodeBalancer, its firewall, the NFS volume, 10 buckets, 2 keys: %v", dev)
	for resource, label := range dev {
		assert.NotEqual(t, label, prod[resource], resource)
		switch {
		case strings.HasPrefix(resource, "linode:index/objectStorageBucket:"):
			assert.LessOrEqual(t, len(label), objectstore.MaxBucketName, label)
		case strings.HasPrefix(resource, "linode:index/objectStorageKey:"):
		default:
			assert.LessOrEqual(t, len(label), 32, label)
		}
	}
}

func TestAOneZoneLinodeStackCanUseBlockStorageInstead(t *testing.T) {
	s := linodeStack(t).set("zones", []string{"pool-a"}).patch("linode", map[string]any{"fileStorage": "block", "databaseClusterSize": 1})
	result, _ := s.run(t)
	require.NoError(t, result.Err)
	assert.Empty(t, result.OfType("linode:index/volume:Volume"), "no NFS server")
	assert.Empty(t, result.OfType("kubernetes:core/v1:PersistentVolume"))
	claim, _ := result.Find("kubernetes:core/v1:PersistentVolumeClaim", "gitlab-pool-a")
	assert.Equal(t, "linode-block-storage-retain", claim.InputString("spec.storageClassName"))
	db := result.OfType("linode:index/databasePostgresqlV2:DatabasePostgresqlV2")[0]
	assert.Equal(t, float64(1), db.Inputs["clusterSize"].V)
}
