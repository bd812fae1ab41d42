// Package providers builds the explicit Kubernetes provider the components are given through resource
// options; the cloud providers are in providers/awsprovider and providers/linodeprovider, one package a
// cloud, so that a program compiles only the clouds it uses. Nothing here reads global configuration: the
// values come from the caller's typed config or from a cluster component's outputs, so a program can hold
// several of each.
package providers

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

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
