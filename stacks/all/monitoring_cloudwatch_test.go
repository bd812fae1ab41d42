package all_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
)

const metricAlarmType = "aws:cloudwatch/metricAlarm:MetricAlarm"

// withCloudWatch sets gitlab-ha:monitoring.cloudWatch.
func (s *stack) withCloudWatch(fields map[string]any) *stack {
	return s.set("monitoring", map[string]any{"cloudWatch": fields})
}

// alarmDimensions are the alarms on one metric, by logical name, with their dimensions.
func alarmDimensions(result *componenttest.Result, metric string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, a := range result.OfType(metricAlarmType) {
		if a.InputString("metricName") == metric {
			out[a.Name] = a.InputMap("dimensions")
		}
	}
	return out
}

func TestProdAlarmsOnEveryZoneOfEveryTargetGroupAndOnWhatItsComponentsMade(t *testing.T) {
	result, _ := deploy(t, "prod")
	balancer := result.OfType("aws:lb/loadBalancer:LoadBalancer")[0]
	groups := map[string]string{}
	for _, tg := range result.OfType("aws:lb/targetGroup:TargetGroup") {
		groups[strings.TrimPrefix(tg.Name, "gitlab-")] = tg.Outputs["arnSuffix"].StringValue()
	}
	require.Len(t, groups, 3, "http, https (prod ends TLS at the NLB) and ssh")
	healthy := alarmDimensions(result, "HealthyHostCount")
	require.Len(t, healthy, 9, "3 target groups × 3 zones")
	for listener, suffix := range groups {
		for _, zone := range []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"} {
			assert.Equal(t, map[string]string{
				"LoadBalancer": balancer.Outputs["arnSuffix"].StringValue(), "TargetGroup": suffix, "AvailabilityZone": zone,
			}, healthy["gitlab-nlbHealthyHosts-"+listener+"-"+zone])
		}
	}

	db := result.OfType("aws:rds/instance:Instance")[0]
	for _, metric := range []string{"FreeStorageSpace", "DatabaseConnections"} {
		assert.Equal(t, map[string]map[string]string{"gitlab-" + map[string]string{"FreeStorageSpace": "rdsFreeStorage", "DatabaseConnections": "rdsConnections"}[metric]: {
			"DBInstanceIdentifier": db.Outputs["identifier"].StringValue()}}, alarmDimensions(result, metric))
	}
	fs := result.OfType("aws:efs/fileSystem:FileSystem")[0]
	assert.Equal(t, map[string]map[string]string{"gitlab-efsIoLimit": {"FileSystemId": fs.ID}}, alarmDimensions(result, "PercentIOLimit"))

	group := result.OfType("aws:elasticache/replicationGroup:ReplicationGroup")[0]
	var members []string
	for _, m := range group.Outputs["memberClusters"].ArrayValue() {
		members = append(members, m.StringValue())
	}
	require.Len(t, members, 3)
	var watched []string
	for _, d := range alarmDimensions(result, "EngineCPUUtilization") {
		watched = append(watched, d["CacheClusterId"])
	}
	assert.ElementsMatch(t, members, watched, "one alarm per member cluster, by the IDs ElastiCache gave them")

	var asgs []string
	for _, ng := range result.OfType("aws:eks/nodeGroup:NodeGroup") {
		asgs = append(asgs, ng.Outputs["resources"].ArrayValue()[0].ObjectValue()["autoscalingGroups"].ArrayValue()[0].ObjectValue()["name"].StringValue())
	}
	var groupsWatched []string
	for _, a := range result.OfType(metricAlarmType) {
		if a.InputString("namespace") == "AWS/EC2" {
			groupsWatched = append(groupsWatched, a.InputMap("dimensions")["AutoScalingGroupName"])
		}
	}
	assert.ElementsMatch(t, asgs, groupsWatched)

	events := result.OfType("aws:rds/eventSubscription:EventSubscription")
	require.Len(t, events, 1)
	assert.Equal(t, []any{db.Outputs["identifier"].StringValue()}, events[0].MustInput(t, "sourceIds"))
	assert.Equal(t, []any{"failover", "failure", "maintenance", "notification"}, events[0].MustInput(t, "eventCategories"))
}

func TestDevHasNoManagedRedisSoNoCacheAlarms(t *testing.T) {
	result, _ := deploy(t, "dev")
	assert.Len(t, alarmDimensions(result, "HealthyHostCount"), 4, "2 target groups × 2 zones")
	assert.Empty(t, alarmDimensions(result, "EngineCPUUtilization"))
}

func TestCloudWatchOffBuildsNoAlarmAndNoTopic(t *testing.T) {
	result, _ := load(t, "prod").withCloudWatch(map[string]any{"enabled": false}).run(t)
	require.NoError(t, result.Err)
	assert.Empty(t, result.OfType(metricAlarmType))
	assert.Empty(t, result.OfType("aws:sns/topic:Topic"))
}

func TestGitalyClusterInstancesAreWatched(t *testing.T) {
	result, _ := load(t, "prod").withGit(map[string]any{"kind": "gitaly-cluster"}).run(t)
	require.NoError(t, result.Err)
	status := alarmDimensions(result, "StatusCheckFailed")
	assert.Len(t, status, 6, "a Gitaly and a Praefect in each of 3 zones")
	instances := map[string]bool{}
	for _, i := range result.OfType("aws:ec2/instance:Instance") {
		instances[i.ID] = true
	}
	for name, d := range status {
		assert.True(t, instances[d["InstanceId"]], name)
	}
	assert.Empty(t, alarmDimensions(result, "PercentIOLimit"), "no EFS with gitaly-cluster")
}

func TestSubscribersAndOverridesReachTheAlarms(t *testing.T) {
	result, _ := load(t, "prod").withCloudWatch(map[string]any{
		"subscribers": []map[string]string{{"protocol": "email", "endpoint": "oncall@example.com"}, {"protocol": "sms", "endpoint": "+447700900123"}},
		"thresholds":  map[string]any{"rdsCpu": map[string]any{"threshold": 70, "evaluationPeriods": 5}},
	}).run(t)
	require.NoError(t, result.Err)
	subs := result.OfType("aws:sns/topicSubscription:TopicSubscription")
	require.Len(t, subs, 2)
	cpu, ok := result.Find(metricAlarmType, "gitlab-rdsCpu")
	require.True(t, ok)
	assert.Equal(t, 70.0, cpu.Inputs["threshold"].NumberValue())
	assert.Equal(t, 5.0, cpu.Inputs["evaluationPeriods"].NumberValue())
	assert.Equal(t, 300.0, cpu.Inputs["period"].NumberValue())
}

func TestBadCloudWatchConfigIsRefusedNamingTheKey(t *testing.T) {
	cases := []struct {
		name string
		s    func() *stack
		want string
	}{
		{"an unknown protocol", func() *stack {
			return load(t, "prod").withCloudWatch(map[string]any{"subscribers": []map[string]string{{"protocol": "slack", "endpoint": "#ops"}}})
		}, `gitlab-ha:monitoring.cloudWatch.subscribers[0].protocol: "slack" is not email, email-json, https or sms`},
		{"a subscriber without an endpoint", func() *stack {
			return load(t, "prod").withCloudWatch(map[string]any{"subscribers": []map[string]string{{"protocol": "email"}}})
		}, `gitlab-ha:monitoring.cloudWatch.subscribers[0].endpoint: is required`},
		{"plain http", func() *stack {
			return load(t, "prod").withCloudWatch(map[string]any{"subscribers": []map[string]string{{"protocol": "https", "endpoint": "http://hooks.example.com"}}})
		}, `gitlab-ha:monitoring.cloudWatch.subscribers[0].endpoint: "http://hooks.example.com" is not an https:// URL`},
		{"a subscriber twice", func() *stack {
			one := map[string]string{"protocol": "email", "endpoint": "oncall@example.com"}
			return load(t, "prod").withCloudWatch(map[string]any{"subscribers": []map[string]string{one, one}})
		}, `gitlab-ha:monitoring.cloudWatch.subscribers[1]: "oncall@example.com" repeats monitoring.cloudWatch.subscribers[0]`},
		{"a threshold out of range", func() *stack {
			return load(t, "prod").withCloudWatch(map[string]any{"thresholds": map[string]any{"rdsCpu": map[string]any{"threshold": 120}}})
		}, `gitlab-ha:monitoring.cloudWatch.thresholds.rdsCpu.threshold: 120 is outside 1-100 (percent)`},
		{"a period CloudWatch refuses", func() *stack {
			return load(t, "prod").withCloudWatch(map[string]any{"thresholds": map[string]any{"nlbHealthyHosts": map[string]any{"period": 45}}})
		}, `gitlab-ha:monitoring.cloudWatch.thresholds.nlbHealthyHosts.period: 45 is not a multiple of 60 seconds`},
		{"an unknown alarm", func() *stack {
			return load(t, "prod").withCloudWatch(map[string]any{"thresholds": map[string]any{"diskSpace": map[string]any{"threshold": 1}}})
		}, `gitlab-ha:monitoring.cloudWatch.thresholds.diskSpace: "diskSpace" is not an alarm kind`},
		{"CloudWatch on Linode", func() *stack { return linodeStack(t).withCloudWatch(map[string]any{"enabled": true}) },
			`gitlab-ha:monitoring.cloudWatch.enabled: true is available on platform aws only`},
		{"CloudWatch on an existing cluster", func() *stack { return existingStack(t).withCloudWatch(map[string]any{"enabled": true}) },
			`gitlab-ha:monitoring.cloudWatch.enabled: true is available on platform aws only`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			result, _ := c.s().run(t)
			require.Error(t, result.Err)
			assert.Contains(t, result.Err.Error(), c.want)
			assert.Equal(t, 1, strings.Count(result.Err.Error(), "gitlab-ha:"), "one error: %s", result.Err)
			assert.Empty(t, result.Resources, "a bad configuration registers nothing")
		})
	}
}
