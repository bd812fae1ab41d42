package cloudwatch

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/monitoring/alarms"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Subscriber is one endpoint the topic delivers every alarm and recovery to (alarms.Subscriber).
type Subscriber = alarms.Subscriber

// Threshold overrides one alarm's defaults (alarms.Threshold).
type Threshold = alarms.Threshold

// Thresholds are overrides by alarm kind (alarms.Kinds).
type Thresholds = alarms.Thresholds

// LoadBalancer is the NLB whose target groups are watched zone by zone.
type LoadBalancer struct {
	// ARNSuffix is the load balancer's ARN suffix (net/<name>/<id>), the LoadBalancer dimension. Required.
	ARNSuffix pulumi.StringInput
	// TargetGroupARNSuffixes by listener name (http, https, ssh): each the TargetGroup dimension
	// (targetgroup/<name>/<id>). Required, at least one.
	TargetGroupARNSuffixes map[string]pulumi.StringInput
}

// Database is the RDS instance.
type Database struct {
	// InstanceID is the DB instance identifier, the DBInstanceIdentifier dimension. Required.
	InstanceID pulumi.StringInput
}

// FileSystem is the EFS file system.
type FileSystem struct {
	// ID is the file system's ID (fs-…), the FileSystemId dimension. Required.
	ID pulumi.StringInput
	// BurstingThroughput says the file system runs in bursting throughput mode, where burst credits limit its
	// throughput: only then is BurstCreditBalance watched. Default false (elastic, the EFS component's default).
	BurstingThroughput bool
}

// Cache is the ElastiCache replication group.
type Cache struct {
	// CacheClusterIDs are the replication group's member clusters, each one node, by a stable key (its
	// number, 001…): the CacheClusterId dimension. Required, at least one.
	CacheClusterIDs map[string]pulumi.StringInput
}

// CloudWatchAlarmsArgs configures the alarms and their topic. Each watched service is optional: nil (or
// empty) builds no alarm for it.
type CloudWatchAlarmsArgs struct {
	// Zones of the stack: the NLB's HealthyHostCount is watched in each. Required with LoadBalancer.
	Zones []string
	// Subscribers of the topic. Default none: the alarms still change state and show in the console.
	Subscribers []Subscriber
	// KMSKeyARN encrypts the topic with a key of yours, whose policy must let cloudwatch.amazonaws.com and
	// events.rds.amazonaws.com use it. Default: a key the component makes, with that policy (the AWS-managed
	// alias/aws/sns cannot be used: its policy cannot grant CloudWatch, whose notifications would be dropped).
	KMSKeyARN pulumi.StringInput
	// LoadBalancer watched per zone and target group. Default none.
	LoadBalancer *LoadBalancer
	// Database watched for CPU, free storage and connections, with an event subscription for failover,
	// maintenance, failure and notification events. Default none.
	Database *Database
	// FileSystem watched for its I/O limit and, in bursting mode, its burst credits. Default none.
	FileSystem *FileSystem
	// Cache watched per node for engine CPU, memory and evictions. Default none.
	Cache *Cache
	// NodeGroups are the EKS managed node groups' Auto Scaling group names by zone: each zone is watched for
	// having no node. Default none.
	NodeGroups map[string]pulumi.StringInput
	// Instances are EC2 instances by a stable key (gitaly-<zone>, praefect-<zone>), each watched for failed
	// status checks. Default none.
	Instances map[string]pulumi.StringInput
	// Thresholds override the alarms' defaults, by kind. Default none.
	Thresholds Thresholds
	// Protect guards the component's key against deletion (pulumi protect and retainOnDelete): a key scheduled
	// for deletion leaves the topic unable to deliver. Default false.
	Protect bool
	// Tags added to every resource. Default none.
	Tags map[string]string
}

func validateArgs(args CloudWatchAlarmsArgs) error {
	if err := alarms.ValidateSubscribers("", args.Subscribers); err != nil {
		return err
	}
	if err := alarms.ValidateThresholds(args.Thresholds, func(kind string) string { return fmt.Sprintf("thresholds[%q]", kind) }); err != nil {
		return err
	}
	if lb := args.LoadBalancer; lb != nil {
		if err := validate.ZoneNames(args.Zones); err != nil {
			return err
		}
		if len(args.Zones) == 0 {
			return validate.Missing("zones")
		}
		if err := validate.RequiredString("loadBalancer.arnSuffix", lb.ARNSuffix); err != nil {
			return err
		}
		if len(lb.TargetGroupARNSuffixes) == 0 {
			return validate.Missing("loadBalancer.targetGroupArnSuffixes")
		}
		for _, name := range sortedKeys(lb.TargetGroupARNSuffixes) {
			if err := validate.RequiredString(fmt.Sprintf("loadBalancer.targetGroupArnSuffixes[%q]", name), lb.TargetGroupARNSuffixes[name]); err != nil {
				return err
			}
		}
	}
	if args.Database != nil {
		if err := validate.RequiredString("database.instanceId", args.Database.InstanceID); err != nil {
			return err
		}
	}
	if args.FileSystem != nil {
		if err := validate.RequiredString("fileSystem.id", args.FileSystem.ID); err != nil {
			return err
		}
	}
	if args.Cache != nil {
		if len(args.Cache.CacheClusterIDs) == 0 {
			return validate.Missing("cache.cacheClusterIds")
		}
		for _, key := range sortedKeys(args.Cache.CacheClusterIDs) {
			if err := validate.RequiredString(fmt.Sprintf("cache.cacheClusterIds[%q]", key), args.Cache.CacheClusterIDs[key]); err != nil {
				return err
			}
		}
	}
	for _, zone := range sortedKeys(args.NodeGroups) {
		if err := validate.RequiredString(fmt.Sprintf("nodeGroups[%q]", zone), args.NodeGroups[zone]); err != nil {
			return err
		}
	}
	for _, key := range sortedKeys(args.Instances) {
		if err := validate.RequiredString(fmt.Sprintf("instances[%q]", key), args.Instances[key]); err != nil {
			return err
		}
	}
	return nil
}

// ValidateCloudWatchAlarms reports the first problem with args, as NewCloudWatchAlarms would, without
// registering anything.
func ValidateCloudWatchAlarms(args *CloudWatchAlarmsArgs) error {
	if args == nil {
		return validate.Missing("args")
	}
	return validateArgs(*args)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
