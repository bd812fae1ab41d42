package filesystem

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// EFSArgs configures a shared file system with a mount target in every zone.
type EFSArgs struct {
	// VpcID of the network. Required.
	VpcID pulumi.StringInput
	// Zones, each of which gets a mount target in its private subnet. Required, at least one.
	Zones []string
	// SubnetIDs by zone name: the private subnets. Required for every zone.
	SubnetIDs map[string]pulumi.StringInput
	// ClientSecurityGroupID is the group allowed to mount (the cluster's nodes): mount targets admit
	// NFS, 2049/tcp, from it alone. Required.
	ClientSecurityGroupID pulumi.StringInput

	// AllowNonTLSClients lets clients mount without TLS. Default false: the file-system policy denies any
	// request not made over TLS. Kubernetes' built-in NFS volumes, which the GitLab component's per-zone
	// PersistentVolumes are, cannot speak TLS to EFS (only the EFS CSI driver's efs-utils mount can), so a
	// stack that uses them must set this, and should say so. Traffic still never leaves the VPC and reaches
	// only the nodes' security group.
	AllowNonTLSClients bool
	// ThroughputMode is "elastic" (default: pays for what is used, scales with load), "bursting" or
	// "provisioned".
	ThroughputMode string
	// ProvisionedThroughputMiBps with ThroughputMode "provisioned", and only then.
	ProvisionedThroughputMiBps float64
	// TransitionToIA moves files untouched this long to Infrequent Access, and back on first access:
	// "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS" (default), "AFTER_60_DAYS", "AFTER_90_DAYS", or
	// "NONE" to keep everything in Standard.
	TransitionToIA string
	// Backup turns on AWS Backup's daily backups of the file system. Default true.
	Backup *bool
	// KMSKeyID encrypts the file system with a key of your own. Default: the AWS-managed key for EFS.
	// Encryption is on either way.
	KMSKeyID pulumi.StringInput
	// Protect guards the file system against deletion (pulumi protect and retainOnDelete). Default false.
	Protect bool
	// Tags added to every resource. Default none.
	Tags map[string]string
}

var transitions = map[string]bool{
	"AFTER_7_DAYS": true, "AFTER_14_DAYS": true, "AFTER_30_DAYS": true, "AFTER_60_DAYS": true, "AFTER_90_DAYS": true, "NONE": true,
}

func withEFSDefaults(args EFSArgs) EFSArgs {
	if args.ThroughputMode == "" {
		args.ThroughputMode = "elastic"
	}
	if args.TransitionToIA == "" {
		args.TransitionToIA = "AFTER_30_DAYS"
	}
	if args.Backup == nil {
		args.Backup = pulumi.BoolRef(true)
	}
	return args
}

func validateEFS(args EFSArgs) error {
	if err := validate.RequiredString("vpcId", args.VpcID); err != nil {
		return err
	}
	if err := validate.RequiredString("clientSecurityGroupId", args.ClientSecurityGroupID); err != nil {
		return err
	}
	if err := validate.ZoneSubnets(args.Zones, 1, "subnetIds", args.SubnetIDs); err != nil {
		return err
	}
	switch args.ThroughputMode {
	case "elastic", "bursting":
		if args.ProvisionedThroughputMiBps != 0 {
			return validate.Errorf("provisionedThroughputMiBps", args.ProvisionedThroughputMiBps, "is set, but throughputMode is %q, not provisioned", args.ThroughputMode)
		}
	case "provisioned":
		if args.ProvisionedThroughputMiBps <= 0 {
			return validate.Errorf("provisionedThroughputMiBps", args.ProvisionedThroughputMiBps, "must be positive with throughputMode provisioned")
		}
	default:
		return validate.Errorf("throughputMode", args.ThroughputMode, "is not elastic, bursting or provisioned")
	}
	if !transitions[args.TransitionToIA] {
		return validate.Errorf("transitionToIA", args.TransitionToIA, "is not NONE or AFTER_7/14/30/60/90_DAYS")
	}
	return nil
}
