// Package ebs gives Gitaly its block volumes on EKS: the EBS CSI driver as a managed add-on, running as an
// IAM role of its own that only the driver's controller assumes (IRSA), and a StorageClass of encrypted gp3
// volumes that are made in the zone their pod is scheduled to and kept when their claim is deleted. It is
// the AWS side of gitlab-ha's gitaly concern, a package of its own so that Linode users never compile AWS's
// SDK.
package ebs

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "gitlab-ha:gitaly:EBSStorage"

// componentTag is the component tag on every AWS resource it makes.
const componentTag = "gitaly-volumes"

// Where the driver's controller runs, as the add-on installs it: the only identity the role trusts.
const (
	driverNamespace      = "kube-system"
	driverServiceAccount = "ebs-csi-controller-sa"
	// driverPolicy is AWS's managed policy for the driver: create, attach, detach, snapshot and delete volumes,
	// limited by tag conditions to the volumes the driver made.
	driverPolicy = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
	provisioner  = "ebs.csi.aws.com"
)

// EBSStorageArgs configures the driver and the class.
type EBSStorageArgs struct {
	// ClusterName is the EKS cluster the add-on goes to. Required.
	ClusterName pulumi.StringInput
	// OIDCProviderARN and OIDCIssuer are the cluster's issuer as registered with IAM, for the driver's role.
	// Required.
	OIDCProviderARN, OIDCIssuer pulumi.StringInput
	// AddonVersion pins the add-on's build, such as "v1.48.0-eksbuild.1". Default "": the default build EKS
	// gives the cluster's Kubernetes version, recorded in the state at creation and kept until this is set.
	AddonVersion string
	// StorageClassName names the class. Default "gitaly-gp3".
	StorageClassName string
	// Tags are added to every AWS resource, and to the volumes the driver makes.
	Tags map[string]string
}

// EBSStorage is the component.
type EBSStorage struct {
	pulumi.ResourceState

	// StorageClass is the class's name; RoleARN the driver's role.
	StorageClass pulumi.StringOutput
	RoleARN      pulumi.StringOutput
	// Addon is the driver: claims of the class bind only once it runs.
	Addon *eks.Addon
}

func withDefaults(a EBSStorageArgs) EBSStorageArgs {
	if a.StorageClassName == "" {
		a.StorageClassName = "gitaly-gp3"
	}
	return a
}

// Validate reports the first problem with args, without registering anything.
func Validate(args *EBSStorageArgs) error {
	a := withDefaults(*args)
	for _, f := range []struct {
		field string
		in    pulumi.StringInput
	}{{"clusterName", a.ClusterName}, {"oidcProviderArn", a.OIDCProviderARN}, {"oidcIssuer", a.OIDCIssuer}} {
		if err := validate.RequiredString(f.field, f.in); err != nil {
			return err
		}
	}
	return validate.DNSLabel("storageClassName", a.StorageClassName)
}

// NewEBSStorage creates the driver's role, the add-on and the class. The provider options must name an AWS
// and a Kubernetes provider (pulumi.Providers).
func NewEBSStorage(ctx *pulumi.Context, name string, args *EBSStorageArgs, opts ...pulumi.ResourceOption) (*EBSStorage, error) {
	if args == nil {
		return nil, fmt.Errorf("ebs %q: args are required", name)
	}
	a := withDefaults(*args)
	if err := Validate(&a); err != nil {
		return nil, fmt.Errorf("ebs %q: %w", name, err)
	}
	s := &EBSStorage{}
	if err := ctx.RegisterComponentResource(TypeToken, name, s, opts...); err != nil {
		return nil, err
	}
	trust := pulumi.All(a.OIDCProviderARN, a.OIDCIssuer).ApplyT(func(v []any) (string, error) {
		return trustPolicy(v[0].(string), v[1].(string))
	}).(pulumi.StringOutput)
	role, err := iam.NewRole(ctx, name+"-driver", &iam.RoleArgs{
		Description:      pulumi.String("GitLab HA: the EBS CSI driver's controller, system:serviceaccount:" + driverNamespace + ":" + driverServiceAccount),
		AssumeRolePolicy: trust,
		Tags:             awstags.For(componentTag, name+"-driver", a.Tags),
	}, pulumi.Parent(s))
	if err != nil {
		return nil, err
	}
	attachment, err := iam.NewRolePolicyAttachment(ctx, name+"-driver", &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: pulumi.String(driverPolicy),
	}, pulumi.Parent(s))
	if err != nil {
		return nil, err
	}
	addonArgs := &eks.AddonArgs{
		ClusterName: a.ClusterName, AddonName: pulumi.String("aws-ebs-csi-driver"), ServiceAccountRoleArn: role.Arn,
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"), ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Tags: awstags.For(componentTag, name+"-driver", a.Tags),
	}
	if a.AddonVersion != "" {
		addonArgs.AddonVersion = pulumi.String(a.AddonVersion)
	}
	// The driver's pods must find the role's policy attached when they first call EC2.
	addon, err := eks.NewAddon(ctx, name+"-driver", addonArgs, pulumi.Parent(s), pulumi.DependsOn([]pulumi.Resource{attachment}))
	if err != nil {
		return nil, err
	}
	parameters := pulumi.StringMap{"type": pulumi.String("gp3"), "encrypted": pulumi.String("true"), "csi.storage.k8s.io/fstype": pulumi.String("ext4")}
	// The driver tags each volume it makes with tagSpecification_<n> ("key=value"): the provider's default
	// tags never reach them, since Pulumi does not make them.
	volumeTags := map[string]string{awstags.ComponentKey: componentTag}
	for k, v := range a.Tags {
		volumeTags[k] = v
	}
	for i, key := range slices.Sorted(maps.Keys(volumeTags)) {
		parameters[fmt.Sprintf("tagSpecification_%d", i+1)] = pulumi.String(key + "=" + volumeTags[key])
	}
	class, err := storagev1.NewStorageClass(ctx, name, &storagev1.StorageClassArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(a.StorageClassName), Labels: pulumi.StringMap{
			"app.kubernetes.io/name": pulumi.String("gitaly"), "app.kubernetes.io/component": pulumi.String("storage"),
			"app.kubernetes.io/part-of": pulumi.String("gitlab-ha"), "app.kubernetes.io/managed-by": pulumi.String("pulumi"),
		}},
		Provisioner: pulumi.String(provisioner),
		Parameters:  parameters,
		// A volume is made in its pod's zone, where the zone's Gitaly is pinned, and outlives its claim.
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		ReclaimPolicy:        pulumi.String("Retain"),
		AllowVolumeExpansion: pulumi.Bool(true),
	}, pulumi.Parent(s), pulumi.DependsOn([]pulumi.Resource{addon}))
	if err != nil {
		return nil, err
	}
	s.StorageClass = class.Metadata.Name().Elem()
	s.RoleARN = role.Arn
	s.Addon = addon
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{"storageClass": s.StorageClass, "roleArn": s.RoleARN}); err != nil {
		return nil, err
	}
	return s, nil
}

// trustPolicy lets the driver's controller service account alone assume the role through the cluster's issuer.
func trustPolicy(providerARN, issuer string) (string, error) {
	host := strings.TrimPrefix(issuer, "https://")
	if !strings.HasSuffix(providerARN, ":oidc-provider/"+host) {
		return "", fmt.Errorf("oidcProviderArn %q is not the provider of issuer %q", providerARN, issuer)
	}
	body, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": providerARN},
			"Action":    "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{"StringEquals": map[string]string{
				host + ":sub": "system:serviceaccount:" + driverNamespace + ":" + driverServiceAccount,
				host + ":aud": "sts.amazonaws.com",
			}},
		}},
	})
	return string(body), err
}
