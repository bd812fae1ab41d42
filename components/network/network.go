// Package network builds the VPC that every zone lives in: per availability zone a private subnet (nodes,
// database, mount targets) and a public one (load balancer, NAT gateway), with subnets derived from the zone's
// letter so that adding a zone moves nothing. Or it adopts a VPC made elsewhere and creates nothing.
package network

import (
	"fmt"
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "gitlab-ha:network:Network"

const componentTag = "network"

// Network is the component.
type Network struct {
	pulumi.ResourceState

	// Zones in the order given.
	Zones []string
	// VpcID and CIDR of the VPC.
	VpcID pulumi.StringOutput
	CIDR  pulumi.StringOutput
	// PublicSubnetIDs and PrivateSubnetIDs map zone name to subnet ID.
	PublicSubnetIDs  pulumi.StringMapOutput
	PrivateSubnetIDs pulumi.StringMapOutput
	// NATGatewayIDs maps zone name to the NAT gateway in that zone (none with NATNone; one with NATSingle).
	NATGatewayIDs pulumi.StringMapOutput

	publicSubnets, privateSubnets map[string]pulumi.StringInput
}

// PrivateSubnets returns the private subnet ID of every zone, keyed by zone name.
func (n *Network) PrivateSubnets() map[string]pulumi.StringInput { return copyMap(n.privateSubnets) }

// PublicSubnets returns the public subnet ID of every zone, keyed by zone name.
func (n *Network) PublicSubnets() map[string]pulumi.StringInput { return copyMap(n.publicSubnets) }

func copyMap(m map[string]pulumi.StringInput) map[string]pulumi.StringInput {
	out := make(map[string]pulumi.StringInput, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Validate reports the first problem with args, as NewNetwork would, without registering anything.
func Validate(args *NetworkArgs) error {
	return validateArgs(withDefaults(*args))
}

// NewNetwork validates args, then builds (or adopts) the network.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil {
		return nil, fmt.Errorf("network %q: args are required", name)
	}
	defaulted := withDefaults(*args)
	if err := validateArgs(defaulted); err != nil {
		return nil, fmt.Errorf("network %q: %w", name, err)
	}
	n := &Network{Zones: append([]string(nil), defaulted.Zones...)}
	if err := ctx.RegisterComponentResource(TypeToken, name, n, opts...); err != nil {
		return nil, err
	}
	var err error
	if defaulted.Existing != nil {
		n.adopt(defaulted.Existing)
	} else {
		err = n.build(ctx, name, defaulted)
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId": n.VpcID, "cidr": n.CIDR, "publicSubnetIds": n.PublicSubnetIDs,
		"privateSubnetIds": n.PrivateSubnetIDs, "natGatewayIds": n.NATGatewayIDs,
	}); err != nil {
		return nil, err
	}
	return n, nil
}

// adopt exposes an existing network's identifiers as the component's outputs.
func (n *Network) adopt(existing *ExistingNetwork) {
	n.publicSubnets, n.privateSubnets = map[string]pulumi.StringInput{}, map[string]pulumi.StringInput{}
	for _, zone := range n.Zones {
		n.publicSubnets[zone] = existing.PublicSubnetIDs[zone]
		n.privateSubnets[zone] = existing.PrivateSubnetIDs[zone]
	}
	n.VpcID = existing.VpcID.ToStringOutput()
	n.CIDR = existing.CIDR.ToStringOutput()
	n.PublicSubnetIDs = pulumi.StringMap(n.publicSubnets).ToStringMapOutput()
	n.PrivateSubnetIDs = pulumi.StringMap(n.privateSubnets).ToStringMapOutput()
	n.NATGatewayIDs = pulumi.StringMap{}.ToStringMapOutput()
}

func (n *Network) build(ctx *pulumi.Context, name string, args NetworkArgs) error {
	tags := func(resourceName string) pulumi.StringMap { return awstags.For(componentTag, resourceName, args.Tags) }
	vpc, err := ec2.NewVpc(ctx, name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.CIDR),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true), // EKS nodes and EFS mount target names need both
		Tags:               tags(name),
	}, pulumi.Parent(n))
	if err != nil {
		return err
	}
	// The default security group is where resources land when nobody chose one: it admits nothing.
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  tags(name + "-default"),
	}, pulumi.Parent(n)); err != nil {
		return err
	}

	subnets, err := n.subnets(ctx, name, vpc, netip.MustParsePrefix(args.CIDR), tags)
	if err != nil {
		return err
	}
	nats, err := n.routes(ctx, name, vpc, subnets, args.NATStrategy, tags)
	if err != nil {
		return err
	}
	if args.FlowLogs {
		if err := n.flowLogs(ctx, name, vpc, args.FlowLogRetentionDays, tags); err != nil {
			return err
		}
	}

	n.VpcID = vpc.ID().ToStringOutput()
	n.CIDR = vpc.CidrBlock
	n.publicSubnets, n.privateSubnets = map[string]pulumi.StringInput{}, map[string]pulumi.StringInput{}
	for _, zone := range n.Zones {
		n.publicSubnets[zone] = subnets[zone].public.ID()
		n.privateSubnets[zone] = subnets[zone].private.ID()
	}
	n.PublicSubnetIDs = pulumi.StringMap(n.publicSubnets).ToStringMapOutput()
	n.PrivateSubnetIDs = pulumi.StringMap(n.privateSubnets).ToStringMapOutput()
	n.NATGatewayIDs = nats.ToStringMapOutput()
	return nil
}
