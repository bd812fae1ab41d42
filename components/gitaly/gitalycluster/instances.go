package gitalycluster

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// dataDevice is the repository volume's device name; on Nitro instances it appears as an NVMe device whose
// serial is the volume's ID, which the start-up finds it by.
const dataDevice = "/dev/sdf"

// rootVolumeGiB holds the OS and the GitLab package (about 4 GiB installed), with room for logs.
const rootVolumeGiB = 30

// instanceOptions are what every instance shares: IMDSv2 only, one hop (no container on it reaches the
// metadata service), an encrypted gp3 root volume.
func instanceArgs(a GitalyClusterArgs, instanceType string, profile *iam.InstanceProfile, userData pulumi.StringInput, name string) *ec2.InstanceArgs {
	return &ec2.InstanceArgs{
		Ami: a.AMI, InstanceType: pulumi.String(instanceType), IamInstanceProfile: profile.Name,
		MetadataOptions: &ec2.InstanceMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"), HttpTokens: pulumi.String("required"), HttpPutResponseHopLimit: pulumi.Int(1),
		},
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			Encrypted: pulumi.Bool(true), VolumeType: pulumi.String("gp3"), VolumeSize: pulumi.Int(rootVolumeGiB),
		},
		UserData: userData,
		// The user data names the GitLab version: a new one replaces the instance, which installs it afresh.
		UserDataReplaceOnChange: pulumi.Bool(true),
		Tags:                    awstags.For(componentTag, name, a.Tags),
	}
}

// gitalyNode is one zone's Gitaly: its address, its volume and the instance that mounts it.
type gitalyNode struct {
	zone       string
	address    *ec2.NetworkInterface
	volume     *ebs.Volume
	instance   *ec2.Instance
	attachment *ec2.VolumeAttachment
}

// newGitalyNode makes a zone's network interface and volume, which outlive any instance, then the instance and
// the attachment. after orders the instance behind the previous zone's node, so that Pulumi replaces one zone
// at a time.
func (c *GitalyCluster) newGitalyNode(ctx *pulumi.Context, name, zone string, a GitalyClusterArgs, g *groups,
	profile *iam.InstanceProfile, userData func(volumeID pulumi.StringOutput) pulumi.StringOutput, after []pulumi.Resource) (*gitalyNode, error) {
	nodeName := name + "-gitaly-" + zone
	address, err := ec2.NewNetworkInterface(ctx, nodeName, &ec2.NetworkInterfaceArgs{
		SubnetId: a.SubnetIDs[zone], SecurityGroups: pulumi.StringArray{g.gitaly.ID()},
		Description: pulumi.String("GitLab HA Gitaly " + zone + ": the address Praefect knows it by, kept across instances"),
		Tags:        awstags.For(componentTag, nodeName, a.Tags),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	// The repositories: a volume of the zone's own, encrypted, snapshotted if it is ever deleted, and
	// protected, so that no instance change and no mistaken destroy touches it.
	volume, err := ebs.NewVolume(ctx, nodeName, &ebs.VolumeArgs{
		AvailabilityZone: pulumi.String(zone), Size: pulumi.Int(a.VolumeSizeGiB), Type: pulumi.String("gp3"),
		Encrypted: pulumi.Bool(true), FinalSnapshot: pulumi.Bool(true),
		Tags: awstags.For(componentTag, nodeName, a.Tags),
	}, pulumi.Parent(c), pulumi.Protect(true))
	if err != nil {
		return nil, err
	}
	instance := instanceArgs(a, a.GitalyInstanceType, profile, userData(volume.ID().ToStringOutput()), nodeName)
	instance.NetworkInterfaces = ec2.InstanceNetworkInterfaceArray{&ec2.InstanceNetworkInterfaceArgs{
		DeviceIndex: pulumi.Int(0), NetworkInterfaceId: address.ID(),
	}}
	server, err := ec2.NewInstance(ctx, nodeName, instance, pulumi.Parent(c),
		// The interface and the volume belong to one instance at a time: the old one goes first.
		pulumi.DeleteBeforeReplace(true),
		// A newer AMI waits for the next replacement (a new GitLab version) rather than causing one.
		pulumi.IgnoreChanges([]string{"ami"}),
		pulumi.DependsOn(after))
	if err != nil {
		return nil, err
	}
	attachment, err := ec2.NewVolumeAttachment(ctx, nodeName, &ec2.VolumeAttachmentArgs{
		DeviceName: pulumi.String(dataDevice), InstanceId: server.ID(), VolumeId: volume.ID(),
		// Gitaly stops with the instance before the volume leaves it: no repository is detached mid-write.
		StopInstanceBeforeDetaching: pulumi.Bool(true),
	}, pulumi.Parent(c), pulumi.DeleteBeforeReplace(true))
	if err != nil {
		return nil, err
	}
	return &gitalyNode{zone: zone, address: address, volume: volume, instance: server, attachment: attachment}, nil
}

// praefectNode is one zone's Praefect and its place behind the load balancer.
type praefectNode struct {
	instance *ec2.Instance
	target   *lb.TargetGroupAttachment
}

func (c *GitalyCluster) newPraefectNode(ctx *pulumi.Context, name, zone string, a GitalyClusterArgs, g *groups, b *balancer,
	profile *iam.InstanceProfile, userData pulumi.StringInput, after []pulumi.Resource) (*praefectNode, error) {
	nodeName := name + "-praefect-" + zone
	instance := instanceArgs(a, a.PraefectInstanceType, profile, userData, nodeName)
	instance.SubnetId = a.SubnetIDs[zone]
	instance.VpcSecurityGroupIds = pulumi.StringArray{g.praefect.ID()}
	instance.AssociatePublicIpAddress = pulumi.Bool(false)
	server, err := ec2.NewInstance(ctx, nodeName, instance, pulumi.Parent(c),
		pulumi.IgnoreChanges([]string{"ami"}), pulumi.DependsOn(after))
	if err != nil {
		return nil, err
	}
	target, err := lb.NewTargetGroupAttachment(ctx, nodeName, &lb.TargetGroupAttachmentArgs{
		TargetGroupArn: b.praefect.Arn, TargetId: server.ID(), Port: pulumi.Int(PraefectPort),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	return &praefectNode{instance: server, target: target}, nil
}
