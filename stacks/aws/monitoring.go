package aws

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/cluster"
	"github.com/gitlab-ha/gitlab-ha/components/database"
	"github.com/gitlab-ha/gitlab-ha/components/filesystem"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer"
	"github.com/gitlab-ha/gitlab-ha/components/monitoring/cloudwatch"
	"github.com/gitlab-ha/gitlab-ha/components/redis"
	"github.com/gitlab-ha/gitlab-ha/stacks"
)

// alarmsName names the CloudWatch component, and so its topic's and alarms' resources: never change it.
const alarmsName = "gitlab"

// watched are the outputs the alarms watch, from the components that made them.
type watched struct {
	loadBalancerSuffix    pulumi.StringInput
	targetGroupSuffixes   map[string]pulumi.StringInput
	databaseID            pulumi.StringInput
	fileSystemID          pulumi.StringInput // nil without EFS
	cacheClusters         map[string]pulumi.StringInput
	nodeGroups, instances map[string]pulumi.StringInput
}

// listenerNames are the NLB's listeners.
func listenerNames(cfg *stacks.Config) []string {
	return loadbalancer.ListenerNames(loadBalancerArgs(cfg, standIns(cfg)))
}

// cacheNodes are the ElastiCache member clusters' numbers, one node per zone: 001, 002, ...
func cacheNodes(cfg *stacks.Config) []string {
	var nodes []string
	for i := range cfg.Zones {
		nodes = append(nodes, fmt.Sprintf("%03d", i+1))
	}
	return nodes
}

// watchedOf are the components' outputs the alarms watch; efs and cache are nil when the stack has none.
func watchedOf(cfg *stacks.Config, nlb *loadbalancer.NLB, db *database.RDS, efs *filesystem.EFS, cache *redis.ElastiCache,
	eks *cluster.EKS, instances map[string]pulumi.StringInput) watched {
	w := watched{loadBalancerSuffix: nlb.ARNSuffix, targetGroupSuffixes: map[string]pulumi.StringInput{}, databaseID: db.InstanceID,
		cacheClusters: map[string]pulumi.StringInput{}, nodeGroups: perZone(cfg.Zones, eks.AutoscalingGroups), instances: instances}
	for _, l := range listenerNames(cfg) {
		w.targetGroupSuffixes[l] = nlb.TargetGroupARNSuffixes.MapIndex(pulumi.String(l))
	}
	if efs != nil {
		w.fileSystemID = efs.FileSystemID
	}
	if cache != nil {
		for _, node := range cacheNodes(cfg) {
			w.cacheClusters[node] = cache.MemberClusterIDs.MapIndex(pulumi.String(node))
		}
	}
	return w
}

// standInWatched are literal stand-ins, for the pre-flight.
func standInWatched(cfg *stacks.Config) watched {
	w := watched{loadBalancerSuffix: pulumi.String("net/stand-in/0"), targetGroupSuffixes: map[string]pulumi.StringInput{},
		databaseID: pulumi.String("stand-in-db"), cacheClusters: map[string]pulumi.StringInput{}, nodeGroups: standIns(cfg).autoscalingGroups,
		instances: map[string]pulumi.StringInput{}}
	for _, l := range listenerNames(cfg) {
		w.targetGroupSuffixes[l] = pulumi.String("targetgroup/stand-in-" + l + "/0")
	}
	if cfg.NeedsNFS() {
		w.fileSystemID = pulumi.String("fs-stand-in")
	}
	if cfg.Redis.Mode == stacks.RedisManaged {
		for _, node := range cacheNodes(cfg) {
			w.cacheClusters[node] = pulumi.String("stand-in-" + node)
		}
	}
	if cfg.GitKind() == stacks.GitGitalyCluster {
		for _, zone := range cfg.Zones {
			w.instances["gitaly-"+zone], w.instances["praefect-"+zone] = pulumi.String("i-gitaly"), pulumi.String("i-praefect")
		}
	}
	return w
}

// alarmArgs watch the NLB per zone and target group, RDS, EFS when the stack has it, ElastiCache when Redis is
// managed, every zone's node group and the Gitaly Cluster's instances.
func alarmArgs(cfg *stacks.Config, w watched) *cloudwatch.CloudWatchAlarmsArgs {
	cw := cfg.Monitoring.CloudWatch
	args := &cloudwatch.CloudWatchAlarmsArgs{
		Zones: cfg.Zones, Subscribers: cw.AlarmSubscribers(), Thresholds: cw.AlarmThresholds(), Tags: cfg.Tags,
		LoadBalancer: &cloudwatch.LoadBalancer{ARNSuffix: w.loadBalancerSuffix, TargetGroupARNSuffixes: w.targetGroupSuffixes},
		Database:     &cloudwatch.Database{InstanceID: w.databaseID},
		NodeGroups:   w.nodeGroups, Instances: w.instances, Protect: cfg.Protect,
	}
	if w.fileSystemID != nil {
		args.FileSystem = &cloudwatch.FileSystem{ID: w.fileSystemID, BurstingThroughput: cfg.FileStorage.ThroughputMode == "bursting"}
	}
	if len(w.cacheClusters) > 0 {
		args.Cache = &cloudwatch.Cache{CacheClusterIDs: w.cacheClusters}
	}
	return args
}

// monitoringCheck is the pre-flight's check of the alarms' arguments.
func monitoringCheck(cfg *stacks.Config) stacks.Check {
	return stacks.Check{Component: "monitoring", Validate: func() error {
		return cloudwatch.ValidateCloudWatchAlarms(alarmArgs(cfg, standInWatched(cfg)))
	}, Key: stacks.Renames("monitoring.cloudWatch", map[string]string{"zones": "zones"})}
}

// buildMonitoring builds the CloudWatch alarms when monitoring.cloudWatch is on.
func buildMonitoring(ctx *pulumi.Context, cfg *stacks.Config, w watched, onAWS pulumi.ResourceOption) error {
	if !cfg.Monitoring.CloudWatch.On(stacks.PlatformAWS) {
		return nil
	}
	_, err := cloudwatch.NewCloudWatchAlarms(ctx, alarmsName, alarmArgs(cfg, w), onAWS)
	return err
}
