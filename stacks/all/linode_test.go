package all_test

import (
	"strings"
	"testing"

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
	return s.set("platform", "linode").set("region", "eu-central").set("zones", []string{"pool-a", "pool-b", "pool-c"}).
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

// GitLab's pods reach PostgreSQL on its private host, where their nodes' private addresses arrive from,
// and the database admits the private network and nothing wider.
func TestGitLabReachesTheDatabaseOverThePrivateNetwork(t *testing.T) {
	result, out := linodeStack(t).run(t)
	require.NoError(t, result.Err)
	db := result.OfType("linode:index/databasePostgresqlV2:DatabasePostgresqlV2")[0]
	assert.Equal(t, []any{"192.168.128.0/17"}, db.MustInput(t, "allowLists"), "every node's private address, and nothing wider")
	private := db.Outputs["hostSecondary"].StringValue()
	assert.Regexp(t, "^"+private+":", componenttest.MustAwait(t, out.DatabaseEndpoint).Value)
	var gitlabConfig string
	for _, r := range result.OfType("kubernetes:core/v1:ConfigMap") {
		for _, v := range r.InputMap("data") {
			gitlabConfig += v
		}
	}
	assert.Contains(t, gitlabConfig, "gitlab_rails['db_host'] = '"+private+"'", "GitLab's configuration names the private host")
	assert.NotContains(t, gitlabConfig, "'"+db.Outputs["hostPrimary"].StringValue()+"'", "and not the public one")
	assert.Contains(t, gitlabConfig, "gitlab_rails['db_sslmode'] = 'require'", "over TLS, since others share the network")
}

// Every zone mounts the NFS server through its Service's cluster IP, which only the cluster routes.
func TestEveryZoneMountsTheNFSServerInTheCluster(t *testing.T) {
	result, out := linodeStack(t).run(t)
	require.NoError(t, result.Err)
	service, ok := result.Find("kubernetes:core/v1:Service", "gitlab-nfs")
	require.True(t, ok)
	assert.Equal(t, "ClusterIP", service.InputString("spec.type"))
	clusterIP := service.Outputs["spec"].ObjectValue()["clusterIP"].StringValue()
	for _, zone := range []string{"pool-a", "pool-b", "pool-c"} {
		volume, _ := result.Find("kubernetes:core/v1:PersistentVolume", "gitlab-"+zone)
		assert.Equal(t, clusterIP, volume.InputString("spec.nfs.server"), zone)
		assert.Equal(t, "/gitlab", volume.InputString("spec.nfs.path"))
		assert.Equal(t, clusterIP, componenttest.MustAwait(t, out.MountTargets).Value.(map[string]string)[zone])
	}
	policy, _ := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-nfs")
	assert.Equal(t, "10.2.0.0/16", policy.InputString("spec.ingress[0].from[0].ipBlock.cidr"), "the cluster's pods and nothing wider")
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
	require.Len(t, dev, 5+10+2, "cluster, database, NodeBalancer, its firewall, the NFS volume, 10 buckets, 2 keys: %v", dev)
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
