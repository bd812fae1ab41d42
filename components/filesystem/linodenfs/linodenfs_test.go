package linodenfs_test

import (
	"encoding/base64"
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/filesystem/linodenfs"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
)

func nfsArgs() *linodenfs.LinodeNFSArgs {
	return &linodenfs.LinodeNFSArgs{
		Region: linodetest.Region, SubnetID: pulumi.Int(42), SubnetCIDR: "10.0.0.0/24", ClientCIDRs: []string{"10.0.0.0/24"},
	}
}

func TestTheNFSServerExportsAndAdmitsTheClientsAlone(t *testing.T) {
	var nfs *linodenfs.LinodeNFS
	result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		nfs, err = linodenfs.NewLinodeNFS(ctx, "gitlab-nfs", nfsArgs(), pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)

	firewall := result.OfType("linode:index/firewall:Firewall")[0]
	assert.Equal(t, "DROP", firewall.InputString("inboundPolicy"))
	assert.Equal(t, []any{map[string]any{"label": "nfs-from-clients", "action": "ACCEPT", "protocol": "TCP", "ports": "2049",
		"ipv4s": []any{"10.0.0.0/24"}}}, firewall.MustInput(t, "inbounds"))

	server := result.OfType("linode:index/instance:Instance")[0]
	assert.Equal(t, firewall.ID, inputID(t, server, "firewallId"))
	assert.Equal(t, true, server.Inputs["backupsEnabled"].V)
	assert.Equal(t, "10.0.0.10", server.InputString("interfaces[1].ipv4.vpc"), "a fixed address on the VPC subnet")
	userData, err := base64.StdEncoding.DecodeString(server.InputString("metadatas[0].userData"))
	require.NoError(t, err)
	assert.Contains(t, string(userData), `"/srv/nfs/gitlab 10.0.0.0/24(rw,sync,no_subtree_check,no_root_squash)\n"`, "exported to the clients alone")
	assert.Contains(t, string(userData), "blkid /dev/disk/by-id/scsi-0Linode_Volume_gitlab-nfs-data || mkfs.ext4", "formats only an empty volume")
	assert.True(t, server.InputIsSecret("rootPass"))

	volume := result.OfType("linode:index/volume:Volume")[0]
	assert.Equal(t, "enabled", volume.InputString("encryption"))
	assert.Equal(t, server.ID, inputID(t, volume, "linodeId"))
	address, _ := componenttest.Await(nfs.Server)
	assert.Equal(t, "10.0.0.10", address.Value)
}

// inputID is a numeric input (a Linode ID) as the string ID of the resource it names.
func inputID(t *testing.T, r componenttest.Resource, path string) string {
	t.Helper()
	v, ok := r.Input(path)
	require.True(t, ok, path)
	return strconv.Itoa(int(v.(float64)))
}

func TestLinodeNFSBadArgs(t *testing.T) {
	open := nfsArgs()
	open.ClientCIDRs = []string{"0.0.0.0/0"}
	small := nfsArgs()
	small.SubnetCIDR = "10.0.0.0/29"
	huge := nfsArgs()
	huge.VolumeGiB = 20000
	for want, args := range map[string]*linodenfs.LinodeNFSArgs{
		`clientCidrs[0]: "0.0.0.0/0" opens the service`:   open,
		`subnetCidr: "10.0.0.0/29" is not an IPv4 subnet`: small,
		"volumeGiB: 20000 is outside 10-10240":            huge,
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			_, err := linodenfs.NewLinodeNFS(ctx, "gitlab-nfs", args)
			return err
		}, want)
	}
}
