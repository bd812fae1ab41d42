package gitlab_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

// GitLab's health endpoints answer only clients in gitlab_rails['monitoring_whitelist'], loopback by default:
// the probes run curl inside the container, from 127.0.0.1, rather than an HTTP probe from the node.
const curl = "/opt/gitlab/embedded/bin/curl"

func TestLivenessAsksWhetherPumaIsAliveAndNothingElse(t *testing.T) {
	result, _ := deploy(t, threeZones())
	deployment, _ := result.Find(deploymentType, "gitlab-eu-west-1a")
	container := "spec.template.spec.containers[0]."
	liveness := deployment.MustInput(t, container+"livenessProbe.exec.command").([]any)
	assert.Equal(t, curl, liveness[0])
	assert.Equal(t, "http://127.0.0.1:8080/-/liveness", liveness[len(liveness)-1],
		"Puma's own port; /-/liveness checks no dependency, so a database outage restarts nobody")
	assert.Contains(t, liveness, "--fail")
	assert.Equal(t, liveness, deployment.MustInput(t, container+"startupProbe.exec.command"),
		"start-up ends when Puma answers; migrations no longer run in the pod")
	assert.Equal(t, float64(180), deployment.MustInput(t, container+"livenessProbe.periodSeconds").(float64)*
		deployment.MustInput(t, container+"livenessProbe.failureThreshold").(float64), "three minutes without Puma restarts it")
}

func TestReadinessAsksWhetherTheReplicaCanServeThroughNGINX(t *testing.T) {
	result, _ := deploy(t, threeZones())
	deployment, _ := result.Find(deploymentType, "gitlab-eu-west-1a")
	readiness := deployment.MustInput(t, "spec.template.spec.containers[0].readinessProbe.exec.command").([]any)
	assert.Equal(t, curl, readiness[0])
	assert.Equal(t, "http://127.0.0.1:80/-/readiness", readiness[len(readiness)-1],
		"through NGINX, Workhorse and Puma, and no further: without all=1, a failover of the database every zone "+
			"shares does not empty the Service of every zone at once")
	assert.NotContains(t, readiness, "--insecure")
}

func TestWithATLSSecretReadinessGoesThroughNGINXsHTTPS(t *testing.T) {
	args := threeZones()
	args.TLSSecretName = "gitlab-tls"
	result, _ := deploy(t, args)
	deployment, _ := result.Find(deploymentType, "gitlab-eu-west-1b")
	readiness := deployment.MustInput(t, "spec.template.spec.containers[0].readinessProbe.exec.command").([]any)
	require.NotEmpty(t, readiness)
	assert.Equal(t, "https://127.0.0.1:443/-/readiness", readiness[len(readiness)-1], "port 80 only redirects to HTTPS")
	assert.Contains(t, readiness, "--insecure", "the certificate names the external host, not 127.0.0.1")
}

func TestNoProbeUsesTheImagesHealthcheck(t *testing.T) {
	result, _ := deploy(t, threeZones())
	for _, deployment := range result.OfType(deploymentType) {
		if deployment.InputMap("metadata.labels")["app.kubernetes.io/component"] != gitlab.WebserviceComponent {
			continue
		}
		for _, probe := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
			command := deployment.MustInput(t, "spec.template.spec.containers[0]."+probe+".exec.command")
			assert.NotContains(t, command, "/opt/gitlab/bin/gitlab-healthcheck",
				"%s %s: gitlab-healthcheck renders /help, a full Rails page that fails with the database", deployment.Name, probe)
		}
	}
}
