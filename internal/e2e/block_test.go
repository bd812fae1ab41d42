//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockClass is the Linode CSI class the stack gives a zone on Block Storage.
const blockClass = "linode-block-storage-retain"

// TestOnAReadWriteOnceVolumeTheMigrationsRunOnTheNodeThatHoldsIt plans the Linode stack with one pool on
// Block Storage, gives the pool two nodes, and follows the migration Jobs of a first install and an upgrade:
// a ReadWriteOnce volume is attached to one node, so every Job after the first must run where the zone's
// GitLab pod runs, although the scheduler, left to itself, prefers the emptier node.
func TestOnAReadWriteOnceVolumeTheMigrationsRunOnTheNodeThatHoldsIt(t *testing.T) {
	oneBlockPool := func(config map[string]any) {
		config["gitlab-ha:zones"] = []any{"pool-a"}
		linode := section(config, "gitlab-ha:linode")
		linode["fileStorage"], linode["databaseClusterSize"] = "block", 1
	}
	plan := planWith(t, "linode", oneBlockPool)
	upgraded := planWith(t, "linode", func(config map[string]any) {
		oneBlockPool(config)
		section(config, "gitlab-ha:gitlab")["image"] = upgradeImage
	})
	zones := zoneSelectors(objectsOf(plan))
	require.Equal(t, []string{"pool-a"}, sortedZones(zones))
	claim := find(t, plan, "kubernetes:core/v1:PersistentVolumeClaim", "gitlab-pool-a")
	require.Equal(t, blockClass, str(dig(claim.object, "spec", "storageClassName")))

	cp := startControlPlane(t)
	t.Cleanup(func() {
		if t.Failed() {
			cp.dump(t)
		}
	})
	cp.addNode(t, "pool-a", zones["pool-a"])
	cp.addNamedNode(t, "node-pool-a-2", zones["pool-a"])
	// The CSI driver would provision the volume; a volume of the class, made beforehand, binds the same way.
	require.NoError(t, cp.api.apply(map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolume", "metadata": map[string]any{"name": "block-pool-a"},
		"spec": map[string]any{
			"capacity": map[string]any{"storage": "100Gi"}, "accessModes": []any{"ReadWriteOnce"},
			"storageClassName": blockClass, "persistentVolumeReclaimPolicy": "Retain",
			"hostPath": map[string]any{"path": "/var/lib/block-pool-a"},
		},
	}))

	cp.deploy(t, plan, nil)
	firstJob := cp.jobPodNode(t, find(t, plan, jobType, "gitlab-migrations"))
	gitlabNode := cp.onlyGitLabPodNode(t)
	t.Logf("first install: migrations on %s (no GitLab pod yet, so anywhere in the zone), GitLab on %s", firstJob, gitlabNode)
	assert.Equal(t, gitlabNode, cp.runBackupNow(t, "linode", plan), "the backup reads the volume on the node that holds it")

	cp.deploy(t, upgraded, plan)
	upgradeJob := cp.jobPodNode(t, find(t, upgraded, jobType, "gitlab-migrations"))
	assert.Equal(t, gitlabNode, upgradeJob, "the upgrade's migrations run on the node the old GitLab pod holds the volume on")
	newGitLabNode := cp.onlyGitLabPodNode(t)
	postJob := cp.jobPodNode(t, find(t, upgraded, jobType, "gitlab-post-migrations"))
	assert.Equal(t, newGitLabNode, postJob, "the post-deployment migrations run where the new GitLab pod holds it")
	t.Logf("upgrade: migrations on %s beside GitLab; GitLab recreated on %s; post-deployment migrations on %s",
		upgradeJob, newGitLabNode, postJob)
}

// addNamedNode registers one more node for a zone.
func (cp *controlPlane) addNamedNode(t *testing.T, name string, selector map[string]string) {
	t.Helper()
	labels := map[string]any{fakeNodeLabel: "true", "kubernetes.io/hostname": name}
	for k, v := range selector {
		labels[k] = v
	}
	require.NoError(t, cp.api.apply(map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": name, "labels": labels}}))
	status := fmt.Sprintf(`{"status":{"capacity":%s,"allocatable":%s}}`, nodeCapacity, nodeCapacity)
	code, body, err := cp.api.do("PATCH", "/api/v1/nodes/"+name+"/status", "application/merge-patch+json", []byte(status))
	require.NoError(t, err)
	require.Equal(t, 200, code, string(body))
}

// jobPodNode is the node a Job's pod ran on.
func (cp *controlPlane) jobPodNode(t *testing.T, job planned) string {
	t.Helper()
	name := str(dig(job.object, "metadata", "name"))
	var list struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, cp.api.get("/api/v1/namespaces/"+namespace+"/pods?labelSelector=batch.kubernetes.io/job-name%3D"+name, &list))
	require.Len(t, list.Items, 1, "Job %s ran one pod", name)
	return str(dig(list.Items[0], "spec", "nodeName"))
}

// onlyGitLabPodNode is the node of the zone's one GitLab pod, once the old one has gone.
func (cp *controlPlane) onlyGitLabPodNode(t *testing.T) string {
	t.Helper()
	var node string
	eventually(t, time.Minute, "one GitLab pod", func() error {
		pods, err := cp.gitlabPods()
		if err != nil {
			return err
		}
		if len(pods) != 1 || pods[0].node == "" {
			return fmt.Errorf("GitLab pods: %v", pods)
		}
		node = pods[0].node
		return nil
	})
	return node
}
