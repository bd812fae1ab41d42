// Package all is the composition for every platform, picked by gitlab-ha:platform: what the project's own
// program (stacks/cmd/gitlab-ha) and the offline plan run. It compiles the AWS, Linode and Kubernetes SDKs;
// a program for one platform imports stacks/aws, stacks/linode or stacks/existing instead.
package all

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/stacks"
	"github.com/gitlab-ha/gitlab-ha/stacks/aws"
	"github.com/gitlab-ha/gitlab-ha/stacks/existing"
	"github.com/gitlab-ha/gitlab-ha/stacks/linode"
)

// platforms are the compositions by gitlab-ha:platform.
var platforms = map[string]stacks.DeployFunc{
	stacks.PlatformAWS:      aws.Deploy,
	stacks.PlatformLinode:   linode.Deploy,
	stacks.PlatformExisting: existing.Deploy,
}

// Program is the Pulumi program for any platform: load the configuration, deploy the platform it names,
// export the outputs.
var Program = stacks.Program(Deploy)

// Deploy builds the stack for cfg.Platform. A bad configuration returns one error naming its key, and
// registers nothing.
func Deploy(ctx *pulumi.Context, cfg *stacks.Config) (*stacks.Outputs, error) {
	deploy, ok := platforms[cfg.Platform]
	if !ok {
		// An unknown platform: the configuration's own check names it and the platforms there are.
		return nil, cfg.Validate()
	}
	return deploy(ctx, cfg)
}
