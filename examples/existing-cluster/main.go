// Command existing-cluster deploys GitLab HA onto a cluster that exists already: the same composition as the
// project's own stacks (stacks.Deploy), on platform existing. Run it with `pulumi up -s example` here.
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
	if cfg.Platform != stacks.PlatformExisting {
		return fmt.Errorf("%s:platform is %q; this example deploys onto an existing cluster", stacks.Namespace, cfg.Platform)
	}
	out, err := stacks.Deploy(ctx, cfg)
	if err != nil {
		return err
	}
	out.Export(ctx)
	return nil
}
