// Package redis builds a managed Redis for GitLab: on AWS an ElastiCache replication group with a node in
// every zone and automatic failover, encrypted at rest and in transit, behind an auth token. (The GitLab
// component's in-cluster Redis stays the default for development.)
package redis

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
	"github.com/gitlab-ha/gitlab-ha/internal/securitygroup"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// ElastiCacheTypeToken is the component's Pulumi type.
const ElastiCacheTypeToken = "gitlab-ha:redis:ElastiCache"

const componentTag = "redis"

// RedisPort is where Redis listens.
const RedisPort = 6379

// ElastiCacheArgs configures a replicated Redis.
type ElastiCacheArgs struct {
	// VpcID of the network. Required.
	VpcID pulumi.StringInput
	// Zones, at least two: one node in each, the first zone's the primary. Required.
	Zones []string
	// SubnetIDs by zone name: the private subnets. Required for every zone.
	SubnetIDs map[string]pulumi.StringInput
	// ClientSecurityGroupID is the group allowed to connect (the cluster's nodes). Required.
	ClientSecurityGroupID pulumi.StringInput
	// NodeType. Default "cache.m6g.large".
	NodeType string
	// EngineVersion of Redis OSS. Default "7.1", the newest ElastiCache offers for Redis OSS.
	EngineVersion string
	// SnapshotRetentionDays keeps daily snapshots this long, 0 to 35. Default 7.
	SnapshotRetentionDays *int
	// MaintenanceWindow in UTC. Default "sun:05:30-sun:06:30".
	MaintenanceWindow string
	// Tags added to every resource. Default none.
	Tags map[string]string
}

// ElastiCache is the component.
type ElastiCache struct {
	pulumi.ResourceState

	// PrimaryEndpoint is where GitLab writes; Port is RedisPort.
	PrimaryEndpoint pulumi.StringOutput
	Port            pulumi.IntOutput
	// AuthToken is the password GitLab authenticates with. Secret.
	AuthToken pulumi.StringOutput
	// SecurityGroupID is the replication group's group.
	SecurityGroupID pulumi.StringOutput
	// MemberClusterIDs are the group's nodes, each a cache cluster of one node (CloudWatch's CacheClusterId),
	// by the number ElastiCache ends its ID with: "001" to the zones' count.
	MemberClusterIDs pulumi.StringMapOutput
}

func withDefaults(args ElastiCacheArgs) ElastiCacheArgs {
	if args.NodeType == "" {
		args.NodeType = "cache.m6g.large"
	}
	if args.EngineVersion == "" {
		args.EngineVersion = "7.1"
	}
	if args.SnapshotRetentionDays == nil {
		args.SnapshotRetentionDays = pulumi.IntRef(7)
	}
	if args.MaintenanceWindow == "" {
		args.MaintenanceWindow = "sun:05:30-sun:06:30"
	}
	return args
}

func validateArgs(args ElastiCacheArgs) error {
	if err := validate.RequiredString("vpcId", args.VpcID); err != nil {
		return err
	}
	if err := validate.RequiredString("clientSecurityGroupId", args.ClientSecurityGroupID); err != nil {
		return err
	}
	// Automatic failover needs a replica, in another zone.
	if err := validate.ZoneSubnets(args.Zones, 2, "subnetIds", args.SubnetIDs); err != nil {
		return err
	}
	if len(args.Zones) > 6 {
		return validate.Errorf("zones", len(args.Zones), "zones given; a replication group holds at most 6 nodes")
	}
	if len(args.NodeType) < 7 || args.NodeType[:6] != "cache." {
		return validate.Errorf("nodeType", args.NodeType, "is not an ElastiCache node type such as cache.m6g.large")
	}
	if days := *args.SnapshotRetentionDays; days < 0 || days > 35 {
		return validate.Errorf("snapshotRetentionDays", days, "is outside 0-35")
	}
	return nil
}

// ValidateElastiCache reports the first problem with args, as NewElastiCache would, without registering
// anything.
func ValidateElastiCache(args *ElastiCacheArgs) error {
	return validateArgs(withDefaults(*args))
}

// NewElastiCache validates args, then builds the subnet group, security group, auth token and replication
// group.
func NewElastiCache(ctx *pulumi.Context, name string, args *ElastiCacheArgs, opts ...pulumi.ResourceOption) (*ElastiCache, error) {
	if args == nil {
		return nil, fmt.Errorf("redis %q: args are required", name)
	}
	defaulted := withDefaults(*args)
	if err := validateArgs(defaulted); err != nil {
		return nil, fmt.Errorf("redis %q: %w", name, err)
	}
	r := &ElastiCache{}
	if err := ctx.RegisterComponentResource(ElastiCacheTypeToken, name, r, opts...); err != nil {
		return nil, err
	}
	if err := r.build(ctx, name, defaulted); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{
		"primaryEndpoint": r.PrimaryEndpoint, "port": r.Port, "authToken": r.AuthToken, "securityGroupId": r.SecurityGroupID,
		"memberClusterIds": r.MemberClusterIDs,
	}); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *ElastiCache) build(ctx *pulumi.Context, name string, args ElastiCacheArgs) error {
	subnets, zones := pulumi.StringArray{}, pulumi.StringArray{}
	for _, zone := range args.Zones {
		subnets = append(subnets, args.SubnetIDs[zone])
		zones = append(zones, pulumi.String(zone))
	}
	subnetGroup, err := elasticache.NewSubnetGroup(ctx, name, &elasticache.SubnetGroupArgs{
		Description: pulumi.String("GitLab HA Redis: private subnets of every zone"),
		SubnetIds:   subnets,
		Tags:        awstags.For(componentTag, name, args.Tags),
	}, pulumi.Parent(r))
	if err != nil {
		return err
	}
	group, err := securitygroup.New(ctx, name, securitygroup.Args{
		Component: componentTag, VpcID: args.VpcID, Description: "GitLab HA Redis",
		Ingress: []securitygroup.Rule{{
			Key: "redis-from-nodes", Description: "Redis from the cluster's nodes", FromPort: RedisPort, FromGroup: args.ClientSecurityGroupID,
		}},
		Tags: args.Tags,
	}, r)
	if err != nil {
		return err
	}
	// ElastiCache accepts 16-128 printable characters but not @, " or /; letters and digits avoid all doubt.
	token, err := random.NewRandomPassword(ctx, name+"-auth-token", &random.RandomPasswordArgs{
		Length: pulumi.Int(64), Special: pulumi.Bool(false),
	}, pulumi.Parent(r))
	if err != nil {
		return err
	}
	replicationGroup, err := elasticache.NewReplicationGroup(ctx, name, &elasticache.ReplicationGroupArgs{
		Description:              pulumi.String("GitLab HA Redis"),
		Engine:                   pulumi.String("redis"),
		EngineVersion:            pulumi.String(args.EngineVersion),
		NodeType:                 pulumi.String(args.NodeType),
		NumCacheClusters:         pulumi.Int(len(args.Zones)),
		PreferredCacheClusterAzs: zones, // one node per zone, the first the primary
		AutomaticFailoverEnabled: pulumi.Bool(true),
		MultiAzEnabled:           pulumi.Bool(true),
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		TransitEncryptionEnabled: pulumi.Bool(true),
		AuthToken:                token.Result,
		Port:                     pulumi.Int(RedisPort),
		SubnetGroupName:          subnetGroup.Name,
		SecurityGroupIds:         pulumi.StringArray{group.ID()},
		SnapshotRetentionLimit:   pulumi.Int(*args.SnapshotRetentionDays),
		MaintenanceWindow:        pulumi.String(args.MaintenanceWindow),
		AutoMinorVersionUpgrade:  pulumi.Bool(true),
		Tags:                     awstags.For(componentTag, name, args.Tags),
	}, pulumi.Parent(r))
	if err != nil {
		return err
	}
	r.PrimaryEndpoint = replicationGroup.PrimaryEndpointAddress
	r.Port = replicationGroup.Port.Elem()
	r.AuthToken = pulumi.ToSecret(token.Result).(pulumi.StringOutput)
	r.SecurityGroupID = group.ID().ToStringOutput()
	r.MemberClusterIDs = replicationGroup.MemberClusters.ApplyT(memberClustersByNumber).(pulumi.StringMapOutput)
	return nil
}

// memberClustersByNumber keys member cluster IDs (<group>-001, ...) by their number.
func memberClustersByNumber(members []string) map[string]string {
	out := map[string]string{}
	for _, id := range members {
		out[id[strings.LastIndex(id, "-")+1:]] = id
	}
	return out
}
