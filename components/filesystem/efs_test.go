package filesystem_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/filesystem"
	"github.com/gitlab-ha/gitlab-ha/components/network"
	"github.com/gitlab-ha/gitlab-ha/internal/awstest"
)

const (
	fileSystemType  = "aws:efs/fileSystem:FileSystem"
	mountTargetType = "aws:efs/mountTarget:MountTarget"
)

var zones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}

// build makes a real network and the file system in its private subnets.
func build(t *testing.T, edit func(*filesystem.EFSArgs)) (*componenttest.Result, *filesystem.EFS, *network.Network) {
	t.Helper()
	var fs *filesystem.EFS
	var net *network.Network
	result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		net, err = network.NewNetwork(ctx, "gitlab", &network.NetworkArgs{Region: awstest.Region, Zones: zones}, pulumi.Provider(provider))
		if err != nil {
			return err
		}
		args := &filesystem.EFSArgs{
			VpcID: net.VpcID, Zones: zones, SubnetIDs: net.PrivateSubnets(), ClientSecurityGroupID: pulumi.String("sg-nodes"),
		}
		if edit != nil {
			edit(args)
		}
		fs, err = filesystem.NewEFS(ctx, "gitlab-data", args, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	return result, fs, net
}

func TestEachZonesMountTargetSitsInThatZonesPrivateSubnet(t *testing.T) {
	result, fs, net := build(t, nil)
	require.Len(t, result.OfType(mountTargetType), 3)
	subnets := awstest.Value(t, net.PrivateSubnetIDs).(map[string]string)
	ips := awstest.Value(t, fs.MountTargetIPs).(map[string]string)
	dnsNames := awstest.Value(t, fs.MountTargetDNSNames).(map[string]string)
	fsID := awstest.Value(t, fs.FileSystemID).(string)
	for _, zone := range zones {
		target, ok := result.Find(mountTargetType, "gitlab-data-"+zone)
		require.True(t, ok, zone)
		assert.Equal(t, subnets[zone], target.InputString("subnetId"), zone)

		subnet, _ := result.Find("aws:ec2/subnet:Subnet", "gitlab-private-"+zone)
		cidr := netip.MustParsePrefix(subnet.InputString("cidrBlock"))
		assert.True(t, cidr.Contains(netip.MustParseAddr(ips[zone])), "%s's mount target %s is inside %s", zone, ips[zone], cidr)
		assert.Equal(t, fmt.Sprintf("%s.%s.efs.eu-west-1.amazonaws.com", zone, fsID), dnsNames[zone])

		ip, _ := componenttest.Await(fs.MountTargetIP(zone).ToStringOutput())
		assert.Equal(t, ips[zone], ip.Value)
	}
}

func TestTheFileSystemIsEncryptedBackedUpAndTiered(t *testing.T) {
	result, _, _ := build(t, nil)
	fs := result.OfType(fileSystemType)[0]
	assert.Equal(t, true, fs.Inputs["encrypted"].V)
	assert.Equal(t, "elastic", fs.InputString("throughputMode"))
	assert.Equal(t, "AFTER_30_DAYS", fs.InputString("lifecyclePolicies[0].transitionToIa"))
	assert.Equal(t, "AFTER_1_ACCESS", fs.InputString("lifecyclePolicies[1].transitionToPrimaryStorageClass"))
	backup := result.OfType("aws:efs/backupPolicy:BackupPolicy")[0]
	assert.Equal(t, "ENABLED", backup.InputString("backupPolicy.status"))
}

func TestOnlyTheNodesMayReachTheMountTargetsAndOnlyOverNFS(t *testing.T) {
	result, fs, _ := build(t, nil)
	efs, _ := result.Find(filesystem.EFSTypeToken, "gitlab-data")
	var rules []componenttest.Resource
	for _, rule := range result.ChildrenOf(efs.URN) {
		if rule.Type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" {
			rules = append(rules, rule)
		}
	}
	require.Len(t, rules, 1)
	assert.Equal(t, "sg-nodes", rules[0].InputString("referencedSecurityGroupId"))
	assert.Equal(t, float64(2049), rules[0].Inputs["fromPort"].V)
	assert.Equal(t, float64(2049), rules[0].Inputs["toPort"].V)
	group := awstest.Value(t, fs.SecurityGroupID)
	for _, target := range result.OfType(mountTargetType) {
		assert.Equal(t, []any{group}, target.MustInput(t, "securityGroups"), target.Name)
	}
}

type policyDoc struct {
	Statement []struct {
		Sid       string
		Effect    string
		Condition map[string]map[string]string
	}
}

func policyOf(t *testing.T, result *componenttest.Result) policyDoc {
	t.Helper()
	var doc policyDoc
	require.NoError(t, json.Unmarshal([]byte(result.OfType("aws:efs/fileSystemPolicy:FileSystemPolicy")[0].InputString("policy")), &doc))
	return doc
}

func TestThePolicyDeniesUnencryptedTransportUnlessPlainNFSIsChosenByName(t *testing.T) {
	strict, _, _ := build(t, nil)
	doc := policyOf(t, strict)
	require.Len(t, doc.Statement, 2)
	assert.Equal(t, "Deny", doc.Statement[1].Effect)
	assert.Equal(t, "false", doc.Statement[1].Condition["Bool"]["aws:SecureTransport"])
	assert.Equal(t, "true", doc.Statement[0].Condition["Bool"]["elasticfilesystem:AccessedViaMountTarget"])

	plain, _, _ := build(t, func(a *filesystem.EFSArgs) { a.AllowNonTLSClients = true })
	doc = policyOf(t, plain)
	require.Len(t, doc.Statement, 1, "no TLS requirement, still mount targets only")
	assert.Equal(t, "Allow", doc.Statement[0].Effect)
	assert.Equal(t, "true", doc.Statement[0].Condition["Bool"]["elasticfilesystem:AccessedViaMountTarget"])
}

func TestProtectGuardsTheFileSystemOnly(t *testing.T) {
	result, _, _ := build(t, func(a *filesystem.EFSArgs) { a.Protect = true })
	for _, r := range result.Resources {
		assert.Equal(t, r.Type == fileSystemType, r.Protect, "%s %s", r.Type, r.Name)
		assert.Equal(t, r.Type == fileSystemType, r.RetainOnDelete, "%s %s", r.Type, r.Name)
	}
}

func TestEveryChildIsParentedTaggedAndUsesTheGivenProvider(t *testing.T) {
	result, _, _ := build(t, nil)
	efs, ok := result.Find(filesystem.EFSTypeToken, "gitlab-data")
	require.True(t, ok)
	children := awstest.CheckComponent(t, result, efs.URN)
	assert.Len(t, children, 1+1+1+1+1+3, "file system, backup policy, policy, group, rule, a mount target per zone")
}

func TestBadArgsGiveOneClearErrorAndRegisterNothing(t *testing.T) {
	valid := func() *filesystem.EFSArgs {
		return &filesystem.EFSArgs{
			VpcID: pulumi.String("vpc-1"), ClientSecurityGroupID: pulumi.String("sg-nodes"), Zones: []string{"eu-west-1a", "eu-west-1b"},
			SubnetIDs: map[string]pulumi.StringInput{"eu-west-1a": pulumi.String("subnet-a"), "eu-west-1b": pulumi.String("subnet-b")},
		}
	}
	cases := []struct {
		name string
		edit func(*filesystem.EFSArgs)
		want string
	}{
		{"no client group", func(a *filesystem.EFSArgs) { a.ClientSecurityGroupID = nil }, "clientSecurityGroupId: is required"},
		{"no zones", func(a *filesystem.EFSArgs) { a.Zones = nil }, "zones: 0 zones given; at least 1 needed"},
		{"zone without subnet", func(a *filesystem.EFSArgs) { a.Zones = append(a.Zones, "eu-west-1c") }, `subnetIds["eu-west-1c"]: is required`},
		{"unknown throughput mode", func(a *filesystem.EFSArgs) { a.ThroughputMode = "fast" }, `throughputMode: "fast"`},
		{"provisioned without throughput", func(a *filesystem.EFSArgs) { a.ThroughputMode = "provisioned" },
			"provisionedThroughputMiBps: 0 must be positive"},
		{"throughput without provisioned", func(a *filesystem.EFSArgs) { a.ProvisionedThroughputMiBps = 100 },
			`provisionedThroughputMiBps: 100 is set, but throughputMode is "elastic"`},
		{"unknown transition", func(a *filesystem.EFSArgs) { a.TransitionToIA = "AFTER_45_DAYS" }, `transitionToIA: "AFTER_45_DAYS"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := valid()
			tc.edit(args)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := filesystem.NewEFS(ctx, "gitlab-data", args)
				return err
			}, fmt.Sprintf("filesystem %q: %s", "gitlab-data", tc.want))
		})
	}
}
