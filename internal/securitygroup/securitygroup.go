// Package securitygroup creates a security group whose every ingress rule is a resource of its own, named
// for what it admits, so that each rule's source is visible in a plan and in a test. A group made here has
// no egress rule unless asked: a server only answers, and AWS security groups are stateful.
package securitygroup

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// Rule admits TCP traffic on FromPort..ToPort (ToPort 0: FromPort alone) from exactly one source: another
// security group or a CIDR block.
type Rule struct {
	// Key names the rule's resource, "<group>-<key>"; it must stay stable across versions.
	Key         string
	Description string
	FromPort    int
	ToPort      int
	FromGroup   pulumi.StringInput
	FromCIDR    string
}

// Args describes a group.
type Args struct {
	Component   string // for tags
	VpcID       pulumi.StringInput
	Description string
	Ingress     []Rule
	// AllowAllEgress adds one rule that lets the group's members reach anywhere (nodes pull images).
	AllowAllEgress bool
	Tags           map[string]string
}

// New creates the group and its rules, every one a child of parent.
func New(ctx *pulumi.Context, name string, args Args, parent pulumi.Resource) (*ec2.SecurityGroup, error) {
	group, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:               args.VpcID,
		Description:         pulumi.String(args.Description),
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                awstags.For(args.Component, name, args.Tags),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, err
	}
	for _, rule := range args.Ingress {
		if err := AddIngress(ctx, name, group.ID(), args.Component, rule, args.Tags, parent); err != nil {
			return nil, err
		}
	}
	if args.AllowAllEgress {
		_, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-egress-all", &vpc.SecurityGroupEgressRuleArgs{
			SecurityGroupId: group.ID(),
			Description:     pulumi.String("to anywhere: images, AWS APIs, package mirrors"),
			IpProtocol:      pulumi.String("-1"),
			CidrIpv4:        pulumi.String("0.0.0.0/0"),
			Tags:            awstags.For(args.Component, name+"-egress-all", args.Tags),
		}, pulumi.Parent(parent))
		if err != nil {
			return nil, err
		}
	}
	return group, nil
}

// AddIngress adds one rule to an existing group (a group made by another component, such as the nodes').
func AddIngress(ctx *pulumi.Context, groupName string, groupID pulumi.StringInput, component string, rule Rule,
	tags map[string]string, parent pulumi.Resource) error {
	if (rule.FromGroup == nil) == (rule.FromCIDR == "") {
		return fmt.Errorf("securitygroup %s rule %s: exactly one of FromGroup and FromCIDR", groupName, rule.Key)
	}
	toPort := rule.ToPort
	if toPort == 0 {
		toPort = rule.FromPort
	}
	args := &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: groupID,
		Description:     pulumi.String(rule.Description),
		IpProtocol:      pulumi.String("tcp"),
		FromPort:        pulumi.Int(rule.FromPort),
		ToPort:          pulumi.Int(toPort),
		Tags:            awstags.For(component, groupName+"-"+rule.Key, tags),
	}
	if rule.FromGroup != nil {
		args.ReferencedSecurityGroupId = rule.FromGroup
	} else {
		args.CidrIpv4 = pulumi.String(rule.FromCIDR)
	}
	_, err := vpc.NewSecurityGroupIngressRule(ctx, groupName+"-"+rule.Key, args, pulumi.Parent(parent))
	return err
}
