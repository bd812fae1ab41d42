package all_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On every platform GitLab's exporters are open to gitlab-ha:monitoring.prometheusNamespace alone.
func TestTheExportersAreOpenToThePrometheusNamespaceOnEveryPlatform(t *testing.T) {
	for name, s := range map[string]*stack{"dev": load(t, "dev"), "linode": linodeStack(t), "existing": existingStack(t)} {
		t.Run(name, func(t *testing.T) {
			result, _ := s.set("monitoring", map[string]any{"prometheusNamespace": "observability"}).run(t)
			require.NoError(t, result.Err)
			policy, ok := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-metrics")
			require.True(t, ok)
			assert.Equal(t, "observability", policy.InputString(`spec.ingress[0].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]`))
		})
	}
}

func TestAPrometheusNamespaceThatCannotBeIsRefusedNamingTheKey(t *testing.T) {
	result, _ := load(t, "prod").set("monitoring", map[string]any{"prometheusNamespace": "Monitoring"}).run(t)
	require.Error(t, result.Err)
	assert.Contains(t, result.Err.Error(), `gitlab-ha:monitoring.prometheusNamespace: "Monitoring" is not a valid DNS label`)
	assert.Equal(t, 1, strings.Count(result.Err.Error(), "gitlab-ha:"), "one error: %s", result.Err)
	assert.Empty(t, result.Resources, "a bad configuration registers nothing")
}
