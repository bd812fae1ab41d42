// Package linodetest runs Linode programs under the mock harness with an explicit provider, as the stacks do.
package linodetest

import (
	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
)

// Region the tests run in.
const Region = "eu-central"

// Run evaluates program with a Linode provider named "linode", which program must pass to what it builds.
// Options (a stack name, say) go to componenttest.Run.
func Run(program func(ctx *pulumi.Context, provider pulumi.ProviderResource) error, options ...componenttest.Option) *componenttest.Result {
	return componenttest.Run(func(ctx *pulumi.Context) error {
		provider, err := linode.NewProvider(ctx, "linode", &linode.ProviderArgs{})
		if err != nil {
			return err
		}
		return program(ctx, provider)
	}, options...)
}
