package linodevpc_test

import (
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/network/linodevpc"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
)

func TestTheLinodeVPCHasOneSubnetOfTheGivenRange(t *testing.T) {
	var vpc *linodevpc.LinodeVPC
	result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		vpc, err = linodevpc.NewLinodeVPC(ctx, "gitlab", &linodevpc.LinodeVPCArgs{Region: linodetest.Region, SubnetCIDR: "10.20.0.0/24"}, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	subnet := result.OfType("linode:index/vpcSubnet:VpcSubnet")[0]
	vpcResource := result.OfType("linode:index/vpc:Vpc")[0]
	assert.Equal(t, "10.20.0.0/24", subnet.InputString("ipv4"))
	assert.Equal(t, vpcResource.ID, linodeID(subnet.Inputs["vpcId"].NumberValue()))
	assert.Equal(t, "10.20.0.0/24", vpc.SubnetCIDR)
	assert.Equal(t, 1, result.OutputsRegistered)
}

func TestTheLinodeVPCRefusesRangesThatAreNotPrivateOrAreLinodes(t *testing.T) {
	for cidr, want := range map[string]string{
		"192.168.128.0/24": "overlaps 192.168.128.0/17",
		"8.8.8.0/24":       "is not a private IPv4 range",
		"10.0.0.0/30":      "leaves too few addresses",
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			_, err := linodevpc.NewLinodeVPC(ctx, "gitlab", &linodevpc.LinodeVPCArgs{Region: "eu-central", SubnetCIDR: cidr})
			return err
		}, `subnetCidr: "`+cidr+`" `+want)
	}
}

// linodeID formats a numeric Linode ID input as the string ID of the resource it names.
func linodeID(id float64) string {
	return fmt.Sprint(int(id))
}
