package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/internal/plan"
)

func writePlan(t *testing.T, stack string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, run("../../..", stack, dir))
	return dir
}

func readPlan(t *testing.T, dir string) plan.Plan {
	t.Helper()
	var p plan.Plan
	body, err := os.ReadFile(filepath.Join(dir, "resources.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, &p))
	return p
}

func TestThePlanWritesEveryResourceAndEveryKubernetesObject(t *testing.T) {
	dir := writePlan(t, "prod")
	p := readPlan(t, dir)
	assert.Equal(t, "prod", p.Stack)

	kubernetesObjects := 0
	for _, r := range p.Resources {
		if r.Custom && strings.HasPrefix(r.Type, "kubernetes:") {
			kubernetesObjects++
		}
	}
	files, err := os.ReadDir(filepath.Join(dir, "manifests"))
	require.NoError(t, err)
	assert.Len(t, files, kubernetesObjects)
	assert.Greater(t, kubernetesObjects, 10)
	for _, file := range files {
		var object map[string]any
		body, err := os.ReadFile(filepath.Join(dir, "manifests", file.Name()))
		require.NoError(t, err)
		require.NoError(t, yaml.Unmarshal(body, &object), file.Name())
		assert.NotEmpty(t, object["apiVersion"], file.Name())
		assert.NotEmpty(t, object["kind"], file.Name())
	}
	summary, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	require.NoError(t, err)
	assert.Contains(t, string(summary), "| `aws:eks/nodeGroup:NodeGroup` | 3 |")
}

func TestNoSecretValueReachesThePlanFiles(t *testing.T) {
	dir := writePlan(t, "dev")
	p := readPlan(t, dir)
	redacted := 0
	for _, r := range p.Resources {
		if r.Type == "kubernetes:core/v1:Secret" {
			for _, value := range r.Inputs["stringData"].(map[string]any) {
				assert.Equal(t, plan.Redacted, value)
				redacted++
			}
		}
	}
	assert.Greater(t, redacted, 6)
	secret, err := os.ReadFile(filepath.Join(dir, "manifests", "gitlab_secret_gitlab-secrets.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(secret), "GITLAB_DB_PASSWORD: '[secret]'")
}

func TestTwoPlansOfTheSameStackAreIdentical(t *testing.T) {
	first, second := writePlan(t, "prod"), writePlan(t, "prod")
	for _, file := range []string{"resources.json", "summary.md", "manifests/gitlab_deployment_gitlab-eu-west-1b.yaml"} {
		a, err := os.ReadFile(filepath.Join(first, file))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(second, file))
		require.NoError(t, err)
		assert.Equal(t, string(a), string(b), file)
	}
}

func TestAStackWithoutAFileIsAnError(t *testing.T) {
	err := run("../../..", "staging", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Pulumi.staging.yaml")
}

func TestTheCriticalPathOfDevAndProdIsTheLowerBound(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		dir := writePlan(t, stack)
		summary, err := os.ReadFile(filepath.Join(dir, "summary.md"))
		require.NoError(t, err)
		assert.Contains(t, string(summary), "equal, so no dependency the plan adds makes the deployment slower", stack)
		graph, err := os.ReadFile(filepath.Join(dir, "graph.mmd"))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(graph), "flowchart LR\n"), stack)
		for _, subgraph := range []string{`["network Network gitlab"]`, `["cluster EKS gitlab"]`, `["database RDS gitlab-db"]`, `["gitlab GitLab gitlab"]`} {
			assert.Contains(t, string(graph), subgraph, stack)
		}
	}
}

func TestAnExplicitDependencyThatLengthensTheChainShowsAboveTheLowerBound(t *testing.T) {
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		first, err := ec2.NewNatGateway(ctx, "first", &ec2.NatGatewayArgs{SubnetId: pulumi.String("subnet-1")})
		if err != nil {
			return err
		}
		_, err = ec2.NewNatGateway(ctx, "second", &ec2.NatGatewayArgs{SubnetId: pulumi.String("subnet-2")},
			pulumi.DependsOn([]pulumi.Resource{first}))
		return err
	})
	require.NoError(t, result.Err)
	p := plan.New("test", result)
	assert.InDelta(t, 4.0, p.CriticalPath().Minutes, 1e-9, "two NAT gateways one after the other")
	assert.InDelta(t, 2.0, p.LowerBound().Minutes, 1e-9, "no data flows between them")
	assert.Contains(t, p.Summary(), "explicit dependencies add 2.0 minutes")
}

func TestAConfigurationErrorFailsThePlanWithTheProgramsErrorAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	project, err := os.ReadFile("../../../Pulumi.yaml")
	require.NoError(t, err)
	dev, err := os.ReadFile("../../../Pulumi.dev.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644))
	bad := strings.Replace(string(dev), "- eu-west-1b", "- eu-west-2b", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.bad.yaml"), []byte(bad), 0o644))

	out := filepath.Join(t.TempDir(), "plan")
	err = run(dir, "bad", out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `gitlab-ha:zones[1]: "eu-west-2b" is not in region eu-west-1`)
	_, statErr := os.Stat(out)
	assert.True(t, os.IsNotExist(statErr), "a failed plan writes no files")
}

// resources.json records the options that decide how an update goes, so that a merge request's plan diff shows a
// change to them: here the waits of dev's zones (components/gitlab/waits.go: each replica's start-up budget, the
// startup probe's period times its failures, plus a 10-minute margin), and the NodeBalancer's ignored fields.
func TestThePlanRecordsTheOptionsThatDecideAnUpdate(t *testing.T) {
	p := readPlan(t, writePlan(t, "dev"))
	zones := 0
	for _, r := range p.Resources {
		if r.Type != "kubernetes:apps/v1:Deployment" || r.Name == "gitlab-redis" || r.Parent == "" {
			continue
		}
		spec := r.Inputs["spec"].(map[string]any)
		container := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		probe := container["startupProbe"].(map[string]any)
		startup := time.Duration(probe["periodSeconds"].(float64)*probe["failureThreshold"].(float64)) * time.Second
		wait := time.Duration(spec["replicas"].(float64))*startup + 10*time.Minute
		minutes := fmt.Sprintf("%dm", int(wait.Minutes()))
		require.NotNil(t, r.CustomTimeouts, r.Name)
		assert.Equal(t, plan.CustomTimeouts{Create: minutes, Update: minutes}, *r.CustomTimeouts, r.Name)
		zones++
	}
	assert.Equal(t, 2, zones, "dev's two zones")

	linode := readPlan(t, func() string {
		dir := t.TempDir()
		require.NoError(t, run("../../../examples/linode", "example", dir))
		return dir
	}())
	var nodeBalancer *plan.Resource
	for i, r := range linode.Resources {
		if r.Type == "linode:index/nodeBalancer:NodeBalancer" {
			nodeBalancer = &linode.Resources[i]
		}
	}
	require.NotNil(t, nodeBalancer)
	assert.Equal(t, []string{"firewallId", "tags"}, nodeBalancer.IgnoreChanges, "the fields the Linode cloud controller owns")
}
