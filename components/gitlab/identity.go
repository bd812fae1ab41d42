package gitlab

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ServiceAccountName is the service account GitLab's pods and migration Jobs run as when object storage uses
// workload identity: the only identity a cloud role for the object buckets should trust.
func ServiceAccountName(name string) string { return name }

// BackupServiceAccountName is the service account the backup job runs as: the only identity a cloud role for
// the backup bucket should trust. It differs from ServiceAccountName, so that GitLab's pods cannot reach the
// backups.
func BackupServiceAccountName(name string) string { return name + "-backup" }

// newServiceAccount creates a service account that holds no API token (nothing here talks to the Kubernetes
// API), annotated with a workload identity where one is given.
func newServiceAccount(ctx *pulumi.Context, parent pulumi.Resource, name, accountName, component string,
	namespace pulumi.StringInput, annotations pulumi.StringMapInput) (*corev1.ServiceAccount, error) {
	return corev1.NewServiceAccount(ctx, accountName, &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(accountName),
			Namespace:   namespace,
			Labels:      toStringMap(standardLabels(name, component)),
			Annotations: annotations,
		},
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, pulumi.Parent(parent))
}

// newKeySecret stores an object storage key for the pods' environment. The Kubernetes SDK marks a Secret's
// data secret in the state whatever the caller passed (core/v1/secret.go, NewSecret).
func newKeySecret(ctx *pulumi.Context, parent pulumi.Resource, name, secretName, component string,
	namespace pulumi.StringInput, data pulumi.StringMap) (*corev1.Secret, error) {
	return corev1.NewSecret(ctx, secretName, &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(secretName),
			Namespace: namespace,
			Labels:    toStringMap(standardLabels(name, component)),
		},
		Type:       pulumi.String("Opaque"),
		StringData: data,
	}, pulumi.Parent(parent))
}
