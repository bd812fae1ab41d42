// Package awsprovider builds the explicit AWS provider the AWS components are given through resource options.
// It lives apart from the Kubernetes and Linode providers so that a program importing it compiles the AWS
// SDK and no other cloud's.
package awsprovider

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Tag keys that the AWS provider puts on every resource it manages.
const (
	ProjectTag = "gitlab-ha:project"
	StackTag   = "gitlab-ha:stack"
)

// Args configures an AWS provider.
type Args struct {
	// Region, e.g. "eu-west-1". Required.
	Region string
	// Tags added to every resource, beside the project and stack tags. Default none.
	Tags map[string]string
	// AllowedAccountIDs refuses to run against any other account: a guard against the wrong credentials.
	// Default none (any account).
	AllowedAccountIDs []string
}

// New builds an AWS provider whose default tags name the project and stack, so that every resource the
// components create carries them without each component repeating them.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*aws.Provider, error) {
	if args.Region == "" {
		return nil, fmt.Errorf("providers: AWS provider %q: region is required", name)
	}
	tags := pulumi.StringMap{ProjectTag: pulumi.String(ctx.Project()), StackTag: pulumi.String(ctx.Stack())}
	for k, v := range args.Tags {
		tags[k] = pulumi.String(v)
	}
	providerArgs := &aws.ProviderArgs{
		Region:      pulumi.String(args.Region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: tags},
	}
	if len(args.AllowedAccountIDs) > 0 {
		providerArgs.AllowedAccountIds = pulumi.ToStringArray(args.AllowedAccountIDs)
	}
	return aws.NewProvider(ctx, name, providerArgs, opts...)
}
