// Package filesystem builds the shared file system every zone's GitLab mounts: on AWS an encrypted EFS with
// one mount target in each zone's private subnet, reachable over NFS from the cluster's nodes alone.
package filesystem

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
	"github.com/gitlab-ha/gitlab-ha/internal/securitygroup"
)

// EFSTypeToken is the EFS component's Pulumi type.
const EFSTypeToken = "gitlab-ha:filesystem:EFS"

const componentTag = "filesystem"

// NFSPort is where NFS listens.
const NFSPort = 2049

// EFS is the component.
type EFS struct {
	pulumi.ResourceState

	// FileSystemID, ARN and DNSName of the file system.
	FileSystemID pulumi.StringOutput
	ARN          pulumi.StringOutput
	DNSName      pulumi.StringOutput
	// MountTargetIDs, MountTargetIPs and MountTargetDNSNames map zone name to that zone's mount target.
	MountTargetIDs      pulumi.StringMapOutput
	MountTargetIPs      pulumi.StringMapOutput
	MountTargetDNSNames pulumi.StringMapOutput
	// SecurityGroupID is the mount targets' group.
	SecurityGroupID pulumi.StringOutput

	mountTargetIPs map[string]pulumi.StringInput
}

// MountTargetIP returns the address of a zone's mount target: the NFS server of that zone's volume.
func (f *EFS) MountTargetIP(zone string) pulumi.StringInput { return f.mountTargetIPs[zone] }

// ValidateEFS reports the first problem with args, as NewEFS would, without registering anything.
func ValidateEFS(args *EFSArgs) error {
	return validateEFS(withEFSDefaults(*args))
}

// NewEFS validates args, then builds the file system, its policies, security group and mount targets.
func NewEFS(ctx *pulumi.Context, name string, args *EFSArgs, opts ...pulumi.ResourceOption) (*EFS, error) {
	if args == nil {
		return nil, fmt.Errorf("filesystem %q: args are required", name)
	}
	defaulted := withEFSDefaults(*args)
	if err := validateEFS(defaulted); err != nil {
		return nil, fmt.Errorf("filesystem %q: %w", name, err)
	}
	f := &EFS{}
	if err := ctx.RegisterComponentResource(EFSTypeToken, name, f, opts...); err != nil {
		return nil, err
	}
	if err := f.build(ctx, name, defaulted); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(f, pulumi.Map{
		"fileSystemId": f.FileSystemID, "arn": f.ARN, "dnsName": f.DNSName, "mountTargetIds": f.MountTargetIDs,
		"mountTargetIps": f.MountTargetIPs, "mountTargetDnsNames": f.MountTargetDNSNames, "securityGroupId": f.SecurityGroupID,
	}); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *EFS) build(ctx *pulumi.Context, name string, args EFSArgs) error {
	fsArgs := &efs.FileSystemArgs{
		Encrypted:       pulumi.Bool(true),
		KmsKeyId:        args.KMSKeyID,
		PerformanceMode: pulumi.String("generalPurpose"), // lowest latency; maxIO only suits massively parallel access
		ThroughputMode:  pulumi.String(args.ThroughputMode),
		Tags:            awstags.For(componentTag, name, args.Tags),
	}
	if args.ThroughputMode == "provisioned" {
		fsArgs.ProvisionedThroughputInMibps = pulumi.Float64(args.ProvisionedThroughputMiBps)
	}
	if args.TransitionToIA != "NONE" {
		fsArgs.LifecyclePolicies = efs.FileSystemLifecyclePolicyArray{
			&efs.FileSystemLifecyclePolicyArgs{TransitionToIa: pulumi.String(args.TransitionToIA)},
			&efs.FileSystemLifecyclePolicyArgs{TransitionToPrimaryStorageClass: pulumi.String("AFTER_1_ACCESS")},
		}
	}
	fileSystem, err := efs.NewFileSystem(ctx, name, fsArgs,
		pulumi.Parent(f), pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect))
	if err != nil {
		return err
	}
	status := "DISABLED"
	if *args.Backup {
		status = "ENABLED"
	}
	if _, err := efs.NewBackupPolicy(ctx, name, &efs.BackupPolicyArgs{
		FileSystemId: fileSystem.ID(),
		BackupPolicy: &efs.BackupPolicyBackupPolicyArgs{Status: pulumi.String(status)},
	}, pulumi.Parent(f)); err != nil {
		return err
	}
	if _, err := efs.NewFileSystemPolicy(ctx, name, &efs.FileSystemPolicyArgs{
		FileSystemId: fileSystem.ID(),
		Policy:       fileSystem.Arn.ApplyT(func(arn string) (string, error) { return accessPolicy(arn, args.AllowNonTLSClients) }).(pulumi.StringOutput),
	}, pulumi.Parent(f)); err != nil {
		return err
	}

	group, err := securitygroup.New(ctx, name, securitygroup.Args{
		Component: componentTag, VpcID: args.VpcID, Description: "GitLab HA file system mount targets",
		Ingress: []securitygroup.Rule{{
			Key: "nfs-from-nodes", Description: "NFS from the cluster's nodes", FromPort: NFSPort, FromGroup: args.ClientSecurityGroupID,
		}},
		Tags: args.Tags,
	}, f)
	if err != nil {
		return err
	}
	ids, ips, dnsNames := pulumi.StringMap{}, pulumi.StringMap{}, pulumi.StringMap{}
	f.mountTargetIPs = map[string]pulumi.StringInput{}
	for _, zone := range args.Zones {
		target, err := efs.NewMountTarget(ctx, name+"-"+zone, &efs.MountTargetArgs{
			FileSystemId:   fileSystem.ID(),
			SubnetId:       args.SubnetIDs[zone],
			SecurityGroups: pulumi.StringArray{group.ID()},
		}, pulumi.Parent(f))
		if err != nil {
			return err
		}
		ids[zone], ips[zone], dnsNames[zone] = target.ID(), target.IpAddress, target.MountTargetDnsName
		f.mountTargetIPs[zone] = target.IpAddress
	}

	f.FileSystemID = fileSystem.ID().ToStringOutput()
	f.ARN = fileSystem.Arn
	f.DNSName = fileSystem.DnsName
	f.MountTargetIDs = ids.ToStringMapOutput()
	f.MountTargetIPs = ips.ToStringMapOutput()
	f.MountTargetDNSNames = dnsNames.ToStringMapOutput()
	f.SecurityGroupID = group.ID().ToStringOutput()
	return nil
}
