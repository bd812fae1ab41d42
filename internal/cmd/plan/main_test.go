package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/internal/plan"
)

func writePlan(t *testing.T, stack string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, run(stack, dir))
	return dir
}

func TestThePlanWritesEveryResourceAndEveryKubernetesObject(t *testing.T) {
	dir := writePlan(t, "demo")

	var p plan.Plan
	body, err := os.ReadFile(filepath.Join(dir, "resources.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, &p))
	assert.Equal(t, "demo", p.Stack)

	result := componenttest.Run(demo)
	require.NoError(t, result.Err)
	assert.Len(t, p.Resources, len(result.Resources))
	kubernetesObjects := 0
	for _, r := range result.Resources {
		if strings.HasPrefix(r.Type, "kubernetes:") {
			kubernetesObjects++
		}
	}
	files, err := os.ReadDir(filepath.Join(dir, "manifests"))
	require.NoError(t, err)
	assert.Len(t, files, kubernetesObjects)

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
	assert.Contains(t, string(summary), "| `kubernetes:apps/v1:Deployment` | 4 |")
}

func TestNoSecretValueReachesThePlanFiles(t *testing.T) {
	dir := writePlan(t, "demo")
	result := componenttest.Run(demo)
	require.NoError(t, result.Err)
	secrets := []string{"example"}
	for _, password := range result.OfType("random:index/randomPassword:RandomPassword") {
		value, _ := password.Output("result")
		secrets = append(secrets, value.(string))
	}

	require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		body, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, secret := range secrets[1:] {
			assert.NotContains(t, string(body), secret, path)
		}
		assert.NotContains(t, string(body), "password: example", path)
		return nil
	}))
	secret, err := os.ReadFile(filepath.Join(dir, "manifests", "gitlab_secret_gitlab-secrets.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(secret), "GITLAB_DB_PASSWORD: '[secret]'")
}

func TestTwoPlansOfTheSameStackAreIdentical(t *testing.T) {
	first, second := writePlan(t, "demo"), writePlan(t, "demo")
	for _, file := range []string{"resources.json", "summary.md", "manifests/gitlab_deployment_gitlab-zone-b.yaml"} {
		a, err := os.ReadFile(filepath.Join(first, file))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(second, file))
		require.NoError(t, err)
		assert.Equal(t, string(a), string(b), file)
	}
}

func TestAnUnknownStackIsAnErrorThatListsTheKnownOnes(t *testing.T) {
	err := run("staging", t.TempDir())
	require.Error(t, err)
	assert.Equal(t, `unknown stack "staging"; known: demo`, err.Error())
}
