package cluster

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// AWS-managed policies: the documented minimum for an EKS control plane and for its nodes.
const (
	ClusterPolicyARN  = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
	WorkerPolicyARN   = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
	RegistryPolicyARN = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	CNIPolicyARN      = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
)

// serviceRole is a role that one AWS service may assume, with managed policies attached.
type serviceRole struct {
	role        *iam.Role
	attachments []pulumi.Resource
}

func newServiceRole(ctx *pulumi.Context, parent pulumi.Resource, name, service string, policies []string,
	tags map[string]string) (*serviceRole, error) {
	trust, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"Service": service},
		}},
	})
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             awstags.For(componentTag, name, tags),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, err
	}
	out := &serviceRole{role: role}
	for _, policy := range policies {
		attachment, err := iam.NewRolePolicyAttachment(ctx, name+"-"+policyName(policy), &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(policy),
		}, pulumi.Parent(parent))
		if err != nil {
			return nil, err
		}
		out.attachments = append(out.attachments, attachment)
	}
	return out, nil
}

// policyName is the last part of a policy ARN.
func policyName(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}
