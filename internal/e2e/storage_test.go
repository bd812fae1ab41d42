//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	volumeType = "kubernetes:core/v1:PersistentVolume"
	claimType  = "kubernetes:core/v1:PersistentVolumeClaim"
)

// inExistingVPC edits the dev stack to adopt a VPC whose private subnets are the given ones, by zone: a zone
// moved to another subnet gets its EFS mount target replaced, and with it its NFS server's address.
func inExistingVPC(privateSubnets map[string]string) func(config map[string]any) {
	return func(config map[string]any) {
		config["gitlab-ha:network"] = map[string]any{
			"existingVpcId": "vpc-0e2e", "existingVpcCidr": "10.40.0.0/16",
			"existingPublicSubnetIds":  map[string]any{"eu-west-1a": "subnet-public-a", "eu-west-1b": "subnet-public-b"},
			"existingPrivateSubnetIds": privateSubnets,
		}
	}
}

// A zone's storage moves to another NFS server in one update, planned by the real program (the dev stack in
// an existing VPC, zone eu-west-1a's mount target replaced), while the other zone never stops serving; then a
// zone's node dies unplanned.
func TestAZonesStorageMovesInOneUpdateAndAZoneDiesUnplanned(t *testing.T) {
	const moved, kept = "eu-west-1a", "eu-west-1b"
	before := planWith(t, "dev", inExistingVPC(map[string]string{moved: "subnet-private-a", kept: "subnet-private-b"}))
	after := planWith(t, "dev", inExistingVPC(map[string]string{moved: "subnet-private-a2", kept: "subnet-private-b"}))
	zones := zoneSelectors(objectsOf(before))
	require.Len(t, zones, 2)

	// The plans: the moved zone's volume and claim are new objects under the same resources, on a new server.
	for _, typ := range []string{volumeType, claimType} {
		old, now := find(t, before, typ, "gitlab-"+moved), find(t, after, typ, "gitlab-"+moved)
		require.NotEqual(t, objectPath(old.object), objectPath(now.object), "%s of %s gets a new name", typ, moved)
		require.Equal(t, objectPath(find(t, before, typ, "gitlab-"+kept).object), objectPath(find(t, after, typ, "gitlab-"+kept).object))
	}
	oldServer := str(dig(find(t, before, volumeType, "gitlab-"+moved).object, "spec", "nfs", "server"))
	newServer := str(dig(find(t, after, volumeType, "gitlab-"+moved).object, "spec", "nfs", "server"))
	require.NotEqual(t, oldServer, newServer)

	cp := startControlPlane(t)
	for _, zone := range sortedZones(zones) {
		cp.addNode(t, zone, zones[zone])
	}
	t.Cleanup(func() {
		if t.Failed() {
			cp.dump(t)
		}
	})
	cp.deploy(t, before, nil)
	eventually(t, 3*time.Minute, "every zone serving", func() error { return cp.zonesServing(zones, sortedZones(zones)) })
	cp.checkClaimsBoundToTheirZones(t, zones)

	watch := cp.watchEndpoints([]string{kept})
	started := time.Now()
	cp.deploy(t, after, before)
	eventually(t, 3*time.Minute, "every zone serving on its storage", func() error { return cp.zonesServing(zones, sortedZones(zones)) })
	elapsed := time.Since(started)
	minimum, samples, missing := watch.stop()
	t.Logf("storage change: zone %s moved from NFS server %s to %s and served again %s after the update began; "+
		"%d endpoint samples, fewest ready endpoints %d, samples missing zone %s: %d",
		moved, oldServer, newServer, elapsed.Round(time.Millisecond), samples, minimum, kept, missing)
	assert.Greater(t, samples, 0)
	assert.Zero(t, missing, "zone %s never stopped serving", kept)

	cp.checkClaimsBoundToTheirZones(t, zones)
	volume := cp.zoneVolume(t, moved)
	assert.Equal(t, newServer, str(dig(volume, "spec", "nfs", "server")), "zone %s's claim is bound to the new server's volume", moved)
	for _, typ := range []string{volumeType, claimType} {
		code, _, err := cp.api.do("GET", objectPath(find(t, before, typ, "gitlab-"+moved).object), "", nil)
		require.NoError(t, err)
		assert.Equal(t, 404, code, "the replaced %s is deleted, as Pulumi deletes what it replaced", typ)
	}
	assert.Equal(t, "Retain", str(dig(find(t, before, volumeType, "gitlab-"+moved).object, "spec", "persistentVolumeReclaimPolicy")),
		"the old server's data was never the volume's to delete")

	cp.loseZoneUnplanned(t, "dev", zones)
}

// zoneVolume is the volume the zone's Deployment's claim is bound to, as the cluster says.
func (cp *controlPlane) zoneVolume(t *testing.T, zone string) map[string]any {
	t.Helper()
	claim := cp.zoneClaim(t, zone)
	var volume map[string]any
	require.NoError(t, cp.api.get("/api/v1/persistentvolumes/"+str(dig(claim, "spec", "volumeName")), &volume))
	return volume
}

// zoneClaim is the claim the zone's Deployment mounts, as the cluster says.
func (cp *controlPlane) zoneClaim(t *testing.T, zone string) map[string]any {
	t.Helper()
	var deployment map[string]any
	require.NoError(t, cp.api.get(fmt.Sprintf("/apis/apps/v1/namespaces/%s/deployments/gitlab-%s", namespace, zone), &deployment))
	volumes, _ := dig(deployment, "spec", "template", "spec", "volumes").([]any)
	for _, volume := range volumes {
		if name := str(dig(volume, "persistentVolumeClaim", "claimName")); name != "" {
			var claim map[string]any
			require.NoError(t, cp.api.get(fmt.Sprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s", namespace, name), &claim))
			return claim
		}
	}
	t.Fatalf("zone %s's Deployment mounts no claim", zone)
	return nil
}

// loseZoneUnplanned kills a zone's node the way a machine dies: kwok stops playing it, so its Lease is no
// longer renewed, and nothing cordons or drains it. The node lifecycle controller marks the node unreachable
// once its grace period passes and its pods not ready, and the endpoints follow. Meanwhile the other zones
// must never stop serving and the dead zone's pods must not land anywhere else. Then the machine is replaced,
// as an Auto Scaling group or LKE's pool would: the node object goes and a new one joins.
func (cp *controlPlane) loseZoneUnplanned(t *testing.T, stack string, zones map[string]map[string]string) {
	t.Helper()
	all, lost, others := zoneToLose(zones)
	watch := cp.watchEndpoints(others)
	defer watch.stop()

	died := time.Now()
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"false"}}}`, fakeNodeLabel)
	code, body, err := cp.api.do("PATCH", "/api/v1/nodes/"+nodeName(lost), "application/merge-patch+json", []byte(patch))
	require.NoError(t, err)
	require.Equal(t, 200, code, string(body))
	cp.awaitNoEndpoints(t, lost, 3*time.Minute)
	gone := time.Since(died)
	t.Logf("%s: zone %s's node stopped renewing its Lease; its endpoints left the Service %s later", stack, lost, gone.Round(time.Millisecond))
	// What kube-proxy's health check on the dead node would now count, were the node to answer at all: the
	// endpoints on it that are ready. None: a load balancer that reaches the node sees 503. Until this
	// moment the Service still listed the dead pods, but under the Local policy no surviving node sends to
	// them: each sends only to its own, and the load balancer leaves the dead node on its own checks.
	local, err := cp.localReadyEndpoints()
	require.NoError(t, err)
	assert.Zero(t, local[nodeName(lost)], "the dead zone's node has no local ready endpoint once its pods are marked not ready")
	for _, zone := range others {
		assert.Positive(t, local[nodeName(zone)], "zone %s's node still answers the health check with 200", zone)
	}

	// For half a minute more, the dead zone's pods stay where they were (their node unreachable, not gone)
	// and no other zone's pod stops or moves.
	cp.holdWhileZoneIsLost(t, lost, "", nodeName(lost))

	// The machine is gone for good: the cloud's node controller deletes its node object, the pod garbage
	// collector then deletes the pods bound to it, and only then does a replacement machine join.
	code, body, err = cp.api.do("DELETE", "/api/v1/nodes/"+nodeName(lost), "", nil)
	require.NoError(t, err)
	require.Equal(t, 200, code, string(body))
	eventually(t, 3*time.Minute, "the dead node's pods collected", func() error {
		pods, err := cp.gitlabPods()
		if err != nil {
			return err
		}
		for _, p := range pods {
			if p.zone == lost && p.node != "" {
				return fmt.Errorf("pod %s is still bound to the dead node %s", p.name, p.node)
			}
		}
		return nil
	})
	cp.addNode(t, lost, zones[lost])
	replaced := time.Now()
	eventually(t, 3*time.Minute, "zone "+lost+" serving on its replacement node", func() error { return cp.zonesServing(zones, all) })
	t.Logf("%s: zone %s serving again %s after its replacement node joined", stack, lost, time.Since(replaced).Round(time.Millisecond))

	minimum, samples, missing := watch.stop()
	unhealthy := watch.unhealthySamples()
	t.Logf("%s: %d endpoint samples while zone %s was dead; fewest ready endpoints %d; samples missing another zone: %d; "+
		"samples with a surviving zone's node lacking a local ready endpoint: %d", stack, samples, lost, minimum, missing, unhealthy)
	assert.Greater(t, samples, 10)
	assert.Zero(t, missing, "no other zone ever lost its endpoints")
	assert.Zero(t, unhealthy, "every surviving zone's node kept a local ready endpoint: its health check never failed")
}
