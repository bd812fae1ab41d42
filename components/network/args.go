package network

import (
	"fmt"
	"net/netip"
	"regexp"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// NAT strategies.
const (
	// NATOnePerZone gives every zone its own NAT gateway: losing a zone loses only its own egress.
	NATOnePerZone = "OnePerZone"
	// NATSingle shares one NAT gateway, in the first zone, between all zones: cheaper, and a single point
	// of failure for egress.
	NATSingle = "Single"
	// NATNone gives private subnets no route out at all.
	NATNone = "None"
)

// NetworkArgs configures a VPC over two to six availability zones.
type NetworkArgs struct {
	// Region the zones belong to, e.g. "eu-west-1". Required: zones are checked against it.
	Region string
	// Zones are availability zone names in Region, 2 to 6, with letters a to g ("eu-west-1a"). A zone's
	// subnets are derived from its letter, never its position, so adding a zone moves no other. Required.
	Zones []string
	// CIDR of the VPC, from /16 to /22. Default "10.0.0.0/16". Each zone gets a private subnet of an
	// eighth of it and a public subnet of a sixty-fourth (see ZoneCIDRs).
	CIDR string
	// ReservedCIDRs are ranges the VPC must not overlap: peered networks, on-premises ranges, the
	// cluster's service range. Default none.
	ReservedCIDRs []string
	// NATStrategy is NATOnePerZone (default), NATSingle or NATNone.
	NATStrategy string
	// FlowLogs sends the VPC's flow logs (all traffic) to a CloudWatch log group. Default false.
	FlowLogs bool
	// FlowLogRetentionDays keeps flow logs this long. Default 90.
	FlowLogRetentionDays int
	// Existing adopts a VPC made elsewhere: the component creates nothing and exposes the same outputs.
	// Not with CIDR, NATStrategy, FlowLogs or ReservedCIDRs. Default nil: create the network.
	Existing *ExistingNetwork
	// Tags added to every resource. Default none.
	Tags map[string]string
}

// ExistingNetwork names a VPC and its subnets per zone.
type ExistingNetwork struct {
	// VpcID of the VPC. Required.
	VpcID pulumi.StringInput
	// CIDR of the VPC, as an output of whatever made it. Required.
	CIDR pulumi.StringInput
	// PublicSubnetIDs by zone name: where load balancers go. Required for every zone.
	PublicSubnetIDs map[string]pulumi.StringInput
	// PrivateSubnetIDs by zone name: where nodes, databases and mount targets go. Required for every zone.
	PrivateSubnetIDs map[string]pulumi.StringInput
}

var (
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$`)
	// maxZoneLetter is the last zone letter the CIDR layout has room for: private subnets take seven of
	// the VPC's eight blocks, the eighth holds the public subnets.
	maxZoneLetter = byte('g')
)

func withDefaults(args NetworkArgs) NetworkArgs {
	if args.Existing != nil {
		return args
	}
	if args.CIDR == "" {
		args.CIDR = "10.0.0.0/16"
	}
	if args.NATStrategy == "" {
		args.NATStrategy = NATOnePerZone
	}
	if args.FlowLogRetentionDays == 0 {
		args.FlowLogRetentionDays = 90
	}
	return args
}

// validateArgs checks defaulted args and returns the first problem.
func validateArgs(args NetworkArgs) error {
	if !regionPattern.MatchString(args.Region) {
		return validate.Errorf("region", args.Region, "is not an AWS region name such as eu-west-1")
	}
	if n := len(args.Zones); n < 2 || n > 6 {
		return validate.Errorf("zones", n, "zones given; a highly available network spans 2 to 6")
	}
	seen := map[string]int{}
	for i, zone := range args.Zones {
		field := fmt.Sprintf("zones[%d]", i)
		if len(zone) != len(args.Region)+1 || zone[:len(args.Region)] != args.Region {
			return validate.Errorf(field, zone, "is not in region %s", args.Region)
		}
		if letter := zone[len(zone)-1]; letter < 'a' || letter > maxZoneLetter {
			return validate.Errorf(field, zone, "has zone letter %q; the subnet layout has room for a to %c", letter, maxZoneLetter)
		}
		if first, dup := seen[zone]; dup {
			return validate.Errorf(field, zone, "repeats zones[%d]", first)
		}
		seen[zone] = i
	}
	if args.Existing != nil {
		return validateExisting(args)
	}
	vpc, err := validate.CIDR("cidr", args.CIDR)
	if err != nil {
		return err
	}
	if !vpc.Addr().Is4() || vpc.Bits() < 16 || vpc.Bits() > 22 {
		return validate.Errorf("cidr", args.CIDR, "must be an IPv4 block from /16 to /22: each zone needs a private subnet of /%d and a public one of /%d at least", 22+3, 22+6)
	}
	for i, reserved := range args.ReservedCIDRs {
		field := fmt.Sprintf("reservedCidrs[%d]", i)
		prefix, err := validate.CIDR(field, reserved)
		if err != nil {
			return err
		}
		if prefix.Overlaps(vpc) {
			return validate.Errorf("cidr", args.CIDR, "overlaps %s %q", field, reserved)
		}
	}
	switch args.NATStrategy {
	case NATOnePerZone, NATSingle, NATNone:
	default:
		return validate.Errorf("natStrategy", args.NATStrategy, "is not %s, %s or %s", NATOnePerZone, NATSingle, NATNone)
	}
	if args.FlowLogRetentionDays < 1 {
		return validate.Errorf("flowLogRetentionDays", args.FlowLogRetentionDays, "must be at least 1")
	}
	return nil
}

func validateExisting(args NetworkArgs) error {
	for field, set := range map[string]bool{
		"cidr": args.CIDR != "", "natStrategy": args.NATStrategy != "", "flowLogs": args.FlowLogs,
		"reservedCidrs": len(args.ReservedCIDRs) > 0,
	} {
		if set {
			return validate.Errorf(field, nil, "is set, but existing adopts a network that is already built; remove one")
		}
	}
	if err := validate.RequiredString("existing.vpcId", args.Existing.VpcID); err != nil {
		return err
	}
	if err := validate.RequiredString("existing.cidr", args.Existing.CIDR); err != nil {
		return err
	}
	for _, zone := range args.Zones {
		if err := validate.RequiredString(fmt.Sprintf("existing.publicSubnetIds[%q]", zone), args.Existing.PublicSubnetIDs[zone]); err != nil {
			return err
		}
		if err := validate.RequiredString(fmt.Sprintf("existing.privateSubnetIds[%q]", zone), args.Existing.PrivateSubnetIDs[zone]); err != nil {
			return err
		}
	}
	return nil
}

// ZoneCIDRs returns a zone's private and public subnets. The VPC splits into eight blocks: the zone with
// letter number k (a = 0) takes block k as its private subnet; block 7 splits into eight, and the zone takes
// number k of those as its public subnet. A zone's subnets depend on its letter alone.
func ZoneCIDRs(vpc netip.Prefix, zone string) (private, public netip.Prefix) {
	k := uint32(zone[len(zone)-1] - 'a')
	base := vpc.Masked().Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	at := func(offset uint32, bits int) netip.Prefix {
		a := start + offset
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), bits)
	}
	privateBits, publicBits := vpc.Bits()+3, vpc.Bits()+6
	private = at(k<<(32-privateBits), privateBits)
	public = at(7<<(32-privateBits)+k<<(32-publicBits), publicBits)
	return private, public
}
