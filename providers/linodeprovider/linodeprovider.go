// Package linodeprovider builds the explicit Linode provider the Linode components are given through
// resource options. It lives apart from the Kubernetes and AWS providers so that a program importing it
// compiles the Linode SDK and no other cloud's.
package linodeprovider

import (
	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// New builds a Linode provider from an API token (a secret from config), or, with a nil token, from the
// LINODE_TOKEN environment variable, as CI and workstations usually provide it.
func New(ctx *pulumi.Context, name string, token pulumi.StringInput, opts ...pulumi.ResourceOption) (*linode.Provider, error) {
	args := &linode.ProviderArgs{}
	if token != nil {
		args.Token = pulumi.ToSecret(token).(pulumi.StringOutput)
	}
	return linode.NewProvider(ctx, name, args, opts...)
}
