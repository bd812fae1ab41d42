package all_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/cluster/lke"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer/nodebalancer"
)

// linodeStack is a three-pool Linode stack built from the dev stack's GitLab settings.
func linodeStack(t *testing.T) *stack {
	s := load(t, "dev")
	for _, key := range []string{"network", "cluster", "database", "fileStorage"} {
		delete(s.config, "gitlab-ha:"+key)
	}
	return s.set("platform", "linode").set("region", "eu-central").set("zones", []string{"pool-a", "pool-b", "pool-c"}).
		set("linode", map[string]any{"databaseClusterSize": 3})
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
		labels := pools.([]any)[i].(map[string]any)["labels"].(map[string]any)
		assert.Equal(t, map[string]any{lke.PoolLabel: zone}, labels)
		deployment, ok := result.Find("kubernetes:apps/v1:Deployment", "gitlab-"+zone)
		require.True(t, ok, zone)
		assert.Equal(t, map[string]string{lke.PoolLabel: zone}, deployment.InputMap("spec.template.spec.nodeSelector"),
			"%s: exactly its pool's label", zone)
		volume, _ := result.Find("kubernetes:core/v1:PersistentVolume", "gitlab-"+zone)
		assert.Equal(t, "10.0.0.10", volume.InputString("spec.nfs.server"), "every zone on the NFS server")
		assert.Equal(t, "/srv/nfs/gitlab", volume.InputString("spec.nfs.path"))
	}

	balancer := result.OfType("linode:index/nodeBalancer:NodeBalancer")[0]
	service, _ := result.Find("kubernetes:core/v1:Service", "gitlab")
	assert.Equal(t, "LoadBalancer", service.InputString("spec.type"))
	assert.Equal(t, balancer.ID, service.InputMap("metadata.annotations")[nodebalancer.NodeBalancerIDAnnotation],
		"the Service adopts the stack's NodeBalancer")

	db := result.OfType("linode:index/databasePostgresqlV2:DatabasePostgresqlV2")[0]
	assert.NotContains(t, db.MustInput(t, "allowLists"), "0.0.0.0/0")
	assert.Equal(t, []any{"10.0.0.0/24"}, db.MustInput(t, "allowLists"))
	firewalls := result.OfType("linode:index/firewall:Firewall")
	assert.Len(t, firewalls, 3, "nodes, NFS server, NodeBalancer")
	for _, fw := range firewalls {
		assert.Equal(t, "DROP", fw.InputString("inboundPolicy"), fw.Name)
	}

	kubeconfig := awaited(t, out.Kubeconfig)
	assert.True(t, kubeconfig.Secret)
	assert.Contains(t, kubeconfig.Value, "kind: Config", "decoded")
	assert.Regexp(t, `^http://192\.0\.2\.\d+$`, awaited(t, out.URL).Value)
}

func TestAOneZoneLinodeStackCanUseBlockStorageInstead(t *testing.T) {
	s := linodeStack(t).set("zones", []string{"pool-a"}).patch("linode", map[string]any{"fileStorage": "block", "databaseClusterSize": 1})
	result, _ := s.run(t)
	require.NoError(t, result.Err)
	assert.Empty(t, result.OfType("linode:index/instance:Instance"), "no NFS server")
	assert.Empty(t, result.OfType("kubernetes:core/v1:PersistentVolume"))
	claim, _ := result.Find("kubernetes:core/v1:PersistentVolumeClaim", "gitlab-pool-a")
	assert.Equal(t, "linode-block-storage-retain", claim.InputString("spec.storageClassName"))
	db := result.OfType("linode:index/databasePostgresqlV2:DatabasePostgresqlV2")[0]
	assert.Equal(t, float64(1), db.Inputs["clusterSize"].V)
}
