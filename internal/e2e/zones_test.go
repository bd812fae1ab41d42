//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const namespace = "gitlab"

// stacks are the plans `make e2e` writes, each applied to a control plane of its own: dev and prod (a
// LoadBalancer Service of the external class behind the stack's NLB, nodes labelled
// topology.kubernetes.io/zone) and the Linode example (a LoadBalancer Service the cloud controller serves,
// nodes labelled gitlab-ha.io/zone by pool). Every one is Local, with its health-check port pinned.
var stacks = []string{"dev", "prod", "linode"}

func TestTheZoneDesignOnARealControlPlane(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) { testStack(t, stack) })
	}
}

func testStack(t *testing.T, stack string) {
	started := time.Now()
	plan := readPlan(t, filepath.Join(os.Getenv("E2E_PLANS"), stack))
	objects := objectsOf(plan)
	zones := zoneSelectors(objects)
	require.NotEmpty(t, zones, "the plan has per-zone Deployments")
	cp := startControlPlane(t)
	t.Logf("%s: control plane ready in %s", stack, time.Since(started).Round(time.Millisecond))

	for _, zone := range sortedZones(zones) {
		cp.addNode(t, zone, zones[zone])
	}
	t.Cleanup(func() {
		if t.Failed() {
			cp.dump(t)
		}
	})
	applyStarted := time.Now()
	first := cp.deploy(t, plan, nil)
	t.Logf("%s: %d objects applied in the plan's dependency order, each awaited as Pulumi awaits it, in %s",
		stack, len(objects), time.Since(applyStarted).Round(time.Millisecond))
	checkMigrationsOrdered(t, stack, plan, first, nil)

	settled := time.Now()
	eventually(t, 3*time.Minute, "every zone serving", func() error { return cp.zonesServing(zones, sortedZones(zones)) })
	t.Logf("%s: every zone Running and an endpoint of the Service %s after the rollout", stack, time.Since(settled).Round(time.Millisecond))
	cp.checkClaimsBoundToTheirZones(t, zones)
	cp.checkEveryDeploymentAvailable(t, objects)
	cp.checkLoadBalancer(t, objects)
	cp.checkServiceTraffic(t, stack, objects)
	if stack == "linode" {
		cp.checkAllowListReconciler(t, objects)
	}
	assert.Equal(t, nodeName(sortedZones(zones)[0]), cp.runBackupNow(t, stack, plan), "the backup runs in the first zone, beside its volume")

	cp.upgrade(t, stack, plan, zones)
	cp.checkServiceTraffic(t, stack+" after the upgrade", objects)
	cp.loseAndRecoverZone(t, stack, zones)
}

// upgrade plans the stack again with a newer image and deploys it over the first release: a new migration
// Job runs while every zone still runs the old image, then the zones roll, then the new post-deployment Job.
func (cp *controlPlane) upgrade(t *testing.T, stack string, before []planned, zones map[string]map[string]string) {
	t.Helper()
	after := planUpgrade(t, stack)
	oldJob, newJob := find(t, before, jobType, "gitlab-migrations"), find(t, after, jobType, "gitlab-migrations")
	require.NotEqual(t, objectPath(oldJob.object), objectPath(newJob.object), "a new image names a new migration Job")
	upgradeStarted := time.Now()
	seen := cp.deploy(t, after, before)
	t.Logf("%s: upgrade to %s (Job %s) rolled out in %s", stack, upgradeImage, str(dig(newJob.object, "metadata", "name")),
		time.Since(upgradeStarted).Round(time.Millisecond))
	checkMigrationsOrdered(t, stack, after, seen, before)

	_, images, err := cp.gitlabPodImages()
	require.NoError(t, err)
	require.NotEmpty(t, images)
	for name, image := range images {
		assert.Equal(t, upgradeImage, image, "pod %s runs the new release", name)
	}
	var record map[string]any
	require.NoError(t, cp.api.get("/api/v1/namespaces/"+namespace+"/configmaps/gitlab-migrated-version", &record))
	assert.Equal(t, "18.11.12", str(dig(record, "data", "version")), "the next upgrade is checked against this release")
	for _, job := range []string{"gitlab-migrations", "gitlab-post-migrations"} {
		code, _, err := cp.api.do("GET", objectPath(find(t, before, jobType, job).object), "", nil)
		require.NoError(t, err)
		assert.Contains(t, []int{404, 200}, code) // deleted in the background, as the provider deletes a replaced Job
	}
	eventually(t, 3*time.Minute, "every zone serving after the upgrade", func() error { return cp.zonesServing(zones, sortedZones(zones)) })
}

const jobType = "kubernetes:batch/v1:Job"

// checkMigrationsOrdered: the release's migration Job completed while no zone ran the release (on a first
// install, before any GitLab pod existed), every zone rolled out after it, the post-deployment Job started
// only once every zone had, and the version was recorded after that.
func checkMigrationsOrdered(t *testing.T, stack string, plan []planned, seen rollout, previous []planned) {
	t.Helper()
	regular, post := find(t, plan, jobType, "gitlab-migrations"), find(t, plan, jobType, "gitlab-post-migrations")
	migrated, postMigrated := seen[regular.urn], seen[post.urn]
	require.NotNil(t, migrated)
	require.NotNil(t, postMigrated)
	containers, _ := dig(regular.object, "spec", "template", "spec", "containers").([]any)
	require.NotEmpty(t, containers)
	newImage := str(dig(containers[0], "image"))
	if previous == nil {
		assert.Empty(t, migrated.imagesAtDone, "%s: no GitLab pod existed when the migrations completed", stack)
	}
	for name, image := range migrated.imagesAtDone {
		assert.NotEqual(t, newImage, image, "%s: pod %s already ran the new release while its migrations ran", stack, name)
	}
	t.Logf("%s: migration Job %s complete %s after it was applied; GitLab pods then: %d, none on the new release",
		stack, str(dig(regular.object, "metadata", "name")), migrated.done.Sub(migrated.applied).Round(time.Millisecond), len(migrated.imagesAtDone))
	for _, deployment := range zoneDeployments(plan) {
		rolled := seen[deployment.urn]
		require.NotNil(t, rolled, deployment.name)
		assert.False(t, rolled.applied.Before(migrated.done), "%s: %s applied before the migrations completed", stack, deployment.name)
		assert.False(t, postMigrated.applied.Before(rolled.done), "%s: post-deployment migrations started before %s rolled out", stack, deployment.name)
	}
	for name, image := range postMigrated.imagesAtDone {
		assert.Equal(t, newImage, image, "%s: pod %s was not on the release when its post-deployment migrations ran", stack, name)
	}
	record := seen[find(t, plan, "kubernetes:core/v1:ConfigMap", "gitlab-migrated-version").urn]
	require.NotNil(t, record)
	assert.False(t, record.applied.Before(postMigrated.done), "%s: the version recorded before its post-deployment migrations completed", stack)
}

// --- reading the plan ------------------------------------------------------------------------------------

// zoneSelectors maps each zone to the node selector of its Deployment: what the platform labels nodes with.
func zoneSelectors(objects []map[string]any) map[string]map[string]string {
	zones := map[string]map[string]string{}
	for _, o := range objects {
		if o["kind"] != "Deployment" {
			continue
		}
		zone := str(dig(o, "metadata", "labels", "zone"))
		selector, _ := dig(o, "spec", "template", "spec", "nodeSelector").(map[string]any)
		if zone == "" || selector == nil {
			continue
		}
		zones[zone] = map[string]string{}
		for k, v := range selector {
			zones[zone][k] = str(v)
		}
	}
	return zones
}

func sortedZones(zones map[string]map[string]string) []string {
	var out []string
	for zone := range zones {
		out = append(out, zone)
	}
	sort.Strings(out)
	return out
}

func nodeName(zone string) string { return "node-" + zone }

// node is one fake node for a zone, labelled as the platform labels its nodes.
func node(zone string, selector map[string]string) map[string]any {
	labels := map[string]any{fakeNodeLabel: "true", "kubernetes.io/hostname": nodeName(zone)}
	for k, v := range selector {
		labels[k] = v
	}
	return map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": nodeName(zone), "labels": labels}}
}

// nodeCapacity is what each zone's one fake node declares: twice the stacks' smallest node type (4 vCPU,
// 16 GiB), because an upgrade rolls each zone through one extra replica, which on the real platforms finds
// room on a second node (prod runs two per zone; dev's and Linode's autoscalers add one), and the disk a node
// has: kwok's default declares no ephemeral storage, which GitLab's pods request.
const nodeCapacity = `{"cpu":"8","memory":"32Gi","pods":"110","ephemeral-storage":"100Gi"}`

// addNode registers a zone's node and its capacity (status is a subresource, so it takes a second call).
func (cp *controlPlane) addNode(t *testing.T, zone string, selector map[string]string) {
	t.Helper()
	require.NoError(t, cp.api.apply(node(zone, selector)), "node for %s", zone)
	status := fmt.Sprintf(`{"status":{"capacity":%s,"allocatable":%s}}`, nodeCapacity, nodeCapacity)
	code, body, err := cp.api.do("PATCH", "/api/v1/nodes/"+nodeName(zone)+"/status", "application/merge-patch+json", []byte(status))
	require.NoError(t, err)
	require.Equal(t, 200, code, string(body))
}

// --- what the cluster says -------------------------------------------------------------------------------

type pod struct {
	name, zone, node, phase string
	ready                   bool
}

func (cp *controlPlane) gitlabPods() ([]pod, error) {
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := cp.api.get("/api/v1/namespaces/"+namespace+"/pods?labelSelector=app.kubernetes.io/component%3Dwebservice", &list); err != nil {
		return nil, err
	}
	var pods []pod
	for _, item := range list.Items {
		p := pod{name: str(dig(item, "metadata", "name")), zone: str(dig(item, "metadata", "labels", "zone")),
			node: str(dig(item, "spec", "nodeName")), phase: str(dig(item, "status", "phase"))}
		if dig(item, "metadata", "deletionTimestamp") != nil {
			continue
		}
		conditions, _ := dig(item, "status", "conditions").([]any)
		for _, c := range conditions {
			if str(dig(c, "type")) == "Ready" && str(dig(c, "status")) == "True" {
				p.ready = true
			}
		}
		pods = append(pods, p)
	}
	return pods, nil
}

// readyEndpointZones counts the Service's ready endpoints per zone, through the pods they point at.
func (cp *controlPlane) readyEndpointZones() (map[string]int, error) {
	var slices struct {
		Items []map[string]any `json:"items"`
	}
	if err := cp.api.get("/apis/discovery.k8s.io/v1/namespaces/"+namespace+"/endpointslices?labelSelector=kubernetes.io/service-name%3Dgitlab", &slices); err != nil {
		return nil, err
	}
	pods, err := cp.gitlabPods()
	if err != nil {
		return nil, err
	}
	zoneOf := map[string]string{}
	for _, p := range pods {
		zoneOf[p.name] = p.zone
	}
	counts := map[string]int{}
	for _, slice := range slices.Items {
		endpoints, _ := slice["endpoints"].([]any)
		for _, e := range endpoints {
			if ready, _ := dig(e, "conditions", "ready").(bool); ready {
				counts[zoneOf[str(dig(e, "targetRef", "name"))]]++
			}
		}
	}
	return counts, nil
}

// zonesServing is nil when every given zone's pods run on that zone's node, ready, and behind the Service.
func (cp *controlPlane) zonesServing(zones map[string]map[string]string, serving []string) error {
	pods, err := cp.gitlabPods()
	if err != nil {
		return err
	}
	running := map[string]int{}
	for _, p := range pods {
		if p.phase == "Running" && p.ready {
			if p.node != nodeName(p.zone) {
				return fmt.Errorf("pod %s of zone %s runs on %s", p.name, p.zone, p.node)
			}
			running[p.zone]++
		}
	}
	endpoints, err := cp.readyEndpointZones()
	if err != nil {
		return err
	}
	for _, zone := range serving {
		if running[zone] == 0 || endpoints[zone] == 0 {
			return fmt.Errorf("zone %s: %d running, %d ready endpoints", zone, running[zone], endpoints[zone])
		}
	}
	return nil
}

func (cp *controlPlane) checkClaimsBoundToTheirZones(t *testing.T, zones map[string]map[string]string) {
	t.Helper()
	for _, zone := range sortedZones(zones) {
		claim := cp.zoneClaim(t, zone)
		assert.Equal(t, "Bound", str(dig(claim, "status", "phase")), zone)
		volumeName := str(dig(claim, "spec", "volumeName"))
		if volumeName == "" {
			t.Errorf("zone %s: claim bound to no volume", zone)
			continue
		}
		var volume map[string]any
		require.NoError(t, cp.api.get("/api/v1/persistentvolumes/"+volumeName, &volume))
		if class := str(dig(volume, "spec", "storageClassName")); class == "" {
			assert.Equal(t, zone, str(dig(volume, "metadata", "labels", "zone")), "zone %s's claim is bound to its own zone's volume", zone)
			assert.Equal(t, str(dig(claim, "metadata", "name")), str(dig(volume, "spec", "claimRef", "name")))
		}
	}
}

// checkEveryDeploymentAvailable: every Deployment of the plan, beside the zones' (the Linode plan's NFS server
// and firewall controller, say), has its pods scheduled and ready: their claims bound, their nodes found.
func (cp *controlPlane) checkEveryDeploymentAvailable(t *testing.T, objects []map[string]any) {
	t.Helper()
	for _, o := range objects {
		if o["kind"] != "Deployment" {
			continue
		}
		path := objectPath(o)
		eventually(t, time.Minute, "Deployment "+path+" available", func() error {
			var deployment map[string]any
			if err := cp.api.get(path, &deployment); err != nil {
				return err
			}
			want, _ := dig(deployment, "spec", "replicas").(float64)
			ready, _ := dig(deployment, "status", "readyReplicas").(float64)
			if ready < want {
				return fmt.Errorf("%v of %v replicas ready", ready, want)
			}
			return nil
		})
	}
}

// checkLoadBalancer: a LoadBalancer Service got an address (kwok's stage plays the cloud controller).
func (cp *controlPlane) checkLoadBalancer(t *testing.T, objects []map[string]any) {
	t.Helper()
	for _, o := range objects {
		if o["kind"] != "Service" || str(dig(o, "spec", "type")) != "LoadBalancer" {
			continue
		}
		if class := str(dig(o, "spec", "loadBalancerClass")); class != "" {
			t.Logf("service %s: class %s, a load balancer outside the cluster's (the stack's NLB)", str(dig(o, "metadata", "name")), class)
			continue
		}
		name := str(dig(o, "metadata", "name"))
		eventually(t, time.Minute, "a load-balancer address for "+name, func() error {
			var service map[string]any
			if err := cp.api.get(fmt.Sprintf("/api/v1/namespaces/%s/services/%s", namespace, name), &service); err != nil {
				return err
			}
			ingress, _ := dig(service, "status", "loadBalancer", "ingress").([]any)
			if len(ingress) == 0 {
				return fmt.Errorf("no ingress yet")
			}
			t.Logf("service %s: load-balancer address %s", name, str(dig(ingress[0], "ip")))
			return nil
		})
	}
}

// --- losing a zone ---------------------------------------------------------------------------------------

// loseAndRecoverZone drains and deletes one zone's node while watching the Service: the other zones keep
// serving, the lost zone's pods wait for their zone, and the zone comes back with its node.
func (cp *controlPlane) loseAndRecoverZone(t *testing.T, stack string, zones map[string]map[string]string) {
	t.Helper()
	all, lost, others := zoneToLose(zones)

	watch := cp.watchEndpoints(others)
	defer watch.stop()

	// Cordon, then evict through the PodDisruptionBudget, as `kubectl drain` does.
	code, body, err := cp.api.do("PATCH", "/api/v1/nodes/"+nodeName(lost), "application/merge-patch+json", []byte(`{"spec":{"unschedulable":true}}`))
	require.NoError(t, err)
	require.Equal(t, 200, code, string(body))
	pods, err := cp.gitlabPods()
	require.NoError(t, err)
	evictedAt := time.Now()
	for _, p := range pods {
		if p.zone == lost {
			assert.Equal(t, 201, cp.evict(t, p.name), "evicting %s: the budget allows one pod down", p.name)
		}
	}
	cp.awaitNoEndpoints(t, lost, time.Minute)
	t.Logf("%s: zone %s's endpoints removed %s after eviction", stack, lost, time.Since(evictedAt).Round(time.Millisecond))

	if len(others) > 0 {
		pods, err := cp.gitlabPods()
		require.NoError(t, err)
		for _, p := range pods {
			if p.zone == others[0] {
				assert.Equal(t, 429, cp.evict(t, p.name), "with one pod down, the budget refuses a second eviction")
				break
			}
		}
	}

	code, body, err = cp.api.do("DELETE", "/api/v1/nodes/"+nodeName(lost), "", nil)
	require.NoError(t, err)
	require.Equal(t, 200, code, string(body))
	// For half a minute, which covers the controllers' resync and the scheduler's retries, the lost zone's
	// replacement pods must stay Pending: their nodes are gone and their volume is zonal.
	cp.holdWhileZoneIsLost(t, lost, "")
	t.Logf("%s: zone %s lost for 30 s: its pods stayed Pending, no other zone's pod moved", stack, lost)

	cp.addNode(t, lost, zones[lost])
	backAt := time.Now()
	eventually(t, 3*time.Minute, "zone "+lost+" recovered", func() error { return cp.zonesServing(zones, all) })
	t.Logf("%s: zone %s serving again %s after its node came back", stack, lost, time.Since(backAt).Round(time.Millisecond))

	minimum, samples, missing := watch.stop()
	t.Logf("%s: %d endpoint samples while zone %s was lost; fewest ready endpoints %d; samples missing another zone: %d; "+
		"samples with a surviving zone's node lacking a local ready endpoint: %d", stack, samples, lost, minimum, missing, watch.unhealthySamples())
	assert.Greater(t, samples, 10)
	assert.GreaterOrEqual(t, minimum, len(others), "the Service never dropped below the other zones' endpoints")
	assert.Zero(t, missing, "no other zone ever lost its endpoints")
	assert.Zero(t, watch.unhealthySamples(), "every surviving zone's node kept answering the health check with 200")
}

// holdWhileZoneIsLost checks, once a second for half a minute, that every pod of the lost zone stays on one of
// the nodes it may be bound to ("" for unscheduled) and that every other zone's pod keeps running on its
// zone's node.
func (cp *controlPlane) holdWhileZoneIsLost(t *testing.T, lost string, mayBeOn ...string) {
	t.Helper()
	for held := time.Now(); time.Since(held) < 30*time.Second; time.Sleep(time.Second) {
		pods, err := cp.gitlabPods()
		require.NoError(t, err)
		for _, p := range pods {
			if p.zone == lost {
				require.Contains(t, mayBeOn, p.node, "pod %s of the lost zone %s landed on %s", p.name, lost, p.node)
			} else {
				require.True(t, p.phase == "Running" && p.node == nodeName(p.zone), "pod %s of zone %s stopped running", p.name, p.zone)
			}
		}
	}
}

// zoneToLose picks the last zone to lose, and returns every zone, that one, and the others.
func zoneToLose(zones map[string]map[string]string) (all []string, lost string, others []string) {
	all = sortedZones(zones)
	return all, all[len(all)-1], all[:len(all)-1]
}

// awaitNoEndpoints waits until none of the zone's pods is a ready endpoint of the Service.
func (cp *controlPlane) awaitNoEndpoints(t *testing.T, zone string, within time.Duration) {
	t.Helper()
	eventually(t, within, "zone "+zone+"'s endpoints gone", func() error {
		counts, err := cp.readyEndpointZones()
		if err != nil || counts[zone] > 0 {
			return fmt.Errorf("zone %s still has %d ready endpoints", zone, counts[zone])
		}
		return nil
	})
}

func (cp *controlPlane) evict(t *testing.T, name string) int {
	t.Helper()
	body := fmt.Sprintf(`{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":%q,"namespace":%q}}`, name, namespace)
	code, _, err := cp.api.do("POST", fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/eviction", namespace, name), "application/json", []byte(body))
	require.NoError(t, err)
	return code
}

// endpointWatch samples the Service's ready endpoints four times a second, and each surviving zone's node's
// local ready endpoints, the count its kube-proxy answers the load balancer's health check from.
type endpointWatch struct {
	done    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	minimum int
	samples int
	missing int
	// unhealthy counts samples in which a surviving zone's node had no local ready endpoint: its kube-proxy
	// would have answered the load balancer's health check with 503.
	unhealthy int
	stopped   bool
}

func (cp *controlPlane) watchEndpoints(others []string) *endpointWatch {
	w := &endpointWatch{done: make(chan struct{}), minimum: 1 << 30}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case <-w.done:
				return
			case <-time.After(250 * time.Millisecond):
			}
			counts, err := cp.readyEndpointZones()
			if err != nil {
				continue
			}
			local, err := cp.localReadyEndpoints()
			if err != nil {
				continue
			}
			total := 0
			for _, n := range counts {
				total += n
			}
			w.mu.Lock()
			w.samples++
			if total < w.minimum {
				w.minimum = total
			}
			for _, zone := range others {
				if counts[zone] == 0 {
					w.missing++
					break
				}
			}
			for _, zone := range others {
				if local[nodeName(zone)] == 0 {
					w.unhealthy++
					break
				}
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *endpointWatch) stop() (minimum, samples, missing int) {
	w.mu.Lock()
	if !w.stopped {
		w.stopped = true
		close(w.done)
	}
	w.mu.Unlock()
	w.wg.Wait()
	return w.minimum, w.samples, w.missing
}

// unhealthySamples is how many samples found a surviving zone's node with no local ready endpoint.
func (w *endpointWatch) unhealthySamples() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.unhealthy
}

// dump logs what the cluster says, for a failed run: nodes, pods and the latest events.
func (cp *controlPlane) dump(t *testing.T) {
	for _, path := range []string{"/api/v1/nodes", "/api/v1/namespaces/" + namespace + "/pods", "/api/v1/namespaces/" + namespace + "/events"} {
		var list struct {
			Items []map[string]any `json:"items"`
		}
		if err := cp.api.get(path, &list); err != nil {
			t.Logf("dump %s: %v", path, err)
			continue
		}
		for _, item := range list.Items {
			switch {
			case strings.HasSuffix(path, "/nodes"):
				t.Logf("node %s unschedulable=%v taints=%v", str(dig(item, "metadata", "name")), dig(item, "spec", "unschedulable"), dig(item, "spec", "taints"))
			case strings.HasSuffix(path, "/pods"):
				t.Logf("pod %s node=%q phase=%s conditions=%v", str(dig(item, "metadata", "name")), str(dig(item, "spec", "nodeName")),
					str(dig(item, "status", "phase")), dig(item, "status", "conditions"))
			default:
				t.Logf("event %s %s: %s", str(dig(item, "involvedObject", "name")), str(dig(item, "reason")), str(dig(item, "message")))
			}
		}
	}
}

// --- helpers ---------------------------------------------------------------------------------------------

func eventually(t *testing.T, within time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		if last = check(); last == nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %v", what, within, last)
}

func dig(v any, path ...string) any {
	for _, key := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[key]
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}
