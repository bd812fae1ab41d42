package network

import (
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// zoneSubnets are one zone's two subnets.
type zoneSubnets struct {
	public, private *ec2.Subnet
}

// subnets creates every zone's public and private subnet, named and addressed by zone.
func (n *Network) subnets(ctx *pulumi.Context, name string, vpc *ec2.Vpc, cidr netip.Prefix,
	tags func(string) pulumi.StringMap) (map[string]zoneSubnets, error) {
	out := map[string]zoneSubnets{}
	for _, zone := range n.Zones {
		privateCIDR, publicCIDR := ZoneCIDRs(cidr, zone)
		publicTags := tags(name + "-public-" + zone)
		publicTags["kubernetes.io/role/elb"] = pulumi.String("1") // where Kubernetes may put internet-facing load balancers
		public, err := ec2.NewSubnet(ctx, name+"-public-"+zone, &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			AvailabilityZone: pulumi.String(zone),
			CidrBlock:        pulumi.String(publicCIDR.String()),
			// Nothing launched here gets a public address unless it asks: the NAT gateway and load
			// balancer bring their own.
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                publicTags,
		}, pulumi.Parent(n))
		if err != nil {
			return nil, err
		}
		privateTags := tags(name + "-private-" + zone)
		privateTags["kubernetes.io/role/internal-elb"] = pulumi.String("1")
		private, err := ec2.NewSubnet(ctx, name+"-private-"+zone, &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			AvailabilityZone: pulumi.String(zone),
			CidrBlock:        pulumi.String(privateCIDR.String()),
			Tags:             privateTags,
		}, pulumi.Parent(n))
		if err != nil {
			return nil, err
		}
		out[zone] = zoneSubnets{public: public, private: private}
	}
	return out, nil
}
