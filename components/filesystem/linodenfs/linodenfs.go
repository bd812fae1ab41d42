// Package linodenfs builds GitLab's shared file system on Linode, which has no managed NFS: an NFS server
// inside the LKE cluster, on an encrypted Block Storage volume the stack owns, reachable through a ClusterIP
// Service and nothing else, that every zone's PersistentVolume points at.
//
// Why inside the cluster: NFS has no authentication, so who can reach the server is its only protection.
// Standard LKE nodes cannot join a VPC in the Linode provider this project pins, and the data center's
// private network is shared with other customers; a ClusterIP is reachable from the cluster's nodes and pods
// alone, the nodes' firewall admits no NFS, and a NetworkPolicy admits the cluster's pod network alone.
package linodenfs

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// LinodeNFSTypeToken is the Linode NFS server component's Pulumi type. It is the token (and "gitlab-nfs" the
// name) the stack has always used, so that the Block Storage volume, and GitLab's data on it, keeps its
// identity when a running stack moves its server into the cluster.
const LinodeNFSTypeToken = "gitlab-ha:filesystem:LinodeNFS"

const componentTag = "filesystem"

// ExportPath is the path clients mount: the server's NFSv4 pseudo path for GitLab's data.
const ExportPath = "/gitlab"

// DefaultImage is the NFS server: NFS-Ganesha 4.0.8, a user-space server that needs no kernel module and no
// privileged container, from the image Kubernetes SIG Storage publishes for its NFS provisioner, by the digest
// of the v4.0.8 multi-architecture index, so that a node pulls it once and never anything else under its
// name. The component runs ganesha.nfsd itself, with its own configuration; nothing of the provisioner runs.
const DefaultImage = "registry.k8s.io/sig-storage/nfs-provisioner:v4.0.8@sha256:c825f3d5e28bde099bd7a3daace28772d412c9157ad47fa752a9ad0baafc118d"

// DefaultServerIP is the cluster IP the NFS Service is created with, in LKE's service network 10.128.0.0/16,
// among the first 256 addresses, which Kubernetes hands out dynamically only when the rest are taken
// (10.128.0.1 is the API server's, 10.128.0.10 the cluster DNS's). Fixed, so that a Service created anew
// (a namespace renamed, say) comes back at the address every zone's PersistentVolume names.
const DefaultServerIP = "10.128.0.49"

// serviceNetwork is LKE's Service network, which DefaultServerIP and ServerIP must be in.
var serviceNetwork = netip.MustParsePrefix("10.128.0.0/16")

// nfsPort is NFSv4's one port; NFSv4.1 needs no portmapper, mountd, lock or status service.
const nfsPort = 2049

// csiDriver is the Linode Block Storage CSI driver LKE runs; it attaches the volume to the server's node.
const csiDriver = "linodebs.csi.linode.com"

// LinodeNFSArgs configures the NFS server.
type LinodeNFSArgs struct {
	// Region of the Block Storage volume, the cluster's, e.g. "eu-central". Required.
	Region string
	// ClientCIDRs are the only networks the NetworkPolicy admits to the server: the cluster's pod network
	// (linodekit.PodCIDR), where kube-proxy puts the kubelets that mount it. Required; never 0.0.0.0/0.
	ClientCIDRs []string
	// Namespace the server runs in, created by the component. Default "gitlab-nfs".
	Namespace string
	// VolumeGiB of the Block Storage volume, 10-10240. Default 200.
	VolumeGiB int
	// Encryption of the volume at rest. Default true; the region must offer Block Storage Encryption (the
	// stack's pre-flight asks Linode), and false is the choice for a region that does not. Changing it
	// replaces the volume, and GitLab's data with it.
	Encryption *bool
	// ServerIP is the NFS Service's cluster IP, in LKE's Service network 10.128.0.0/16. Default
	// DefaultServerIP. A Service that already runs keeps the address it has (the field is set at create only).
	ServerIP string
	// Image of the NFS server. Default DefaultImage.
	Image string
	// Protect guards the volume against deletion (pulumi protect and retainOnDelete). Default false.
	Protect bool
	// Tags added to the volume. Default none.
	Tags []string
}

// LinodeNFS is the component. It needs two providers, given with pulumi.Providers: Linode's for the volume,
// the cluster's Kubernetes provider for the server.
type LinodeNFS struct {
	pulumi.ResourceState

	// Server is the Service's cluster IP, the NFS server of every zone's volume: the kubelet mounts from the
	// node, where cluster DNS names do not resolve but kube-proxy serves cluster IPs. A PersistentVolume's
	// server cannot change, so the address is fixed (ServerIP). Path is the export.
	Server    pulumi.StringOutput
	Path      string
	Namespace string
	VolumeID  pulumi.IntOutput
}

func withLinodeNFSDefaults(args LinodeNFSArgs) LinodeNFSArgs {
	if args.Namespace == "" {
		args.Namespace = "gitlab-nfs"
	}
	if args.VolumeGiB == 0 {
		args.VolumeGiB = 200
	}
	if args.Image == "" {
		args.Image = DefaultImage
	}
	if args.Encryption == nil {
		args.Encryption = pulumi.BoolRef(true)
	}
	if args.ServerIP == "" {
		args.ServerIP = DefaultServerIP
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
	if err := linodekit.NoOpenRange("clientCidrs", a.ClientCIDRs); err != nil {
		return err
	}
	if err := validate.DNSLabel("namespace", a.Namespace); err != nil {
		return err
	}
	if a.VolumeGiB < 10 || a.VolumeGiB > 10240 {
		return validate.Errorf("volumeGiB", a.VolumeGiB, "is outside 10-10240, what Block Storage offers")
	}
	ip, err := netip.ParseAddr(a.ServerIP)
	if err != nil || !serviceNetwork.Contains(ip) || ip == serviceNetwork.Addr().Next() {
		return validate.Errorf("serverIp", a.ServerIP, "is not an address of LKE's Service network %s (other than the API server's)", serviceNetwork)
	}
	return nil
}

// BlockStorageEncryption is the region capability an encrypted volume needs.
const BlockStorageEncryption = "Block Storage Encryption"

// EncryptionOffered asks Linode for the region's capabilities and refuses (field "encryption") an encrypted
// volume in a region without Block Storage Encryption, which Linode would refuse at create, leaving no NFS
// server and so no GitLab. Invoke options carry the Linode provider.
func EncryptionOffered(ctx *pulumi.Context, args *LinodeNFSArgs, opts ...pulumi.InvokeOption) error {
	a := withLinodeNFSDefaults(*args)
	if !*a.Encryption {
		return nil
	}
	region, err := linode.GetRegion(ctx, &linode.GetRegionArgs{Id: a.Region}, opts...)
	if err != nil {
		return fmt.Errorf("asking Linode for the capabilities of region %s: %w", a.Region, err)
	}
	for _, capability := range region.Capabilities {
		if capability == BlockStorageEncryption {
			return nil
		}
	}
	return validate.Errorf("encryption", true, "needs %q, which region %s does not offer (it offers %s): choose a region that does, "+
		"or turn the volume's encryption off by name", BlockStorageEncryption, a.Region, strings.Join(region.Capabilities, ", "))
}

// NewLinodeNFS validates args, then creates the volume, and in the cluster the server's namespace, its
// configuration, the volume's PersistentVolume and claim, the server, its Service and its NetworkPolicy.
func NewLinodeNFS(ctx *pulumi.Context, name string, args *LinodeNFSArgs, opts ...pulumi.ResourceOption) (*LinodeNFS, error) {
	if args == nil {
		return nil, fmt.Errorf("filesystem %q: args are required", name)
	}
	a := withLinodeNFSDefaults(*args)
	if err := validateLinodeNFS(a); err != nil {
		return nil, fmt.Errorf("filesystem %q: %w", name, err)
	}
	f := &LinodeNFS{Path: ExportPath, Namespace: a.Namespace}
	if err := ctx.RegisterComponentResource(LinodeNFSTypeToken, name, f, opts...); err != nil {
		return nil, err
	}
	// Not attached by Pulumi: the CSI driver attaches it to whichever node runs the server. (A running
	// stack's recorded attachment to its old server instance stays in state until that instance is deleted.)
	volume, err := linode.NewVolume(ctx, name+"-data", &linode.VolumeArgs{
		Label: pulumi.String(linodekit.Label(ctx, name+"-data")), Region: pulumi.String(a.Region), Size: pulumi.Int(a.VolumeGiB),
		Encryption: pulumi.String(encryption(*a.Encryption)), Tags: linodekit.Tags(componentTag, a.Tags),
	}, pulumi.Parent(f), pulumi.Protect(a.Protect), pulumi.RetainOnDelete(a.Protect))
	if err != nil {
		return nil, err
	}
	f.VolumeID = linodekit.IntID(volume.ID())
	service, err := newServer(ctx, f, name, a, volume)
	if err != nil {
		return nil, err
	}
	f.Server = service.Spec.ClusterIP().Elem()
	if err := ctx.RegisterResourceOutputs(f, pulumi.Map{
		"server": f.Server, "path": pulumi.String(f.Path), "namespace": pulumi.String(f.Namespace), "volumeId": f.VolumeID,
	}); err != nil {
		return nil, err
	}
	return f, nil
}

func encryption(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}
