package gitlab

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// How long Pulumi waits for each object it awaits, in one place. The Kubernetes provider gives up on a
// Deployment, a Job, a claim or a LoadBalancer Service after 10 minutes unless told otherwise, which is
// shorter than GitLab's own start: an update would fail while GitLab was still starting, right.
const (
	// startupPeriodSeconds and startupFailures are the GitLab container's startup probe: start-up (a
	// reconfigure, on a slow file system) may take their product, 15 minutes, before liveness takes over.
	startupPeriodSeconds = 10
	startupFailures      = 90
	// migrationDeadlineSeconds bounds a migration Job (GitLab's chart gives its Job an hour); Pulumi waits a
	// little longer, so that the Job's own deadline, with its clear failure, is what ends a stuck migration.
	migrationDeadlineSeconds = 3600
	// settleMargin covers what comes on top of a start: scheduling, pulling the image, the readiness probe's
	// first successes, a claim binding, a cloud controller giving a load balancer its address.
	settleMargin = 10 * time.Minute
)

// startupBudget is how long one GitLab pod may take to start.
const startupBudget = startupPeriodSeconds * startupFailures * time.Second

// zoneRolloutWait is how long a zone's Deployment may take to roll out: its replicas start one at a time
// (maxUnavailable 0, maxSurge 1), each within the start-up budget.
func zoneRolloutWait(replicas int) time.Duration {
	return time.Duration(replicas)*startupBudget + settleMargin
}

// migrationWait outlasts the migration Job's own deadline.
const migrationWait = migrationDeadlineSeconds*time.Second + settleMargin

// serviceWait is how long the GitLab Service may take to have an endpoint, which Pulumi awaits: on a first
// install, until the migrations have run and a first replica has started.
const serviceWait = migrationDeadlineSeconds*time.Second + startupBudget + settleMargin

// supportWait is for what starts in seconds (Redis, a claim binding to its static volume, a load balancer's
// address): the provider's default 10 minutes, said here rather than left implicit.
const supportWait = settleMargin

// waitFor is the resource option that makes Pulumi wait d for an object to be ready, on create and update.
func waitFor(d time.Duration) pulumi.ResourceOption {
	minutes := fmt.Sprintf("%dm", int((d+time.Minute-1)/time.Minute))
	return pulumi.Timeouts(&pulumi.CustomTimeouts{Create: minutes, Update: minutes})
}
