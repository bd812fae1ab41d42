// Command linode stands up the whole Linode variant of GitLab HA: the project's composition (stacks.Deploy)
// on platform linode. Run it with `LINODE_TOKEN=… pulumi up -s example` here.
package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/stacks"
)

func main() {
	pulumi.Run(run)
}

func run(ctx *pulumi.Context) error {
	cfg, err := stacks.Load(ctx)
	if err != nil {
		return err
	}
	if cfg.Platform != stacks.PlatformLinode {
		return fmt.Errorf("%s:platform is %q; this example builds on Linode", stacks.Namespace, cfg.Platform)
	}
	out, err := stacks.Deploy(ctx, cfg)
	if err != nil {
		return err
	}
	out.Export(ctx)
	return nil
}
