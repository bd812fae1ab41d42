package network_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/network"
	"github.com/gitlab-ha/gitlab-ha/internal/awstest"
)

const (
	subnetType = "aws:ec2/subnet:Subnet"
	natType    = "aws:ec2/natGateway:NatGateway"
	routeType  = "aws:ec2/route:Route"
)

func threeZones() *network.NetworkArgs {
	return &network.NetworkArgs{Region: "eu-west-1", Zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}}
}

// build runs NewNetwork in eu-west-1 under mocks.
func build(t *testing.T, args *network.NetworkArgs) (*componenttest.Result, *network.Network) {
	t.Helper()
	var n *network.Network
	result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		n, err = network.NewNetwork(ctx, "gitlab", args, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	return result, n
}

func TestThreeZonesWithNATPerZoneGetTheirOwnSubnetsNATAndRoutes(t *testing.T) {
	result, _ := build(t, threeZones())
	counts := result.CountByType()

	assert.Equal(t, 1, counts["aws:ec2/vpc:Vpc"])
	assert.Equal(t, 6, counts[subnetType], "a public and a private subnet per zone")
	assert.Equal(t, 3, counts[natType])
	assert.Equal(t, 3, counts["aws:ec2/eip:Eip"])
	assert.Equal(t, 1, counts["aws:ec2/internetGateway:InternetGateway"])
	assert.Equal(t, 4, counts["aws:ec2/routeTable:RouteTable"], "one public, one private per zone")
	assert.Equal(t, 4, counts[routeType])
	assert.Equal(t, 6, counts["aws:ec2/routeTableAssociation:RouteTableAssociation"])
	assert.Equal(t, 1, counts["aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"])
	assert.Len(t, result.ChildrenOf(result.Components()[0].URN), 29, "every resource of a 3-zone network")
}

func TestEachZonesSubnetsAreInThatZoneDisjointAndInsideTheVPC(t *testing.T) {
	result, _ := build(t, threeZones())
	vpc := netip.MustParsePrefix("10.0.0.0/16")
	var seen []netip.Prefix
	for _, subnet := range result.OfType(subnetType) {
		cidr := netip.MustParsePrefix(subnet.InputString("cidrBlock"))
		zone := subnet.InputString("availabilityZone")
		assert.True(t, strings.HasSuffix(subnet.Name, zone), "%s is named for its zone %s", subnet.Name, zone)
		assert.True(t, vpc.Contains(cidr.Addr()) && cidr.Bits() > vpc.Bits(), "%s inside the VPC", cidr)
		for _, other := range seen {
			assert.False(t, cidr.Overlaps(other), "%s overlaps %s", cidr, other)
		}
		seen = append(seen, cidr)
	}
	assert.Len(t, seen, 6)
}

func TestZoneCIDRsDependOnTheZoneLetterAlone(t *testing.T) {
	vpc := netip.MustParsePrefix("10.0.0.0/16")
	cases := map[string][2]string{
		"eu-west-1a": {"10.0.0.0/19", "10.0.224.0/22"},
		"eu-west-1b": {"10.0.32.0/19", "10.0.228.0/22"},
		"eu-west-1g": {"10.0.192.0/19", "10.0.248.0/22"},
	}
	for zone, want := range cases {
		private, public := network.ZoneCIDRs(vpc, zone)
		assert.Equal(t, want, [2]string{private.String(), public.String()}, zone)
	}
	private, public := network.ZoneCIDRs(netip.MustParsePrefix("172.16.0.0/22"), "us-east-1f")
	assert.Equal(t, "172.16.2.128/25", private.String())
	assert.Equal(t, "172.16.3.208/28", public.String(), "a /22 still gives AWS's smallest subnet, /28")
}

func TestPrivateSubnetsRouteThroughTheirOwnZonesNAT(t *testing.T) {
	result, n := build(t, threeZones())
	nats := awstest.Value(t, n.NATGatewayIDs).(map[string]string)
	for _, zone := range n.Zones {
		route, ok := result.Find(routeType, "gitlab-private-"+zone+"-internet")
		require.True(t, ok, zone)
		assert.Equal(t, nats[zone], route.InputString("natGatewayId"), zone)
		nat, _ := result.Find(natType, "gitlab-"+zone)
		subnets := awstest.Value(t, n.PublicSubnetIDs).(map[string]string)
		assert.Equal(t, subnets[zone], nat.InputString("subnetId"), "the NAT gateway sits in its zone's public subnet")
	}
	public, _ := result.Find(routeType, "gitlab-public-internet")
	assert.NotEmpty(t, public.InputString("gatewayId"))
}

func TestASingleNATServesEveryZoneFromTheFirst(t *testing.T) {
	args := threeZones()
	args.NATStrategy = network.NATSingle
	result, n := build(t, args)
	require.Len(t, result.OfType(natType), 1)
	nat := result.OfType(natType)[0]
	assert.Equal(t, "gitlab-eu-west-1a", nat.Name)
	for _, zone := range n.Zones {
		route, _ := result.Find(routeType, "gitlab-private-"+zone+"-internet")
		assert.Equal(t, nat.ID, route.InputString("natGatewayId"), zone)
	}
}

func TestWithoutNATPrivateSubnetsHaveNoWayOut(t *testing.T) {
	args := threeZones()
	args.NATStrategy = network.NATNone
	result, n := build(t, args)
	assert.Empty(t, result.OfType(natType))
	assert.Len(t, result.OfType(routeType), 1, "only the public subnets' route to the internet gateway")
	assert.Empty(t, awstest.Value(t, n.NATGatewayIDs))
}

func TestTheDefaultSecurityGroupAdmitsNothing(t *testing.T) {
	result, _ := build(t, threeZones())
	group := result.OfType("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")[0]
	_, hasIngress := group.Input("ingress")
	_, hasEgress := group.Input("egress")
	assert.False(t, hasIngress || hasEgress, "no rule in either direction")
	vpc := result.OfType("aws:ec2/vpc:Vpc")[0]
	assert.Equal(t, true, vpc.Inputs["enableDnsHostnames"].V)
	assert.Equal(t, true, vpc.Inputs["enableDnsSupport"].V)
}

func TestFlowLogsGoToALogGroupThroughARoleThatCanWriteOnlyThere(t *testing.T) {
	args := threeZones()
	args.FlowLogs = true
	result, _ := build(t, args)
	flowLog := result.OfType("aws:ec2/flowLog:FlowLog")[0]
	group := result.OfType("aws:cloudwatch/logGroup:LogGroup")[0]
	groupARN, _ := group.Output("arn")
	assert.Equal(t, groupARN, flowLog.InputString("logDestination"))
	assert.Equal(t, "ALL", flowLog.InputString("trafficType"))
	assert.Equal(t, float64(90), group.Inputs["retentionInDays"].V)
	policy := result.OfType("aws:iam/rolePolicy:RolePolicy")[0].InputString("policy")
	assert.Contains(t, policy, `"Resource":["`+groupARN.(string)+`","`+groupARN.(string)+`:*"]`)
	assert.NotContains(t, policy, `"*"`, "no wildcard resource")
}

func TestAdoptingAnExistingNetworkCreatesNothingAndExposesTheSameOutputs(t *testing.T) {
	args := &network.NetworkArgs{Region: "eu-west-1", Zones: []string{"eu-west-1a", "eu-west-1b"}, Existing: &network.ExistingNetwork{
		VpcID: pulumi.String("vpc-0123"), CIDR: pulumi.String("10.20.0.0/16"),
		PublicSubnetIDs:  map[string]pulumi.StringInput{"eu-west-1a": pulumi.String("subnet-pa"), "eu-west-1b": pulumi.String("subnet-pb")},
		PrivateSubnetIDs: map[string]pulumi.StringInput{"eu-west-1a": pulumi.String("subnet-a"), "eu-west-1b": pulumi.String("subnet-b")},
	}}
	result, n := build(t, args)
	for _, r := range result.Resources {
		assert.False(t, strings.HasPrefix(r.Type, "aws:"), "adopting created %s %s", r.Type, r.Name)
	}
	assert.Len(t, result.Components(), 1)
	assert.Equal(t, 1, result.OutputsRegistered)
	assert.Equal(t, "vpc-0123", awstest.Value(t, n.VpcID))
	assert.Equal(t, "10.20.0.0/16", awstest.Value(t, n.CIDR))
	assert.Equal(t, map[string]string{"eu-west-1a": "subnet-a", "eu-west-1b": "subnet-b"}, awstest.Value(t, n.PrivateSubnetIDs))
	assert.Equal(t, map[string]string{"eu-west-1a": "subnet-pa", "eu-west-1b": "subnet-pb"}, awstest.Value(t, n.PublicSubnetIDs))
}

func TestAppendingAZoneRenamesAndReaddressesNothing(t *testing.T) {
	record := func(zones ...string) map[string]string {
		args := threeZones()
		args.Zones = zones
		result, _ := build(t, args)
		byURN := map[string]string{}
		for _, r := range result.Resources {
			byURN[r.URN] = r.InputString("cidrBlock")
		}
		return byURN
	}
	two, three := record("eu-west-1a", "eu-west-1b"), record("eu-west-1a", "eu-west-1b", "eu-west-1c")
	for urn, cidr := range two {
		got, ok := three[urn]
		assert.True(t, ok, "%s disappeared", urn)
		assert.Equal(t, cidr, got, "%s moved", urn)
	}
}

func TestEveryChildIsParentedTaggedAndUsesTheGivenProvider(t *testing.T) {
	args := threeZones()
	args.FlowLogs = true
	args.Tags = map[string]string{"cost-center": "platform"}
	result, _ := build(t, args)
	children := awstest.CheckComponent(t, result, result.Components()[0].URN)
	assert.Len(t, children, len(result.Resources)-2, "all but the provider and the component")
	assert.Empty(t, result.UntaggedAWSResources("cost-center"))
}

func TestBadArgsGiveOneClearErrorAndRegisterNothing(t *testing.T) {
	cases := []struct {
		name string
		edit func(*network.NetworkArgs)
		want string
	}{
		{"zone not in the region", func(a *network.NetworkArgs) { a.Zones[2] = "eu-west-2c" }, `zones[2]: "eu-west-2c" is not in region eu-west-1`},
		{"too few zones", func(a *network.NetworkArgs) { a.Zones = a.Zones[:1] }, "zones: 1 zones given; a highly available network spans 2 to 6"},
		{"too many zones", func(a *network.NetworkArgs) {
			a.Zones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d", "eu-west-1e", "eu-west-1f", "eu-west-1g"}
		}, "zones: 7 zones given"},
		{"zone letter beyond the layout", func(a *network.NetworkArgs) { a.Zones[0] = "eu-west-1h" }, `zones[0]: "eu-west-1h" has zone letter 'h'`},
		{"duplicate zone", func(a *network.NetworkArgs) { a.Zones[1] = "eu-west-1a" }, `zones[1]: "eu-west-1a" repeats zones[0]`},
		{"bad region", func(a *network.NetworkArgs) { a.Region = "Ireland" }, `region: "Ireland" is not an AWS region name`},
		{"CIDR too small for the zones", func(a *network.NetworkArgs) { a.CIDR = "10.0.0.0/24" }, `cidr: "10.0.0.0/24" must be an IPv4 block from /16 to /22`},
		{"CIDR that is not one", func(a *network.NetworkArgs) { a.CIDR = "10.0.0.0" }, `cidr: "10.0.0.0" is not a CIDR block`},
		{"CIDR with host bits", func(a *network.NetworkArgs) { a.CIDR = "10.0.1.0/16" }, `cidr: "10.0.1.0/16" has host bits set; did you mean 10.0.0.0/16?`},
		{"overlapping CIDRs", func(a *network.NetworkArgs) { a.ReservedCIDRs = []string{"192.168.0.0/16", "10.0.128.0/20"} },
			`cidr: "10.0.0.0/16" overlaps reservedCidrs[1] "10.0.128.0/20"`},
		{"unknown NAT strategy", func(a *network.NetworkArgs) { a.NATStrategy = "PerAZ" }, `natStrategy: "PerAZ" is not OnePerZone, Single or None`},
		{"existing network with a CIDR too", func(a *network.NetworkArgs) {
			a.CIDR = "10.0.0.0/16"
			a.Existing = &network.ExistingNetwork{VpcID: pulumi.String("vpc-1"), CIDR: pulumi.String("10.0.0.0/16")}
		}, "cidr: is set, but existing adopts a network that is already built"},
		{"existing network missing a zone's subnet", func(a *network.NetworkArgs) {
			a.Existing = &network.ExistingNetwork{VpcID: pulumi.String("vpc-1"), CIDR: pulumi.String("10.0.0.0/16"),
				PublicSubnetIDs:  map[string]pulumi.StringInput{"eu-west-1a": pulumi.String("s"), "eu-west-1b": pulumi.String("s"), "eu-west-1c": pulumi.String("s")},
				PrivateSubnetIDs: map[string]pulumi.StringInput{"eu-west-1a": pulumi.String("s"), "eu-west-1b": pulumi.String("s")}}
		}, `existing.privateSubnetIds["eu-west-1c"]: is required`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := threeZones()
			tc.edit(args)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := network.NewNetwork(ctx, "gitlab", args)
				return err
			}, `network "gitlab": `+tc.want)
		})
	}
}
