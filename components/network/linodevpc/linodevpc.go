// Package linodevpc builds a Linode VPC with one subnet, for the Linode platform's private traffic.
package linodevpc

import (
	"fmt"
	"net/netip"

	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// LinodeVPCTypeToken is the Linode VPC component's Pulumi type.
const LinodeVPCTypeToken = "gitlab-ha:network:LinodeVPC"

// DefaultLinodeSubnetCIDR is the VPC subnet unless LinodeVPCArgs.SubnetCIDR says otherwise.
const DefaultLinodeSubnetCIDR = "10.0.0.0/24"

// LinodeVPCArgs configures a VPC with one subnet, so that database and file-server traffic stays private.
type LinodeVPCArgs struct {
	// Region, e.g. "eu-central". Required.
	Region string
	// SubnetCIDR of the one subnet, a private IPv4 range outside 192.168.128.0/17 (Linode's own).
	// Default DefaultLinodeSubnetCIDR.
	SubnetCIDR string
	// Tags added to every resource. Default none.
	Tags []string
}

// LinodeVPC is the component.
type LinodeVPC struct {
	pulumi.ResourceState

	VpcID      pulumi.IntOutput
	SubnetID   pulumi.IntOutput
	SubnetCIDR string
}

// NewLinodeVPC validates args, then creates the VPC and its subnet.
func NewLinodeVPC(ctx *pulumi.Context, name string, args *LinodeVPCArgs, opts ...pulumi.ResourceOption) (*LinodeVPC, error) {
	if args == nil {
		return nil, fmt.Errorf("network %q: args are required", name)
	}
	a := withLinodeVPCDefaults(*args)
	if err := validateLinodeVPC(a); err != nil {
		return nil, fmt.Errorf("network %q: %w", name, err)
	}
	v := &LinodeVPC{SubnetCIDR: a.SubnetCIDR}
	if err := ctx.RegisterComponentResource(LinodeVPCTypeToken, name, v, opts...); err != nil {
		return nil, err
	}
	vpc, err := linode.NewVpc(ctx, name, &linode.VpcArgs{
		Label: pulumi.String(name), Region: pulumi.String(a.Region), Description: pulumi.String("GitLab HA"),
	}, pulumi.Parent(v))
	if err != nil {
		return nil, err
	}
	subnet, err := linode.NewVpcSubnet(ctx, name, &linode.VpcSubnetArgs{
		VpcId: linodekit.IntID(vpc.ID()), Label: pulumi.String(name), Ipv4: pulumi.String(a.SubnetCIDR),
	}, pulumi.Parent(v))
	if err != nil {
		return nil, err
	}
	v.VpcID, v.SubnetID = linodekit.IntID(vpc.ID()), linodekit.IntID(subnet.ID())
	if err := ctx.RegisterResourceOutputs(v, pulumi.Map{"vpcId": v.VpcID, "subnetId": v.SubnetID, "subnetCidr": pulumi.String(v.SubnetCIDR)}); err != nil {
		return nil, err
	}
	return v, nil
}

func withLinodeVPCDefaults(args LinodeVPCArgs) LinodeVPCArgs {
	if args.SubnetCIDR == "" {
		args.SubnetCIDR = DefaultLinodeSubnetCIDR
	}
	return args
}

// ValidateLinodeVPC reports the first problem with args.
func ValidateLinodeVPC(args *LinodeVPCArgs) error {
	return validateLinodeVPC(withLinodeVPCDefaults(*args))
}

func validateLinodeVPC(args LinodeVPCArgs) error {
	if err := linodekit.Region("region", args.Region); err != nil {
		return err
	}
	cidr := args.SubnetCIDR
	prefix, err := validate.CIDR("subnetCidr", cidr)
	if err != nil {
		return err
	}
	if !prefix.Addr().IsPrivate() || !prefix.Addr().Is4() {
		return validate.Errorf("subnetCidr", cidr, "is not a private IPv4 range")
	}
	if prefix.Overlaps(netip.MustParsePrefix(linodekit.PrivateRange)) {
		return validate.Errorf("subnetCidr", cidr, "overlaps %s, which Linode keeps for its private network", linodekit.PrivateRange)
	}
	if prefix.Bits() > 28 {
		return validate.Errorf("subnetCidr", cidr, "leaves too few addresses; use /28 or larger")
	}
	return nil
}
