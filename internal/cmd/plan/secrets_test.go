package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/internal/plan"
	"github.com/gitlab-ha/gitlab-ha/internal/stackconfig"
)

// A stack as its users would have it: the project's dev and prod, and the two examples, the existing cluster's
// with the secrets its users set themselves (and its optional object storage on, so that its keys are planned).
var reviewedStacks = []struct {
	dir, stack string
	secrets    map[string]string
	config     map[string]string
}{
	{dir: "../../..", stack: "dev"},
	{dir: "../../..", stack: "prod"},
	{dir: "../../../examples/linode", stack: "example"},
	{dir: "../../../examples/existing-cluster", stack: "example",
		secrets: map[string]string{
			"gitlab-ha:kubeconfig": "apiVersion: v1\nkind: Config\n", "gitlab-ha:databasePassword": "example-password",
			"gitlab-ha:objectStorageAccessKeyId": "example-key-id", "gitlab-ha:objectStorageSecretAccessKey": "example-secret",
		},
		config: map[string]string{
			"gitlab-ha:objectStorage": `{"endpoint":"https://minio.internal.example.com","region":"us-east-1","pathStyle":true,` +
				`"buckets":{"artifacts":"a","external_diffs":"b","lfs":"c","uploads":"d","packages":"e","dependency_proxy":"f",` +
				`"terraform_state":"g","ci_secure_files":"h","pages":"i"}}`,
			"gitlab-ha:backup": `{"bucket":"gitlab-backups"}`,
		}},
}

// secretPaths lists the paths of v at which the plan holds a redacted (secret) value.
func secretPaths(path string, v any) []string {
	switch value := v.(type) {
	case map[string]any:
		var paths []string
		for key, element := range value {
			paths = append(paths, secretPaths(path+"."+key, element)...)
		}
		return paths
	case []any:
		var paths []string
		for i, element := range value {
			paths = append(paths, secretPaths(fmt.Sprintf("%s[%d]", path, i), element)...)
		}
		return paths
	case string:
		if value == plan.Redacted {
			return []string{path}
		}
	}
	return nil
}

// A value a provider marks secret makes everything computed from it secret. In a ConfigMap, a Deployment or any
// other Kubernetes object but a Secret, that hides the whole object from the merge request's plan diff (one
// secret line makes all of gitlab.rb "[secret]") and puts the value where more roles can read it than read
// Secrets. This holds whatever the providers mark secret in their next version: the test reads the plans.
func TestNoKubernetesObjectButASecretPlansASecretValue(t *testing.T) {
	for _, s := range reviewedStacks {
		t.Run(strings.TrimPrefix(s.dir, "../../../")+"/"+s.stack, func(t *testing.T) {
			config, err := stackconfig.Load(s.dir, s.stack)
			require.NoError(t, err)
			for key, value := range s.config {
				config.Config[key] = value
			}
			for key, value := range s.secrets {
				config.Config[key] = value
				config.SecretKeys = append(config.SecretKeys, key)
			}
			p, _, err := planStack(config)
			require.NoError(t, err)

			kubernetesObjects := 0
			for _, r := range p.Resources {
				if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") || r.Type == "kubernetes:core/v1:Secret" {
					continue
				}
				kubernetesObjects++
				paths := secretPaths("", r.Inputs)
				sort.Strings(paths)
				assert.Empty(t, paths, "%s %s plans secret values", r.Type, r.Name)
			}
			assert.Greater(t, kubernetesObjects, 15)
		})
	}
}
