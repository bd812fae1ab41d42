// Package cluster builds the Kubernetes cluster: on AWS an EKS control plane with one managed node group
// per zone, so that every zone always has capacity and every node carries its zone's label.
package cluster

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
	"github.com/gitlab-ha/gitlab-ha/internal/securitygroup"
	"github.com/gitlab-ha/gitlab-ha/providers"
)

// EKSTypeToken is the EKS component's Pulumi type.
const EKSTypeToken = "gitlab-ha:cluster:EKS"

const componentTag = "cluster"

// EKS is the component.
type EKS struct {
	pulumi.ResourceState

	// ClusterName, Endpoint and CertificateAuthority (base64 PEM) of the control plane.
	ClusterName          pulumi.StringOutput
	Endpoint             pulumi.StringOutput
	CertificateAuthority pulumi.StringOutput
	// OIDCIssuer is the URL of the cluster's OpenID Connect issuer; OIDCProviderARN the IAM OpenID Connect
	// provider for it, which IAM roles for service accounts (IRSA) trust.
	OIDCIssuer      pulumi.StringOutput
	OIDCProviderARN pulumi.StringOutput
	// Kubeconfig authenticates with `aws eks get-token`: it holds no credential of its own. Secret all the
	// same, as kubeconfigs are.
	Kubeconfig pulumi.StringOutput
	// NodeSecurityGroupID is the group every node is in: databases, file systems and load balancers admit
	// traffic from it. ClusterSecurityGroupID is the one EKS made for control plane and nodes.
	NodeSecurityGroupID    pulumi.StringOutput
	ClusterSecurityGroupID pulumi.StringOutput
	// NodeGroups maps zone name to node group name; AutoscalingGroups maps zone name to the node group's
	// Auto Scaling group, which load balancer target groups attach to.
	NodeGroups        pulumi.StringMapOutput
	AutoscalingGroups pulumi.StringMapOutput
	// SecretsKeyARN is the KMS key that envelope-encrypts Kubernetes Secrets.
	SecretsKeyARN pulumi.StringOutput
	// Provider is a Kubernetes provider for this cluster, ready for the GitLab component.
	Provider *kubernetes.Provider
}

// ValidateEKS reports the first problem with args, as NewEKS would, without registering anything.
func ValidateEKS(args *EKSArgs) error {
	return validateEKS(withEKSDefaults(*args))
}

// NewEKS validates args, then builds the control plane, its IAM roles and key, the node security group and
// one node group per zone.
func NewEKS(ctx *pulumi.Context, name string, args *EKSArgs, opts ...pulumi.ResourceOption) (*EKS, error) {
	if args == nil {
		return nil, fmt.Errorf("cluster %q: args are required", name)
	}
	defaulted := withEKSDefaults(*args)
	if err := validateEKS(defaulted); err != nil {
		return nil, fmt.Errorf("cluster %q: %w", name, err)
	}
	c := &EKS{}
	if err := ctx.RegisterComponentResource(EKSTypeToken, name, c, opts...); err != nil {
		return nil, err
	}
	if err := c.build(ctx, name, defaulted); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterName": c.ClusterName, "endpoint": c.Endpoint, "certificateAuthority": c.CertificateAuthority,
		"oidcIssuer": c.OIDCIssuer, "oidcProviderArn": c.OIDCProviderARN, "kubeconfig": c.Kubeconfig, "nodeSecurityGroupId": c.NodeSecurityGroupID,
		"clusterSecurityGroupId": c.ClusterSecurityGroupID, "nodeGroups": c.NodeGroups,
		"autoscalingGroups": c.AutoscalingGroups, "secretsKeyArn": c.SecretsKeyARN,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *EKS) build(ctx *pulumi.Context, name string, args EKSArgs) error {
	// Stateful: losing the control plane or the key that encrypts its Secrets loses the cluster's state.
	stateful := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect)}

	key, err := kms.NewKey(ctx, name+"-secrets", &kms.KeyArgs{
		Description:          pulumi.Sprintf("Envelope encryption of Kubernetes Secrets in EKS cluster %s", name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Tags:                 awstags.For(componentTag, name+"-secrets", args.Tags),
	}, stateful...)
	if err != nil {
		return err
	}
	controlPlaneRole, err := newServiceRole(ctx, c, name+"-control-plane", "eks.amazonaws.com", []string{ClusterPolicyARN}, args.Tags)
	if err != nil {
		return err
	}

	subnets := pulumi.StringArray{}
	for _, zone := range args.Zones {
		subnets = append(subnets, args.PrivateSubnetIDs[zone])
	}
	vpcConfig := &eks.ClusterVpcConfigArgs{
		SubnetIds:             subnets,
		EndpointPrivateAccess: pulumi.Bool(true),
		EndpointPublicAccess:  pulumi.Bool(args.PublicEndpoint),
	}
	if args.PublicEndpoint {
		vpcConfig.PublicAccessCidrs = pulumi.ToStringArray(args.PublicAccessCIDRs)
	}
	cluster, err := eks.NewCluster(ctx, name, &eks.ClusterArgs{
		Version:   pulumi.String(args.Version),
		RoleArn:   controlPlaneRole.role.Arn,
		VpcConfig: vpcConfig,
		EncryptionConfig: &eks.ClusterEncryptionConfigArgs{
			Provider:  &eks.ClusterEncryptionConfigProviderArgs{KeyArn: key.Arn},
			Resources: pulumi.StringArray{pulumi.String("secrets")},
		},
		EnabledClusterLogTypes:  pulumi.ToStringArray(args.LogTypes),
		KubernetesNetworkConfig: &eks.ClusterKubernetesNetworkConfigArgs{ServiceIpv4Cidr: pulumi.String(args.ServiceCIDR)},
		// Access entries, not the aws-auth ConfigMap; whoever creates the cluster may administer it, and so
		// may AdminPrincipalARNs (access.go).
		AccessConfig: &eks.ClusterAccessConfigArgs{
			AuthenticationMode:                      pulumi.String("API"),
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(true),
		},
		UpgradePolicy: &eks.ClusterUpgradePolicyArgs{SupportType: pulumi.String(args.UpgradePolicy)},
		Tags:          awstags.For(componentTag, name, args.Tags),
	}, append(stateful, pulumi.DependsOn(controlPlaneRole.attachments))...) // the role is useless until its policy is attached
	if err != nil {
		return err
	}

	nodes, err := c.nodes(ctx, name, args, cluster)
	if err != nil {
		return err
	}
	if err := c.addons(ctx, name, args, cluster, nodes.nodeGroups); err != nil {
		return err
	}
	if err := c.privateAccess(ctx, name, args, cluster); err != nil {
		return err
	}
	if err := c.admins(ctx, name, args, cluster); err != nil {
		return err
	}

	c.ClusterName = cluster.Name
	c.Endpoint = cluster.Endpoint
	c.CertificateAuthority = cluster.CertificateAuthority.Data().Elem()
	c.OIDCIssuer = cluster.Identities.Index(pulumi.Int(0)).Oidcs().Index(pulumi.Int(0)).Issuer().Elem()
	if c.OIDCProviderARN, err = c.oidcProvider(ctx, name, args); err != nil {
		return err
	}
	c.Kubeconfig = kubeconfig(cluster.Name, cluster.Endpoint, c.CertificateAuthority, args.Region)
	c.NodeSecurityGroupID = nodes.securityGroup.ID().ToStringOutput()
	c.ClusterSecurityGroupID = cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	c.NodeGroups = nodes.groups.ToStringMapOutput()
	c.AutoscalingGroups = nodes.autoscalingGroups.ToStringMapOutput()
	c.SecretsKeyARN = key.Arn
	c.Provider, err = providers.Kubernetes(ctx, name, c.Kubeconfig, pulumi.Parent(c))
	return err
}

// privateAccess admits PrivateAccessCIDRs to the private API endpoint. The control plane's interfaces are in
// the cluster security group EKS made, which admits only its own members (the nodes) until told otherwise.
func (c *EKS) privateAccess(ctx *pulumi.Context, name string, args EKSArgs, cluster *eks.Cluster) error {
	group := cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	for _, cidr := range args.PrivateAccessCIDRs {
		rule := securitygroup.Rule{
			// Keyed by the range, not its position, so that removing one range leaves the others in place.
			Key: "api-from-" + strings.NewReplacer(".", "-", "/", "-").Replace(cidr), Description: "Kubernetes API from " + cidr,
			FromPort: 443, FromCIDR: cidr,
		}
		if err := securitygroup.AddIngress(ctx, name+"-cluster", group, componentTag, rule, args.Tags, c); err != nil {
			return err
		}
	}
	return nil
}
