package cluster

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// stsAudience is the audience of the service account tokens EKS's pod identity webhook projects into pods
// (amazon-eks-pod-identity-webhook, its default --token-audience), the client ID STS checks them against.
const stsAudience = "sts.amazonaws.com"

// oidcProvider registers the cluster's service account issuer with IAM, so that roles can trust a service
// account of this cluster (IRSA): GitLab's pods reach their buckets that way, with no access key anywhere.
// IAM fetches the issuer's certificate thumbprint itself when none is given. One per cluster and account.
func (c *EKS) oidcProvider(ctx *pulumi.Context, name string, args EKSArgs) (pulumi.StringOutput, error) {
	provider, err := iam.NewOpenIdConnectProvider(ctx, name, &iam.OpenIdConnectProviderArgs{
		Url:           c.OIDCIssuer,
		ClientIdLists: pulumi.StringArray{pulumi.String(stsAudience)},
		Tags:          awstags.For(componentTag, name, args.Tags),
	}, pulumi.Parent(c))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return provider.Arn, nil
}
