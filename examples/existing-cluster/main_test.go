package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/internal/stackconfig"
)

// withSecrets is the example stack with the two secrets its users set themselves.
func withSecrets(t *testing.T) (map[string]string, []string) {
	t.Helper()
	stack, err := stackconfig.Load(".", "example")
	require.NoError(t, err)
	stack.Config["gitlab-ha:kubeconfig"] = "apiVersion: v1\nkind: Config\n"
	stack.Config["gitlab-ha:databasePassword"] = "example-password"
	return stack.Config, []string{"gitlab-ha:kubeconfig", "gitlab-ha:databasePassword"}
}

func TestTheExampleDeploysGitLabAloneOntoTheExistingClustersZones(t *testing.T) {
	config, secrets := withSecrets(t)
	result := componenttest.Run(run, componenttest.WithStack("gitlab-ha-existing", "example"), componenttest.WithConfig(config, secrets...))
	require.NoError(t, result.Err)

	for _, r := range result.Resources {
		assert.False(t, strings.HasPrefix(r.Type, "aws:"), "%s %s", r.Type, r.Name)
	}
	for zone, server := range map[string]string{"zone-a": "10.10.1.20", "zone-b": "10.10.2.20"} {
		volume, ok := result.Find("kubernetes:core/v1:PersistentVolume", "gitlab-"+zone)
		require.True(t, ok, zone)
		assert.Equal(t, server, volume.InputString("spec.nfs.server"))
		assert.Equal(t, "/exports/gitlab", volume.InputString("spec.nfs.path"))
		deployment, _ := result.Find("kubernetes:apps/v1:Deployment", "gitlab-"+zone)
		assert.Equal(t, map[string]string{"example.com/zone": zone}, deployment.InputMap("spec.template.spec.nodeSelector"))
	}
	service, _ := result.Find("kubernetes:core/v1:Service", "gitlab")
	// serviceType NodePort: a load balancer of the team's own in front of the node ports, which checks the
	// health-check port; Kubernetes gives one to a LoadBalancer Service only, of a class nothing acts on.
	assert.Equal(t, "LoadBalancer", service.InputString("spec.type"))
	assert.Equal(t, gitlab.ExternalLoadBalancerClass, service.InputString("spec.loadBalancerClass"))
	assert.Equal(t, "Local", service.InputString("spec.externalTrafficPolicy"))
	assert.Equal(t, float64(gitlab.DefaultHealthCheckNodePort), service.MustInput(t, "spec.healthCheckNodePort"))
	assert.Empty(t, result.PlaintextLeaks("example-password", "kind: Config"))
}

func TestTheExampleRefusesAValidStackOfAnotherPlatform(t *testing.T) {
	dev, err := stackconfig.Load("../..", "dev") // the project's own AWS stack
	require.NoError(t, err)
	result := componenttest.Run(run, componenttest.WithConfig(dev.Config))
	require.Error(t, result.Err)
	assert.Contains(t, result.Err.Error(), `gitlab-ha:platform: "aws" is not existing, the only platform this program builds`)
	assert.Empty(t, result.Resources)
}
