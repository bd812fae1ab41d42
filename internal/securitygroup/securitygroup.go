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
	// Egress rules, each to one group or CIDR (a load balancer reaches its targets' ports and no more).
	Egress []Rule
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
	for _, rule := range args.Egress {
		if err := addEgress(ctx, name, group.ID(), args.Component, rule, args.Tags, parent); err != nil {
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
	peer, err := rule.peer(groupName)
	if err != nil {
		return err
	}
	_, err = vpc.NewSecurityGroupIngressRule(ctx, groupName+"-"+rule.Key, &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: groupID, Description: pulumi.String(rule.Description), IpProtocol: pulumi.String("tcp"),
		FromPort: pulumi.Int(peer.fromPort), ToPort: pulumi.Int(peer.toPort),
		ReferencedSecurityGroupId: peer.group, CidrIpv4: peer.cidr,
		Tags: awstags.For(component, groupName+"-"+rule.Key, tags),
	}, pulumi.Parent(parent))
	return err
}

// addEgress lets the group's members reach one peer on the rule's ports. FromGroup and FromCIDR name the
// peer, which for an egress rule is the destination.
func addEgress(ctx *pulumi.Context, groupName string, groupID pulumi.StringInput, component string, rule Rule,
	tags map[string]string, parent pulumi.Resource) error {
	peer, err := rule.peer(groupName)
	if err != nil {
		return err
	}
	_, err = vpc.NewSecurityGroupEgressRule(ctx, groupName+"-"+rule.Key, &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: groupID, Description: pulumi.String(rule.Description), IpProtocol: pulumi.String("tcp"),
		FromPort: pulumi.Int(peer.fromPort), ToPort: pulumi.Int(peer.toPort),
		ReferencedSecurityGroupId: peer.group, CidrIpv4: peer.cidr,
		Tags: awstags.For(component, groupName+"-"+rule.Key, tags),
	}, pulumi.Parent(parent))
	return err
}

// rulePeer is a rule resolved: its port range and exactly one of a group or a CIDR.
type rulePeer struct {
	fromPort, toPort int
	group            pulumi.StringPtrInput
	cidr             pulumi.StringPtrInput
}

func (rule Rule) peer(groupName string) (rulePeer, error) {
	if (rule.FromGroup == nil) == (rule.FromCIDR == "") {
		return rulePeer{}, fmt.Errorf("securitygroup %s rule %s: exactly one of FromGroup and FromCIDR", groupName, rule.Key)
	}
	p := rulePeer{fromPort: rule.FromPort, toPort: rule.ToPort}
	if p.toPort == 0 {
		p.toPort = p.fromPort
	}
	if rule.FromGroup != nil {
		p.group = rule.FromGroup.ToStringOutput().ToStringPtrOutput()
	} else {
		p.cidr = pulumi.String(rule.FromCIDR)
	}
	return p, nil
}
