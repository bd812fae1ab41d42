// Command linode stands up the whole Linode variant of GitLab HA: the project's composition on platform
// linode. Run it with `LINODE_TOKEN=… pulumi up -s example` here.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/stacks/linode"
)

// run is the program: the stacks' Linode composition, which refuses any other platform.
var run = linode.Program

func main() {
	pulumi.Run(run)
}
