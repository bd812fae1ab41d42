package objectstorage

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// newWorkloadRole makes a role that one service account assumes through IRSA, with an inline policy over
// exactly these buckets and the key. Inline, because the grant means nothing apart from its role.
func (s *S3) newWorkloadRole(ctx *pulumi.Context, name string, args S3Args, serviceAccount string,
	bucketARNs pulumi.StringArray, objectActions []string, keyARN pulumi.StringOutput) (*iam.Role, error) {
	trust := pulumi.All(args.OIDCProviderARN, args.OIDCIssuer).ApplyT(func(v []any) (string, error) {
		return trustPolicy(v[0].(string), v[1].(string), args.Namespace, serviceAccount)
	}).(pulumi.StringOutput)
	// MaxSessionDuration stays at its default, an hour: what fog-aws asks STS for (DurationSeconds 3600).
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Description:      pulumi.Sprintf("GitLab HA: assumed by system:serviceaccount:%s:%s", args.Namespace, serviceAccount),
		AssumeRolePolicy: trust,
		Tags:             awstags.For(componentTag, name, args.Tags),
	}, pulumi.Parent(s))
	if err != nil {
		return nil, err
	}
	access := pulumi.All(bucketARNs, keyARN).ApplyT(func(v []any) (string, error) {
		return accessPolicy(v[0].([]string), objectActions, v[1].(string))
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: access,
	}, pulumi.Parent(s)); err != nil {
		return nil, err
	}
	return role, nil
}
