package network

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const anywhere = "0.0.0.0/0"

// routes connects the public subnets to the internet gateway and each zone's private subnet to its NAT
// gateway, as the strategy says. Every zone has its own private route table whatever the strategy, so
// changing strategy replaces routes, never route tables or their associations.
func (n *Network) routes(ctx *pulumi.Context, name string, vpc *ec2.Vpc, subnets map[string]zoneSubnets,
	strategy string, tags func(string) pulumi.StringMap) (pulumi.StringMap, error) {
	gateway, err := ec2.NewInternetGateway(ctx, name, &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags(name),
	}, pulumi.Parent(n))
	if err != nil {
		return nil, err
	}
	public, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{VpcId: vpc.ID(), Tags: tags(name + "-public")}, pulumi.Parent(n))
	if err != nil {
		return nil, err
	}
	if _, err := ec2.NewRoute(ctx, name+"-public-internet", &ec2.RouteArgs{
		RouteTableId: public.ID(), DestinationCidrBlock: pulumi.String(anywhere), GatewayId: gateway.ID(),
	}, pulumi.Parent(n)); err != nil {
		return nil, err
	}

	nats := pulumi.StringMap{}
	natFor := map[string]*ec2.NatGateway{}
	for i, zone := range n.Zones {
		if _, err := ec2.NewRouteTableAssociation(ctx, name+"-public-"+zone, &ec2.RouteTableAssociationArgs{
			RouteTableId: public.ID(), SubnetId: subnets[zone].public.ID(),
		}, pulumi.Parent(n)); err != nil {
			return nil, err
		}
		if strategy == NATOnePerZone || (strategy == NATSingle && i == 0) {
			nat, err := n.natGateway(ctx, name, zone, subnets[zone].public, gateway, tags)
			if err != nil {
				return nil, err
			}
			natFor[zone] = nat
			nats[zone] = nat.ID()
		}
	}

	for _, zone := range n.Zones {
		private, err := ec2.NewRouteTable(ctx, name+"-private-"+zone, &ec2.RouteTableArgs{
			VpcId: vpc.ID(), Tags: tags(name + "-private-" + zone),
		}, pulumi.Parent(n))
		if err != nil {
			return nil, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, name+"-private-"+zone, &ec2.RouteTableAssociationArgs{
			RouteTableId: private.ID(), SubnetId: subnets[zone].private.ID(),
		}, pulumi.Parent(n)); err != nil {
			return nil, err
		}
		nat := natFor[zone]
		if strategy == NATSingle {
			nat = natFor[n.Zones[0]]
		}
		if nat == nil {
			continue // NATNone: the private subnet has no way out
		}
		if _, err := ec2.NewRoute(ctx, name+"-private-"+zone+"-internet", &ec2.RouteArgs{
			RouteTableId: private.ID(), DestinationCidrBlock: pulumi.String(anywhere), NatGatewayId: nat.ID(),
		}, pulumi.Parent(n)); err != nil {
			return nil, err
		}
	}
	return nats, nil
}

func (n *Network) natGateway(ctx *pulumi.Context, name, zone string, public *ec2.Subnet, gateway *ec2.InternetGateway,
	tags func(string) pulumi.StringMap) (*ec2.NatGateway, error) {
	address, err := ec2.NewEip(ctx, name+"-nat-"+zone, &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: tags(name + "-nat-" + zone)}, pulumi.Parent(n))
	if err != nil {
		return nil, err
	}
	// A NAT gateway forwards through the internet gateway, which no input of its own names: AWS asks that
	// the gateway be attached first.
	return ec2.NewNatGateway(ctx, name+"-"+zone, &ec2.NatGatewayArgs{
		AllocationId: address.ID(),
		SubnetId:     public.ID(),
		Tags:         tags(name + "-" + zone),
	}, pulumi.Parent(n), pulumi.DependsOn([]pulumi.Resource{gateway}))
}
