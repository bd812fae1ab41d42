//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const gitalyNamespace = "gitlab-gitaly"

// TestGitalyPerZoneOnARealControlPlane plans the Linode stack with gitStorage.kind gitaly (a Gitaly
// StatefulSet per pool, no NFS server) and applies it: each zone's claim must bind a volume in its own zone and
// its Gitaly run on that zone's node, GitLab's zones serve without any volume, and losing a zone leaves every
// other zone's Gitaly serving while the lost zone's waits for its volume's zone.
func TestGitalyPerZoneOnARealControlPlane(t *testing.T) {
	plan := planWith(t, "linode", func(config map[string]any) {
		config["gitlab-ha:gitStorage"] = map[string]any{"kind": "gitaly"}
		linode := section(config, "gitlab-ha:linode")
		delete(linode, "fileStorage")
		delete(linode, "nfsVolumeGiB")
	})
	objects := objectsOf(plan)
	zones := zoneSelectors(objects)
	require.Len(t, zones, 3)
	for _, o := range objects {
		require.NotEqual(t, "PersistentVolumeClaim", o["kind"], "the GitLab zones claim no volume")
	}
	set := find(t, plan, "kubernetes:apps/v1:StatefulSet", "gitaly-pool-a")
	class := str(dig(set.object, "spec", "volumeClaimTemplates").([]any)[0].(map[string]any)["spec"].(map[string]any)["storageClassName"])

	cp := startControlPlane(t)
	t.Cleanup(func() {
		if t.Failed() {
			cp.dump(t)
			cp.dumpNamespace(t, gitalyNamespace)
		}
	})
	for _, zone := range sortedZones(zones) {
		cp.addNode(t, zone, zones[zone])
	}
	// The CSI driver makes a volume where the pod lands; here a volume waits in every zone, and a class that
	// binds on first use (as a zonal driver's does) lets the scheduler pick the zone's own.
	require.NoError(t, cp.api.apply(map[string]any{
		"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": map[string]any{"name": class},
		"provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer", "reclaimPolicy": "Retain",
	}))
	for _, zone := range sortedZones(zones) {
		var terms []any
		for key, value := range zones[zone] {
			terms = append(terms, map[string]any{"key": key, "operator": "In", "values": []any{value}})
		}
		require.NoError(t, cp.api.apply(map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolume",
			"metadata": map[string]any{"name": "block-" + zone, "labels": map[string]any{"zone": zone}},
			"spec": map[string]any{
				"capacity": map[string]any{"storage": "100Gi"}, "accessModes": []any{"ReadWriteOnce"},
				"storageClassName": class, "persistentVolumeReclaimPolicy": "Retain",
				"hostPath":     map[string]any{"path": "/var/lib/block-" + zone},
				"nodeAffinity": map[string]any{"required": map[string]any{"nodeSelectorTerms": []any{map[string]any{"matchExpressions": terms}}}},
			},
		}))
	}

	started := time.Now()
	seen := cp.deploy(t, plan, nil)
	t.Logf("gitaly: %d objects applied and awaited in %s", len(objects), time.Since(started).Round(time.Millisecond))
	migrated := seen[find(t, plan, jobType, "gitlab-migrations").urn]
	for _, zone := range sortedZones(zones) {
		rolled := seen[find(t, plan, "kubernetes:apps/v1:StatefulSet", "gitaly-"+zone).urn]
		require.NotNil(t, rolled)
		assert.False(t, migrated.applied.Before(rolled.done), "the migrations started before zone %s's Gitaly was ready", zone)
	}
	checkMigrationsOrdered(t, "gitaly", plan, seen, nil)
	eventually(t, 3*time.Minute, "every zone serving", func() error { return cp.zonesServing(zones, sortedZones(zones)) })
	for _, zone := range sortedZones(zones) {
		eventually(t, time.Minute, "zone "+zone+"'s Gitaly on its volume", func() error { return cp.gitalyOnItsVolume(zone) })
	}
	t.Logf("gitaly: every zone's claim bound to its zone's volume, its Gitaly running on the zone's node")

	// An upgrade: the new release's image rolls every zone's Gitaly on its own volume, before Rails migrates.
	upgraded := planWith(t, "linode", func(config map[string]any) {
		config["gitlab-ha:gitStorage"] = map[string]any{"kind": "gitaly"}
		linode := section(config, "gitlab-ha:linode")
		delete(linode, "fileStorage")
		delete(linode, "nfsVolumeGiB")
		section(config, "gitlab-ha:gitlab")["image"] = upgradeImage
	})
	upgradeStarted := time.Now()
	seen = cp.deploy(t, upgraded, plan)
	migrated = seen[find(t, upgraded, jobType, "gitlab-migrations").urn]
	for _, zone := range sortedZones(zones) {
		rolled := seen[find(t, upgraded, "kubernetes:apps/v1:StatefulSet", "gitaly-"+zone).urn]
		require.NotNil(t, rolled)
		assert.False(t, migrated.applied.Before(rolled.done), "the upgrade's migrations started before zone %s's Gitaly ran the release", zone)
		var p map[string]any
		require.NoError(t, cp.api.get("/api/v1/namespaces/"+gitalyNamespace+"/pods/gitaly-"+zone+"-0", &p))
		assert.Equal(t, upgradeImage, str(dig(p, "spec", "containers").([]any)[0].(map[string]any)["image"]), "zone %s's Gitaly runs the release", zone)
		require.NoError(t, cp.gitalyOnItsVolume(zone), "zone %s's Gitaly is back on the same volume", zone)
	}
	checkMigrationsOrdered(t, "gitaly", upgraded, seen, plan)
	t.Logf("gitaly: upgrade to %s rolled every zone's Gitaly on its own volume, then Rails, in %s", upgradeImage,
		time.Since(upgradeStarted).Round(time.Millisecond))

	_, lost, others := zoneToLose(zones)
	code, body, err := cp.api.do("DELETE", "/api/v1/nodes/"+nodeName(lost), "", nil)
	require.NoError(t, err)
	require.Equal(t, 200, code, string(body))
	lostAt := time.Now()
	for time.Since(lostAt) < 30*time.Second {
		for _, zone := range others {
			require.NoError(t, cp.gitalyOnItsVolume(zone), "zone %s's Gitaly while %s is lost", zone, lost)
		}
		pods := cp.gitalyPods(t)
		for _, p := range pods {
			if p.zone == lost {
				require.Contains(t, []string{"", nodeName(lost)}, p.node, "the lost zone's Gitaly %s landed on %s", p.name, p.node)
			}
		}
		time.Sleep(time.Second)
	}
	t.Logf("gitaly: zone %s lost for 30 s: the other zones' Gitaly kept serving on their volumes; its own waited", lost)
	cp.addNode(t, lost, zones[lost])
	backAt := time.Now()
	eventually(t, 3*time.Minute, "zone "+lost+"'s Gitaly back", func() error { return cp.gitalyOnItsVolume(lost) })
	t.Logf("gitaly: zone %s's Gitaly on its own volume again %s after its node came back", lost, time.Since(backAt).Round(time.Millisecond))
}

// gitalyPods lists the Gitaly pods with their zones and nodes.
func (cp *controlPlane) gitalyPods(t *testing.T) []pod {
	t.Helper()
	var list struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, cp.api.get("/api/v1/namespaces/"+gitalyNamespace+"/pods", &list))
	var pods []pod
	for _, item := range list.Items {
		if dig(item, "metadata", "deletionTimestamp") != nil {
			continue
		}
		p := pod{name: str(dig(item, "metadata", "name")), zone: str(dig(item, "metadata", "labels", "zone")),
			node: str(dig(item, "spec", "nodeName")), phase: str(dig(item, "status", "phase"))}
		conditions, _ := dig(item, "status", "conditions").([]any)
		for _, c := range conditions {
			if str(dig(c, "type")) == "Ready" && str(dig(c, "status")) == "True" {
				p.ready = true
			}
		}
		pods = append(pods, p)
	}
	return pods
}

// gitalyOnItsVolume is nil when the zone's Gitaly pod runs ready on the zone's node and its claim is bound to
// the zone's volume.
func (cp *controlPlane) gitalyOnItsVolume(zone string) error {
	name := "gitaly-" + zone + "-0"
	var p, claim map[string]any
	if err := cp.api.get("/api/v1/namespaces/"+gitalyNamespace+"/pods/"+name, &p); err != nil {
		return err
	}
	if node := str(dig(p, "spec", "nodeName")); node != nodeName(zone) || str(dig(p, "status", "phase")) != "Running" {
		return fmt.Errorf("pod %s: node %q, phase %s", name, node, str(dig(p, "status", "phase")))
	}
	if err := cp.api.get("/api/v1/namespaces/"+gitalyNamespace+"/persistentvolumeclaims/repositories-gitaly-"+zone+"-0", &claim); err != nil {
		return err
	}
	if volume := str(dig(claim, "spec", "volumeName")); volume != "block-"+zone || str(dig(claim, "status", "phase")) != "Bound" {
		return fmt.Errorf("claim of zone %s: volume %q, phase %s", zone, volume, str(dig(claim, "status", "phase")))
	}
	return nil
}

// dumpNamespace logs a namespace's pods and events, for a failed run.
func (cp *controlPlane) dumpNamespace(t *testing.T, ns string) {
	for _, path := range []string{"/api/v1/namespaces/" + ns + "/pods", "/api/v1/namespaces/" + ns + "/events"} {
		var list struct {
			Items []map[string]any `json:"items"`
		}
		if err := cp.api.get(path, &list); err != nil {
			continue
		}
		for _, item := range list.Items {
			t.Logf("%s: %s %s %v %s", ns, str(dig(item, "metadata", "name")), str(dig(item, "reason")), dig(item, "status", "phase"), str(dig(item, "message")))
		}
	}
}
