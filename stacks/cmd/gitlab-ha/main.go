// Command gitlab-ha is the program Pulumi.yaml runs: `pulumi up -s dev` from the repository root.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/stacks"
)

func main() {
	pulumi.Run(stacks.Program)
}
