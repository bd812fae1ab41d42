// Package linodenfs builds GitLab's shared file system on Linode, which has no managed NFS: an NFS server
// on an encrypted Block Storage volume that every zone's PersistentVolume points at.
package linodenfs

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// LinodeNFSTypeToken is the Linode NFS server component's Pulumi type.
const LinodeNFSTypeToken = "gitlab-ha:filesystem:LinodeNFS"

const componentTag = "filesystem"

// ExportPath is the directory the server exports.
const ExportPath = "/srv/nfs/gitlab"

// LinodeNFSArgs configures an NFS server: Linode has no managed NFS, so one instance with a Block Storage
// volume serves every zone. It is a single point of failure: when it is down, every zone's GitLab is.
type LinodeNFSArgs struct {
	// Region, e.g. "eu-central". Required.
	Region string
	// SubnetID and SubnetCIDR of the VPC subnet the server lives on. Required.
	SubnetID   pulumi.IntInput
	SubnetCIDR string
	// ClientCIDRs may mount: the export and the Cloud Firewall admit them alone. Required; never 0.0.0.0/0.
	ClientCIDRs []string
	// InstanceType of the server. Default "g6-standard-2".
	InstanceType string
	// VolumeGiB of the Block Storage volume, 10-10240. Default 200.
	VolumeGiB int
	// Backups turns on Linode Backups of the server's disks (the Block Storage volume is not among them;
	// back GitLab up with its own tools). Default true.
	Backups *bool
	// Protect guards the volume against deletion (pulumi protect and retainOnDelete). Default false.
	Protect bool
	// Tags added to every resource. Default none.
	Tags []string
}

// LinodeNFS is the component.
type LinodeNFS struct {
	pulumi.ResourceState

	// Server is the server's address on the VPC subnet, the NFS server of every zone's volume; Path the export.
	Server     pulumi.StringOutput
	Path       string
	InstanceID pulumi.IntOutput
	VolumeID   pulumi.IntOutput
	FirewallID pulumi.IntOutput
}

func withLinodeNFSDefaults(args LinodeNFSArgs) LinodeNFSArgs {
	if args.InstanceType == "" {
		args.InstanceType = "g6-standard-2"
	}
	if args.VolumeGiB == 0 {
		args.VolumeGiB = 200
	}
	if args.Backups == nil {
		args.Backups = pulumi.BoolRef(true)
	}
	return args
}

// ValidateLinodeNFS reports the first problem with args.
func ValidateLinodeNFS(args *LinodeNFSArgs) error {
	return validateLinodeNFS(withLinodeNFSDefaults(*args))
}

// validateLinodeNFS checks args that already have their defaults.
func validateLinodeNFS(a LinodeNFSArgs) error {
	if err := linodekit.Region("region", a.Region); err != nil {
		return err
	}
	if a.SubnetID == nil {
		return validate.Missing("subnetId")
	}
	if _, err := serverAddress(a.SubnetCIDR); err != nil {
		return err
	}
	if err := linodekit.NoOpenRange("clientCidrs", a.ClientCIDRs); err != nil {
		return err
	}
	if a.VolumeGiB < 10 || a.VolumeGiB > 10240 {
		return validate.Errorf("volumeGiB", a.VolumeGiB, "is outside 10-10240, what Block Storage offers")
	}
	return nil
}

// serverAddress is the server's fixed address: the subnet's tenth, so that every PersistentVolume can name
// it before the server exists.
func serverAddress(subnetCIDR string) (netip.Addr, error) {
	prefix, err := validate.CIDR("subnetCidr", subnetCIDR)
	if err != nil {
		return netip.Addr{}, err
	}
	if !prefix.Addr().Is4() || prefix.Bits() > 28 {
		return netip.Addr{}, validate.Errorf("subnetCidr", subnetCIDR, "is not an IPv4 subnet of /28 or larger")
	}
	address := prefix.Addr()
	for i := 0; i < 10; i++ {
		address = address.Next()
	}
	return address, nil
}

// NewLinodeNFS validates args, then creates the server, its volume and its Cloud Firewall.
func NewLinodeNFS(ctx *pulumi.Context, name string, args *LinodeNFSArgs, opts ...pulumi.ResourceOption) (*LinodeNFS, error) {
	if args == nil {
		return nil, fmt.Errorf("filesystem %q: args are required", name)
	}
	a := withLinodeNFSDefaults(*args)
	if err := validateLinodeNFS(a); err != nil {
		return nil, fmt.Errorf("filesystem %q: %w", name, err)
	}
	address, _ := serverAddress(a.SubnetCIDR)
	f := &LinodeNFS{Path: ExportPath}
	if err := ctx.RegisterComponentResource(LinodeNFSTypeToken, name, f, opts...); err != nil {
		return nil, err
	}
	firewall, err := linode.NewFirewall(ctx, name, &linode.FirewallArgs{
		Label: pulumi.String(name + "-nfs"), InboundPolicy: pulumi.String("DROP"), OutboundPolicy: pulumi.String("ACCEPT"),
		Inbounds: linode.FirewallInboundArray{&linode.FirewallInboundArgs{
			Label: pulumi.String("nfs-from-clients"), Action: pulumi.String("ACCEPT"), Protocol: pulumi.String("TCP"),
			Ports: pulumi.String("2049"), Ipv4s: pulumi.ToStringArray(a.ClientCIDRs),
		}},
		Tags: linodekit.Tags(componentTag, a.Tags),
	}, pulumi.Parent(f))
	if err != nil {
		return nil, err
	}
	// Linode asks for a root password or a key to deploy an image; nobody logs in with it.
	rootPassword, err := random.NewRandomPassword(ctx, name+"-root", &random.RandomPasswordArgs{Length: pulumi.Int(32)}, pulumi.Parent(f))
	if err != nil {
		return nil, err
	}
	volumeLabel := name + "-data"
	instance, err := linode.NewInstance(ctx, name, &linode.InstanceArgs{
		Label: pulumi.String(name), Region: pulumi.String(a.Region), Type: pulumi.String(a.InstanceType),
		Image: pulumi.String("linode/debian12"), RootPass: rootPassword.Result, FirewallId: linodekit.IntID(firewall.ID()),
		BackupsEnabled: pulumi.Bool(*a.Backups),
		Interfaces: linode.InstanceInterfaceArray{
			&linode.InstanceInterfaceArgs{Purpose: pulumi.String("public")}, // package installs; the firewall admits nothing on it
			&linode.InstanceInterfaceArgs{
				Purpose: pulumi.String("vpc"), SubnetId: a.SubnetID,
				Ipv4: &linode.InstanceInterfaceIpv4Args{Vpc: pulumi.String(address.String())},
			},
		},
		Metadatas: linode.InstanceMetadataArray{&linode.InstanceMetadataArgs{
			UserData: pulumi.String(base64.StdEncoding.EncodeToString([]byte(cloudInit(volumeLabel, a.ClientCIDRs)))),
		}},
		Tags: linodekit.Tags(componentTag, a.Tags),
	}, pulumi.Parent(f))
	if err != nil {
		return nil, err
	}
	volume, err := linode.NewVolume(ctx, volumeLabel, &linode.VolumeArgs{
		Label: pulumi.String(volumeLabel), Region: pulumi.String(a.Region), Size: pulumi.Int(a.VolumeGiB),
		LinodeId: linodekit.IntID(instance.ID()), Encryption: pulumi.String("enabled"), Tags: linodekit.Tags(componentTag, a.Tags),
	}, pulumi.Parent(f), pulumi.Protect(a.Protect), pulumi.RetainOnDelete(a.Protect))
	if err != nil {
		return nil, err
	}
	f.Server = pulumi.String(address.String()).ToStringOutput()
	f.InstanceID, f.VolumeID, f.FirewallID = linodekit.IntID(instance.ID()), linodekit.IntID(volume.ID()), linodekit.IntID(firewall.ID())
	if err := ctx.RegisterResourceOutputs(f, pulumi.Map{
		"server": f.Server, "path": pulumi.String(f.Path), "instanceId": f.InstanceID, "volumeId": f.VolumeID, "firewallId": f.FirewallID,
	}); err != nil {
		return nil, err
	}
	return f, nil
}

// cloudInit installs the NFS server, formats the volume only if it holds no file system yet (a rebuilt
// server must never wipe GitLab's data), mounts it, and exports it to the clients alone. no_root_squash:
// Omnibus runs as root and chowns its directories.
func cloudInit(volumeLabel string, clients []string) string {
	var exports []string
	for _, cidr := range clients {
		exports = append(exports, cidr+"(rw,sync,no_subtree_check,no_root_squash)")
	}
	device := "/dev/disk/by-id/scsi-0Linode_Volume_" + volumeLabel
	return fmt.Sprintf(`#cloud-config
package_update: true
packages: [nfs-kernel-server]
write_files:
  - path: /etc/exports.d/gitlab.exports
    content: "%s %s\n"
runcmd:
  - [sh, -c, "until [ -e %[3]s ]; do sleep 2; done"]
  - [sh, -c, "blkid %[3]s || mkfs.ext4 -L gitlab-data %[3]s"]
  - [mkdir, -p, %[1]s]
  - [sh, -c, "grep -q gitlab-data /etc/fstab || echo 'LABEL=gitlab-data %[1]s ext4 defaults,noatime,nofail 0 2' >> /etc/fstab"]
  - [mount, -a]
  - [systemctl, enable, --now, nfs-server]
  - [exportfs, -ra]
`, ExportPath, strings.Join(exports, " "), device)
}
