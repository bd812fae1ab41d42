//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The plan's resources.json holds every resource with the resources it depends on. Pulumi registers a
// resource once everything it depends on is done, and a Kubernetes object is done when the provider's await
// says so: a Job when it has completed, a Deployment when it has rolled out. deploy plays that engine against
// the control plane, so that the order the program asks for is the order Kubernetes sees.

// planned is one resource of a plan: a Kubernetes object, or something outside the cluster (a random value,
// a cloud resource, a component), which is done as soon as its turn comes.
type planned struct {
	urn, typ, name string
	deps           []string
	object         map[string]any // nil outside the cluster
}

// readPlan reads a plan's resources.json.
func readPlan(t *testing.T, dir string) []planned {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(dir, "resources.json"))
	require.NoError(t, err, "no plan in %s: run `make e2e`", dir)
	var plan struct {
		Resources []struct {
			URN          string         `json:"urn"`
			Type         string         `json:"type"`
			Name         string         `json:"name"`
			Custom       bool           `json:"custom"`
			Dependencies []string       `json:"dependencies"`
			Inputs       map[string]any `json:"inputs"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(body, &plan))
	var out []planned
	for _, r := range plan.Resources {
		p := planned{urn: r.URN, typ: r.Type, name: r.Name, deps: r.Dependencies}
		if r.Custom && strings.HasPrefix(r.Type, "kubernetes:") {
			p.object = r.Inputs
		}
		out = append(out, p)
	}
	require.NotEmpty(t, out)
	return out
}

// objectsOf returns a plan's Kubernetes objects.
func objectsOf(plan []planned) []map[string]any {
	var objects []map[string]any
	for _, p := range plan {
		if p.object != nil {
			objects = append(objects, p.object)
		}
	}
	return objects
}

// milestone is when deploy saw an object applied and done, and, for a Job, which GitLab pods existed then.
type milestone struct {
	applied, done time.Time
	podsAtDone    []pod
	imagesAtDone  map[string]string // pod name -> image, for the GitLab pods that existed when a Job completed
}

// rollout is what one deploy saw, by URN.
type rollout map[string]*milestone

// deploy applies a plan in the engine's order, waiting as the provider waits, and, as Pulumi does after
// creating a replacement, deletes the objects of previous whose URN now names another object or none.
func (cp *controlPlane) deploy(t *testing.T, plan, previous []planned) rollout {
	t.Helper()
	seen := rollout{}
	done := map[string]bool{}
	inPlan := map[string]bool{}
	for _, p := range plan {
		inPlan[p.urn] = true
	}
	for len(done) < len(plan) {
		var wave []planned
		for _, p := range plan {
			if done[p.urn] {
				continue
			}
			ready := true
			for _, dep := range p.deps {
				if inPlan[dep] && !done[dep] {
					ready = false
					break
				}
			}
			if ready {
				wave = append(wave, p)
			}
		}
		require.NotEmpty(t, wave, "the plan's dependencies form a cycle")
		var waits sync.WaitGroup
		var mu sync.Mutex
		var failures []error
		for _, p := range wave {
			if p.object == nil {
				done[p.urn] = true
				continue
			}
			// A custom resource waits, briefly, for the API server to serve the kind its definition declared.
			eventually(t, 30*time.Second, fmt.Sprintf("%s %s is accepted", p.typ, p.name), func() error { return cp.api.apply(p.object) })
			m := &milestone{applied: time.Now()}
			seen[p.urn] = m
			waits.Add(1)
			go func(p planned) {
				defer waits.Done()
				pods, images, err := cp.awaitDone(p, 3*time.Minute)
				mu.Lock()
				defer mu.Unlock()
				m.done, m.podsAtDone, m.imagesAtDone = time.Now(), pods, images
				if err != nil {
					failures = append(failures, err)
				}
			}(p)
		}
		waits.Wait()
		require.Empty(t, failures)
		for _, p := range wave {
			done[p.urn] = true
		}
	}
	names := map[string]string{}
	for _, p := range plan {
		if p.object != nil {
			names[p.urn] = objectPath(p.object)
		}
	}
	for _, old := range previous {
		if old.object != nil && names[old.urn] != objectPath(old.object) {
			code, body, err := cp.api.do("DELETE", objectPath(old.object)+"?propagationPolicy=Background", "", nil)
			require.NoError(t, err)
			require.Contains(t, []int{200, 202, 404}, code, string(body))
		}
	}
	return seen
}

// awaitDone waits as the Kubernetes provider does: a Job until it has completed, a Deployment until every
// replica runs its current template; other objects are done once accepted. For a Job it returns the GitLab
// pods that existed, with their images, the moment it completed.
func (cp *controlPlane) awaitDone(p planned, within time.Duration) ([]pod, map[string]string, error) {
	kind, _ := p.object["kind"].(string)
	path := objectPath(p.object)
	deadline := time.Now().Add(within)
	for {
		var current map[string]any
		err := cp.api.get(path, &current)
		if err == nil {
			switch kind {
			case "Job":
				var complete bool
				if complete, err = jobComplete(current); err != nil {
					return nil, nil, err
				}
				if complete {
					return cp.gitlabPodImages()
				}
				err = fmt.Errorf("job %s not complete: %v", str(dig(current, "metadata", "name")), dig(current, "status"))
			case "Deployment":
				want := number(dig(current, "spec", "replicas"))
				if number(dig(current, "status", "observedGeneration")) >= number(dig(current, "metadata", "generation")) &&
					number(dig(current, "status", "updatedReplicas")) == want && number(dig(current, "status", "availableReplicas")) == want &&
					number(dig(current, "status", "replicas")) == want {
					return nil, nil, nil
				}
				err = fmt.Errorf("deployment %s not rolled out: %v", p.name, dig(current, "status"))
			case "StatefulSet":
				// As the provider awaits one: every replica ready, on the current revision.
				want := number(dig(current, "spec", "replicas"))
				if number(dig(current, "status", "observedGeneration")) >= number(dig(current, "metadata", "generation")) &&
					number(dig(current, "status", "readyReplicas")) == want && number(dig(current, "status", "updatedReplicas")) == want &&
					str(dig(current, "status", "currentRevision")) == str(dig(current, "status", "updateRevision")) {
					return nil, nil, nil
				}
				err = fmt.Errorf("statefulset %s not rolled out: %v", p.name, dig(current, "status"))
			default:
				return nil, nil, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("%s %s not done within %s: %w", p.typ, p.name, within, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// jobComplete reads a Job's conditions; a failed Job is an error, as the provider makes it one.
func jobComplete(job map[string]any) (bool, error) {
	conditions, _ := dig(job, "status", "conditions").([]any)
	for _, c := range conditions {
		if str(dig(c, "status")) != "True" {
			continue
		}
		switch str(dig(c, "type")) {
		case "Failed":
			return false, fmt.Errorf("job %s failed: %s", str(dig(job, "metadata", "name")), str(dig(c, "message")))
		case "Complete":
			return true, nil
		}
	}
	return false, nil
}

// gitlabPodImages lists the GitLab pods and the image each runs.
func (cp *controlPlane) gitlabPodImages() ([]pod, map[string]string, error) {
	pods, err := cp.gitlabPods()
	if err != nil {
		return nil, nil, err
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := cp.api.get("/api/v1/namespaces/"+namespace+"/pods?labelSelector=app.kubernetes.io/component%3Dwebservice", &list); err != nil {
		return nil, nil, err
	}
	images := map[string]string{}
	for _, item := range list.Items {
		if dig(item, "metadata", "deletionTimestamp") != nil {
			continue
		}
		containers, _ := dig(item, "spec", "containers").([]any)
		if len(containers) > 0 {
			images[str(dig(item, "metadata", "name"))] = str(dig(containers[0], "image"))
		}
	}
	return pods, images, nil
}

func number(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// find returns the resource of a plan with that type and logical name.
func find(t *testing.T, plan []planned, typ, name string) planned {
	t.Helper()
	for _, p := range plan {
		if p.typ == typ && p.name == name {
			return p
		}
	}
	t.Fatalf("the plan has no %s %s", typ, name)
	return planned{}
}

// zoneDeployments are the plan's per-zone GitLab Deployments.
func zoneDeployments(plan []planned) []planned {
	var out []planned
	for _, p := range plan {
		if p.typ == "kubernetes:apps/v1:Deployment" && str(dig(p.object, "metadata", "labels", "zone")) != "" {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// --- the upgrade plan ------------------------------------------------------------------------------------

// upgradeImage is a newer patch release than the pinned image. kwok pulls nothing, so only its tag matters:
// it names the release, and with it the migration Jobs.
const upgradeImage = "gitlab/gitlab-ce:18.11.12-ce.0"

// stackSources says where each e2e stack's Pulumi.yaml and stack file live, as `make e2e` plans them.
var stackSources = map[string]struct{ dir, stack string }{
	"dev": {".", "dev"}, "prod": {".", "prod"}, "linode": {"examples/linode", "example"},
}

// planUpgrade plans a stack again with gitlab-ha:gitlab.image set to upgradeImage.
func planUpgrade(t *testing.T, stack string) []planned {
	t.Helper()
	return planWith(t, stack, func(config map[string]any) {
		section(config, "gitlab-ha:gitlab")["image"] = upgradeImage
	})
}

// section returns a stack file's object-valued config key, made if absent.
func section(config map[string]any, key string) map[string]any {
	value, _ := config[key].(map[string]any)
	if value == nil {
		value = map[string]any{}
		config[key] = value
	}
	return value
}

// planWith plans a stack with its configuration edited, through the same command `make e2e` plans it with,
// from a copy of its project and stack files.
func planWith(t *testing.T, stack string, edit func(config map[string]any)) []planned {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	source := stackSources[stack]
	dir := t.TempDir()
	project, err := os.ReadFile(filepath.Join(root, source.dir, "Pulumi.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644))

	body, err := os.ReadFile(filepath.Join(root, source.dir, "Pulumi."+source.stack+".yaml"))
	require.NoError(t, err)
	var stackFile map[string]any
	require.NoError(t, yaml.Unmarshal(body, &stackFile))
	config, _ := stackFile["config"].(map[string]any)
	edit(config)
	body, err = yaml.Marshal(stackFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi."+source.stack+".yaml"), body, 0o644))

	out := filepath.Join(dir, "plan")
	cmd := exec.Command("go", "run", "./internal/cmd/plan", "-dir", dir, "-stack", source.stack, "-out", out)
	cmd.Dir = root
	output, err := cmd.CombinedOutput()
	require.NoError(t, err, "planning %s: %s", stack, output)
	return readPlan(t, out)
}
