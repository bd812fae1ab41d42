package cluster

import (
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
	"github.com/gitlab-ha/gitlab-ha/internal/securitygroup"
)

// nodePool is what nodes made: the group every node is in, and each zone's node group.
type nodePool struct {
	securityGroup     *ec2.SecurityGroup
	groups            pulumi.StringMap // zone → node group name
	autoscalingGroups pulumi.StringMap // zone → Auto Scaling group name
	nodeGroups        []pulumi.Resource
}

// nodes creates the node role, the node security group, one launch template, and a managed node group per
// zone in that zone's private subnet alone, so that each zone keeps its own capacity.
func (c *EKS) nodes(ctx *pulumi.Context, name string, args EKSArgs, cluster *eks.Cluster) (*nodePool, error) {
	role, err := newServiceRole(ctx, c, name+"-nodes", "ec2.amazonaws.com",
		[]string{WorkerPolicyARN, RegistryPolicyARN, CNIPolicyARN}, args.Tags)
	if err != nil {
		return nil, err
	}
	// Traffic between nodes and with the control plane flows through the cluster security group EKS makes.
	// This group is the nodes' identity towards the database, the file system and the load balancer, which
	// admit it; it admits nothing itself until they add rules.
	group, err := securitygroup.New(ctx, name+"-nodes", securitygroup.Args{
		Component: componentTag, VpcID: args.VpcID, Description: "GitLab HA cluster nodes",
		AllowAllEgress: true, Tags: args.Tags,
	}, c)
	if err != nil {
		return nil, err
	}
	template, err := ec2.NewLaunchTemplate(ctx, name+"-nodes", &ec2.LaunchTemplateArgs{
		Description: pulumi.String("GitLab HA nodes: IMDSv2 only, encrypted root volume"),
		// IMDSv2 only, and one hop: pods cannot reach the node role's credentials through the metadata service.
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"), HttpTokens: pulumi.String("required"), HttpPutResponseHopLimit: pulumi.Int(1),
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{&ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeSize: pulumi.Int(args.DiskSizeGiB), VolumeType: pulumi.String("gp3"),
				Encrypted: pulumi.String("true"), DeleteOnTermination: pulumi.String("true"),
			},
		}},
		// With security groups in the template EKS adds none of its own: name the cluster's too.
		VpcSecurityGroupIds: pulumi.StringArray{cluster.VpcConfig.ClusterSecurityGroupId().Elem(), group.ID()},
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{&ec2.LaunchTemplateTagSpecificationArgs{
			ResourceType: pulumi.String("instance"), Tags: awstags.For(componentTag, name+"-node", args.Tags),
		}},
		UpdateDefaultVersion: pulumi.Bool(true),
		Tags:                 awstags.For(componentTag, name+"-nodes", args.Tags),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}

	pool := &nodePool{securityGroup: group, groups: pulumi.StringMap{}, autoscalingGroups: pulumi.StringMap{}}
	for _, zone := range args.Zones {
		nodeGroup, err := eks.NewNodeGroup(ctx, name+"-"+zone, &eks.NodeGroupArgs{
			ClusterName:   cluster.Name,
			NodeRoleArn:   role.role.Arn,
			SubnetIds:     pulumi.StringArray{args.PrivateSubnetIDs[zone]},
			InstanceTypes: pulumi.ToStringArray(args.InstanceTypes),
			AmiType:       pulumi.String("AL2023_x86_64_STANDARD"),
			CapacityType:  pulumi.String("ON_DEMAND"),
			ScalingConfig: &eks.NodeGroupScalingConfigArgs{
				MinSize: pulumi.Int(args.Nodes.Min), DesiredSize: pulumi.Int(args.Nodes.Desired), MaxSize: pulumi.Int(args.Nodes.Max),
			},
			UpdateConfig: &eks.NodeGroupUpdateConfigArgs{MaxUnavailable: pulumi.Int(1)},
			LaunchTemplate: &eks.NodeGroupLaunchTemplateArgs{
				Id: template.ID(), Version: template.LatestVersion.ApplyT(strconv.Itoa).(pulumi.StringOutput),
			},
			Tags: awstags.For(componentTag, name+"-"+zone, args.Tags),
		}, pulumi.Parent(c), pulumi.DependsOn(role.attachments)) // nodes cannot join until their role may
		if err != nil {
			return nil, err
		}
		pool.groups[zone] = nodeGroup.NodeGroupName
		pool.nodeGroups = append(pool.nodeGroups, nodeGroup)
		pool.autoscalingGroups[zone] = nodeGroup.Resources.Index(pulumi.Int(0)).AutoscalingGroups().Index(pulumi.Int(0)).Name().Elem()
	}
	return pool, nil
}
