// Package providers builds the explicit AWS, Linode and Kubernetes providers the components are given
// through resource options. Nothing here reads global configuration: the values come from the caller's
// typed config or from a cluster component's outputs, so a program can hold several of each.
package providers

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Tag keys that the AWS provider puts on every resource it manages.
const (
	ProjectTag = "gitlab-ha:project"
	StackTag   = "gitlab-ha:stack"
)

// AWSArgs configures an AWS provider.
type AWSArgs struct {
	// Region, e.g. "eu-west-1". Required.
	Region string
	// Tags added to every resource, beside the project and stack tags. Default none.
	Tags map[string]string
	// AllowedAccountIDs refuses to run against any other account: a guard against the wrong credentials.
	// Default none (any account).
	AllowedAccountIDs []string
}

// AWS builds an AWS provider whose default tags name the project and stack, so that every resource the
// components create carries them without each component repeating them.
func AWS(ctx *pulumi.Context, name string, args AWSArgs, opts ...pulumi.ResourceOption) (*aws.Provider, error) {
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

// Kubernetes builds a Kubernetes provider from a kubeconfig: a cluster component's output, or a secret from
// config for an existing cluster. The kubeconfig is kept secret.
func Kubernetes(ctx *pulumi.Context, name string, kubeconfig pulumi.StringInput, opts ...pulumi.ResourceOption) (*kubernetes.Provider, error) {
	if kubeconfig == nil {
		return nil, fmt.Errorf("providers: Kubernetes provider %q: kubeconfig is required", name)
	}
	return kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig: pulumi.ToSecret(kubeconfig).(pulumi.StringOutput),
		// Server-side apply lets controllers (the Linode CCM on the Service, say) own their fields.
		EnableServerSideApply: pulumi.Bool(true),
	}, opts...)
}

// Linode builds a Linode provider from an API token (a secret from config), or, with a nil token, from the
// LINODE_TOKEN environment variable, as CI and workstations usually provide it.
func Linode(ctx *pulumi.Context, name string, token pulumi.StringInput, opts ...pulumi.ResourceOption) (*linode.Provider, error) {
	args := &linode.ProviderArgs{}
	if token != nil {
		args.Token = pulumi.ToSecret(token).(pulumi.StringOutput)
	}
	return linode.NewProvider(ctx, name, args, opts...)
}
