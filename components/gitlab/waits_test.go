package gitlab_test

import (
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
)

// waited is how long Pulumi waits to create and to update r; it fails the test when r has no timeout.
func waited(t *testing.T, r componenttest.Resource) (create, update time.Duration) {
	t.Helper()
	require.NotNil(t, r.CustomTimeouts, "%s %s waits the provider's default 10 minutes", r.Type, r.Name)
	create, err := time.ParseDuration(r.CustomTimeouts.Create)
	require.NoError(t, err)
	update, err = time.ParseDuration(r.CustomTimeouts.Update)
	require.NoError(t, err)
	return create, update
}

// The provider gives up on an object after 10 minutes unless told otherwise; each object Pulumi awaits must
// be waited for at least as long as the readiness it waits for.
func TestPulumiWaitsForEachObjectAtLeastAsLongAsItsReadinessTakes(t *testing.T) {
	for _, replicas := range []int{1, 2} {
		args := threeZones()
		args.ReplicasPerZone = pulumi.IntRef(replicas)
		args.Service.Type = "LoadBalancer"
		result, _ := deploy(t, args)

		for _, zone := range zoneNames {
			deployment, _ := result.Find(deploymentType, "gitlab-"+zone)
			startup := deployment.MustInput(t, "spec.template.spec.containers[0].startupProbe.periodSeconds").(float64) *
				deployment.MustInput(t, "spec.template.spec.containers[0].startupProbe.failureThreshold").(float64)
			budget := time.Duration(replicas) * time.Duration(startup) * time.Second
			create, update := waited(t, deployment)
			assert.Greater(t, create, budget, "%s: %d replicas, each starting within %v", zone, replicas, time.Duration(startup)*time.Second)
			assert.Greater(t, update, budget, "%s: an upgrade starts every replica again", zone)
		}
		for _, job := range result.OfType("kubernetes:batch/v1:Job") {
			deadline := time.Duration(job.MustInput(t, "spec.activeDeadlineSeconds").(float64)) * time.Second
			create, _ := waited(t, job)
			assert.Greater(t, create, deadline, "%s: the Job's own deadline, with its message, ends a stuck migration", job.Name)
		}
		service, _ := result.Find("kubernetes:core/v1:Service", "gitlab")
		create, _ := waited(t, service)
		assert.Greater(t, create, time.Hour+15*time.Minute, "the Service has an endpoint once migrations ran and a replica started")
		for _, typ := range []string{pvcType, "kubernetes:core/v1:Service", deploymentType} {
			for _, r := range result.OfType(typ) {
				create, _ := waited(t, r)
				assert.GreaterOrEqual(t, create, 10*time.Minute, "%s %s", r.Type, r.Name)
			}
		}
	}
}
