//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// localReadyEndpoints counts, per node, the GitLab Service's ready endpoints on that node: what kube-proxy's
// health-check server answers from (k8s.io/kubernetes v1.33 pkg/proxy: an endpoint is ready when its ready
// condition is unset or true, and local when its nodeName is the node's, endpointslicecache.go:209-211; the
// count is of distinct addresses, endpointschangetracker.go LocalReadyEndpoints). 200 with one or more, 503
// with none (healthcheck/service_health.go).
func (cp *controlPlane) localReadyEndpoints() (map[string]int, error) {
	var slices struct {
		Items []map[string]any `json:"items"`
	}
	if err := cp.api.get("/apis/discovery.k8s.io/v1/namespaces/"+namespace+"/endpointslices?labelSelector=kubernetes.io/service-name%3Dgitlab", &slices); err != nil {
		return nil, err
	}
	addresses := map[string]map[string]bool{}
	for _, slice := range slices.Items {
		endpoints, _ := slice["endpoints"].([]any)
		for _, e := range endpoints {
			node := str(dig(e, "nodeName"))
			if ready, set := dig(e, "conditions", "ready").(bool); node == "" || (set && !ready) {
				continue
			}
			if addresses[node] == nil {
				addresses[node] = map[string]bool{}
			}
			list, _ := dig(e, "addresses").([]any)
			for _, a := range list {
				addresses[node][fmt.Sprint(a)] = true
			}
		}
	}
	counts := map[string]int{}
	for node, set := range addresses {
		counts[node] = len(set)
	}
	return counts, nil
}

// checkServiceTraffic: the API server kept the GitLab Service as the plan wrote it: each node's traffic to
// its own pods, the health-check port pinned, the class kept.
func (cp *controlPlane) checkServiceTraffic(t *testing.T, label string, objects []map[string]any) {
	t.Helper()
	for _, o := range objects {
		if o["kind"] != "Service" || str(dig(o, "metadata", "name")) != "gitlab" {
			continue
		}
		var service map[string]any
		require.NoError(t, cp.api.get(objectPath(o), &service))
		assert.Equal(t, "Local", str(dig(service, "spec", "externalTrafficPolicy")), label)
		assert.Equal(t, dig(o, "spec", "healthCheckNodePort"), dig(service, "spec", "healthCheckNodePort"), "%s: the pinned health-check port", label)
		assert.Equal(t, str(dig(o, "spec", "loadBalancerClass")), str(dig(service, "spec", "loadBalancerClass")), label)
		t.Logf("%s: Service gitlab %s, externalTrafficPolicy %s, healthCheckNodePort %v", label, str(dig(service, "spec", "type")),
			str(dig(service, "spec", "externalTrafficPolicy")), dig(service, "spec", "healthCheckNodePort"))
		return
	}
	t.Fatalf("%s: the plan has no Service gitlab", label)
}

// previousService is the GitLab Service as the component made it before it kept traffic on its node: no
// health-check port, no class, the default Cluster policy, and (on AWS) a NodePort Service. A running stack
// holds this one.
func previousService(current map[string]any) map[string]any {
	var previous map[string]any
	body, _ := json.Marshal(current)
	_ = json.Unmarshal(body, &previous)
	spec := previous["spec"].(map[string]any)
	for _, field := range []string{"externalTrafficPolicy", "healthCheckNodePort", "loadBalancerClass"} {
		delete(spec, field)
	}
	if str(dig(current, "spec", "loadBalancerClass")) != "" {
		spec["type"] = "NodePort"
		delete(previous["metadata"].(map[string]any), "annotations")
	}
	return previous
}

// A running stack's Service takes the Local policy, its pinned health-check port and (on AWS) its class in
// an update, with no replacement: the same object, address and node ports. The port survives a later apply,
// and Kubernetes refuses to change it, which is why the README says a new port means replacing the Service.
func TestARunningStacksServiceTakesItsHealthCheckPortInPlaceAndKeepsIt(t *testing.T) {
	cp := startControlPlane(t)
	require.NoError(t, cp.api.apply(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": namespace}}))
	for _, stack := range []string{"dev", "linode"} {
		var current map[string]any
		for _, p := range readPlan(t, filepath.Join(os.Getenv("E2E_PLANS"), stack)) {
			if p.object != nil && p.object["kind"] == "Service" && str(dig(p.object, "metadata", "name")) == "gitlab" {
				current = p.object
			}
		}
		require.NotNil(t, current, stack)
		port := dig(current, "spec", "healthCheckNodePort")
		require.NotNil(t, port, "%s: the plan pins the health-check port", stack)

		require.NoError(t, cp.api.apply(previousService(current)), "%s: the running stack's Service", stack)
		var before, after map[string]any
		require.NoError(t, cp.api.get(objectPath(current), &before))
		require.NoError(t, cp.api.apply(current), "%s: the update is accepted", stack)
		require.NoError(t, cp.api.get(objectPath(current), &after))
		assert.Equal(t, dig(before, "metadata", "uid"), dig(after, "metadata", "uid"), "%s: updated, not replaced", stack)
		assert.Equal(t, dig(before, "spec", "clusterIP"), dig(after, "spec", "clusterIP"), stack)
		assert.Equal(t, port, dig(after, "spec", "healthCheckNodePort"), stack)
		assert.Equal(t, "Local", str(dig(after, "spec", "externalTrafficPolicy")), stack)
		t.Logf("%s: %s Service updated in place to %s, Local, healthCheckNodePort %v", stack, str(dig(before, "spec", "type")),
			str(dig(after, "spec", "type")), port)

		// A later update (here, a label) keeps the port.
		relabelled := withLabel(current)
		require.NoError(t, cp.api.apply(relabelled), stack)
		require.NoError(t, cp.api.get(objectPath(current), &after))
		assert.Equal(t, port, dig(after, "spec", "healthCheckNodePort"), "%s: the port survives an update", stack)

		moved := fmt.Sprintf(`{"spec":{"healthCheckNodePort":%v}}`, port.(float64)+1)
		code, body, err := cp.api.do("PATCH", objectPath(current), "application/merge-patch+json", []byte(moved))
		require.NoError(t, err)
		assert.Equal(t, 422, code, "%s: %s", stack, body)
		assert.Contains(t, string(body), "field is immutable", stack)

		code, _, err = cp.api.do("DELETE", objectPath(current), "", nil)
		require.NoError(t, err)
		require.Equal(t, 200, code)
	}
}

// withLabel is the planned Service with one more label, an update that touches no port.
func withLabel(current map[string]any) map[string]any {
	var copied map[string]any
	body, _ := json.Marshal(current)
	_ = json.Unmarshal(body, &copied)
	labels := copied["metadata"].(map[string]any)["labels"].(map[string]any)
	labels["example.com/touched"] = "true"
	return copied
}
