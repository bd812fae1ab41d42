// Command existing-cluster deploys GitLab HA onto a cluster that exists already: the same composition as the
// project's own stacks, on platform existing. Run it with `pulumi up -s example` here.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/stacks/existing"
)

// run is the program: the stacks' composition for an existing cluster, which refuses any other platform.
var run = existing.Program

func main() {
	pulumi.Run(run)
}
