// Command gitlab-ha is the program Pulumi.yaml runs: `pulumi up -s dev` from the repository root. It builds
// whichever platform the stack names, so it compiles every platform's SDKs.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/stacks/all"
)

func main() {
	pulumi.Run(all.Program)
}
