package cloudwatch_test

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/monitoring/alarms"
	"github.com/gitlab-ha/gitlab-ha/components/monitoring/cloudwatch"
	"github.com/gitlab-ha/gitlab-ha/internal/awstest"
)

const (
	alarmType        = "aws:cloudwatch/metricAlarm:MetricAlarm"
	subscriptionType = "aws:sns/topicSubscription:TopicSubscription"
	topicType        = "aws:sns/topic:Topic"
)

var zones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}

func everything() *cloudwatch.CloudWatchAlarmsArgs {
	return &cloudwatch.CloudWatchAlarmsArgs{
		Zones: zones,
		Subscribers: []cloudwatch.Subscriber{
			{Protocol: "email", Endpoint: "oncall@example.com"}, {Protocol: "https", Endpoint: "https://pager.example.com/hook"},
		},
		LoadBalancer: &cloudwatch.LoadBalancer{ARNSuffix: pulumi.String("net/gitlab/0123456789abcdef"), TargetGroupARNSuffixes: map[string]pulumi.StringInput{
			"http": pulumi.String("targetgroup/gitlab-http/aaaa"), "ssh": pulumi.String("targetgroup/gitlab-ssh/bbbb"),
		}},
		Database:   &cloudwatch.Database{InstanceID: pulumi.String("gitlab-db-1234567")},
		FileSystem: &cloudwatch.FileSystem{ID: pulumi.String("fs-0123456789abcdef0")},
		Cache: &cloudwatch.Cache{CacheClusterIDs: map[string]pulumi.StringInput{
			"001": pulumi.String("gitlab-redis-001"), "002": pulumi.String("gitlab-redis-002"),
		}},
		NodeGroups: map[string]pulumi.StringInput{"eu-west-1a": pulumi.String("eks-a"), "eu-west-1b": pulumi.String("eks-b")},
		Instances:  map[string]pulumi.StringInput{"gitaly-eu-west-1a": pulumi.String("i-0aaa")},
	}
}

func build(t *testing.T, args *cloudwatch.CloudWatchAlarmsArgs) (*componenttest.Result, *cloudwatch.CloudWatchAlarms) {
	t.Helper()
	var alarms *cloudwatch.CloudWatchAlarms
	result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		alarms, err = cloudwatch.NewCloudWatchAlarms(ctx, "gitlab", args, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	return result, alarms
}

// alarmsOf are the alarms on one metric, by their logical name.
func alarmsOf(result *componenttest.Result, metric string) map[string]componenttest.Resource {
	out := map[string]componenttest.Resource{}
	for _, a := range result.OfType(alarmType) {
		if a.InputString("metricName") == metric {
			out[a.Name] = a
		}
	}
	return out
}

func TestOneHealthyHostAlarmPerZonePerTargetGroup(t *testing.T) {
	result, _ := build(t, everything())
	alarms := alarmsOf(result, "HealthyHostCount")
	require.Len(t, alarms, 6, "2 target groups × 3 zones")
	for _, listener := range []string{"http", "ssh"} {
		for _, zone := range zones {
			a, ok := alarms["gitlab-nlbHealthyHosts-"+listener+"-"+zone]
			require.True(t, ok, "%s in %s", listener, zone)
			assert.Equal(t, "AWS/NetworkELB", a.InputString("namespace"))
			assert.Equal(t, map[string]string{
				"LoadBalancer": "net/gitlab/0123456789abcdef", "TargetGroup": "targetgroup/gitlab-" + listener + "/" + map[string]string{"http": "aaaa", "ssh": "bbbb"}[listener],
				"AvailabilityZone": zone,
			}, a.InputMap("dimensions"))
			assert.Equal(t, "LessThanThreshold", a.InputString("comparisonOperator"))
			assert.Equal(t, "breaching", a.InputString("treatMissingData"))
		}
	}
}

func TestEveryAlarmSendsAlarmAndOKToTheTopic(t *testing.T) {
	result, alarms := build(t, everything())
	topics := result.OfType(topicType)
	require.Len(t, topics, 1)
	assert.Equal(t, topics[0].ID, awstest.Value(t, alarms.TopicARN))
	for _, a := range result.OfType(alarmType) {
		assert.Equal(t, []any{topics[0].ID}, a.MustInput(t, "alarmActions"), a.Name)
		assert.Equal(t, []any{topics[0].ID}, a.MustInput(t, "okActions"), a.Name)
	}
	names := awstest.Value(t, alarms.AlarmNames).(map[string]string)
	assert.Len(t, names, len(result.OfType(alarmType)))
	assert.Contains(t, names, "rdsCpu")
	awstest.CheckComponent(t, result, result.Components()[0].URN)
}

func TestTopicIsEncryptedWithAKeyCloudWatchAndRDSMayUse(t *testing.T) {
	result, _ := build(t, everything())
	key := result.OfType("aws:kms/key:Key")
	require.Len(t, key, 1)
	topic := result.OfType(topicType)[0]
	assert.Equal(t, key[0].Outputs["arn"].StringValue(), topic.InputString("kmsMasterKeyId"))
	var keyPolicy map[string]any
	require.NoError(t, json.Unmarshal([]byte(key[0].InputString("policy")), &keyPolicy))
	assert.Contains(t, key[0].InputString("policy"), "cloudwatch.amazonaws.com")
	assert.Contains(t, key[0].InputString("policy"), "events.rds.amazonaws.com")

	policy := result.OfType("aws:sns/topicPolicy:TopicPolicy")[0].InputString("policy")
	var doc struct {
		Statement []struct {
			Principal map[string]any
			Action    []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(policy), &doc))
	for _, s := range doc.Statement {
		assert.NotEqual(t, "*", s.Principal["AWS"], "nothing public: %v", s)
	}
	assert.Contains(t, policy, `"aws:SourceAccount":"`+componenttest.AccountID+`"`)
}

func TestAKeyOfTheCallersReplacesTheComponentsKey(t *testing.T) {
	args := everything()
	args.KMSKeyARN = pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/mine")
	result, _ := build(t, args)
	assert.Empty(t, result.OfType("aws:kms/key:Key"))
	assert.Equal(t, "arn:aws:kms:eu-west-1:123456789012:key/mine", result.OfType(topicType)[0].InputString("kmsMasterKeyId"))
}

func TestDatabaseFileSystemAndCacheAlarmsWatchTheirResources(t *testing.T) {
	result, _ := build(t, everything())
	for metric, namespace := range map[string]string{"CPUUtilization": "AWS/RDS", "FreeStorageSpace": "AWS/RDS", "DatabaseConnections": "AWS/RDS"} {
		alarms := alarmsOf(result, metric)
		var found bool
		for _, a := range alarms {
			if a.InputString("namespace") == namespace {
				found = true
				assert.Equal(t, map[string]string{"DBInstanceIdentifier": "gitlab-db-1234567"}, a.InputMap("dimensions"), metric)
			}
		}
		assert.True(t, found, metric)
	}
	io := alarmsOf(result, "PercentIOLimit")
	require.Len(t, io, 1)
	for _, a := range io {
		assert.Equal(t, map[string]string{"FileSystemId": "fs-0123456789abcdef0"}, a.InputMap("dimensions"))
	}
	assert.Empty(t, alarmsOf(result, "BurstCreditBalance"), "elastic throughput has no burst credits to run out of")
	for _, metric := range []string{"EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions"} {
		alarms := alarmsOf(result, metric)
		require.Len(t, alarms, 2, metric)
		for _, node := range []string{"001", "002"} {
			a := alarms["gitlab-"+map[string]string{"EngineCPUUtilization": "cacheEngineCpu", "DatabaseMemoryUsagePercentage": "cacheMemory", "Evictions": "cacheEvictions"}[metric]+"-"+node]
			assert.Equal(t, map[string]string{"CacheClusterId": "gitlab-redis-" + node, "CacheNodeId": "0001"}, a.InputMap("dimensions"), metric)
			assert.Equal(t, "AWS/ElastiCache", a.InputString("namespace"))
		}
	}
	nodes := alarmsOf(result, "StatusCheckFailed")
	require.Len(t, nodes, 1)
	assert.Equal(t, map[string]string{"InstanceId": "i-0aaa"}, nodes["gitlab-instanceStatus-gitaly-eu-west-1a"].InputMap("dimensions"))
	groups := result.OfType(alarmType)
	var empty int
	for _, a := range groups {
		if a.InputString("namespace") == "AWS/EC2" && a.InputString("metricName") == "CPUUtilization" {
			empty++
			assert.Equal(t, "SampleCount", a.InputString("statistic"))
			assert.Contains(t, []string{"eks-a", "eks-b"}, a.InputMap("dimensions")["AutoScalingGroupName"])
		}
	}
	assert.Equal(t, 2, empty)
}

func TestBurstCreditsAreWatchedInBurstingMode(t *testing.T) {
	args := everything()
	args.FileSystem.BurstingThroughput = true
	result, _ := build(t, args)
	credits := alarmsOf(result, "BurstCreditBalance")
	require.Len(t, credits, 1)
	for _, a := range credits {
		assert.Equal(t, float64(100<<30), a.Inputs["threshold"].NumberValue(), "100 GiB, in bytes")
	}
}

func TestRDSEventSubscriptionSendsInstanceEventsToTheTopic(t *testing.T) {
	result, alarms := build(t, everything())
	subs := result.OfType("aws:rds/eventSubscription:EventSubscription")
	require.Len(t, subs, 1)
	assert.Equal(t, awstest.Value(t, alarms.TopicARN), subs[0].InputString("snsTopic"))
	assert.Equal(t, "db-instance", subs[0].InputString("sourceType"))
	assert.Equal(t, []any{"gitlab-db-1234567"}, subs[0].MustInput(t, "sourceIds"))
	assert.Equal(t, []any{"failover", "failure", "maintenance", "notification"}, subs[0].MustInput(t, "eventCategories"))
}

func TestOneSubscriptionPerSubscriberNamedByItsEndpointNotItsPlace(t *testing.T) {
	result, _ := build(t, everything())
	subs := result.OfType(subscriptionType)
	require.Len(t, subs, 2)
	names := map[string]string{}
	for _, s := range subs {
		names[s.Name] = s.InputString("endpoint")
		assert.Equal(t, result.OfType(topicType)[0].ID, s.InputString("topic"))
		assert.NotContains(t, s.Name, "example.com", "no address in a resource name")
	}
	reordered := everything()
	reordered.Subscribers[0], reordered.Subscribers[1] = reordered.Subscribers[1], reordered.Subscribers[0]
	again, _ := build(t, reordered)
	for _, s := range again.OfType(subscriptionType) {
		assert.Equal(t, names[s.Name], s.InputString("endpoint"), "reordering renames nothing")
	}
}

func TestDefaultsAndOverrides(t *testing.T) {
	result, _ := build(t, everything())
	cpu := result.OfType(alarmType)
	var rds componenttest.Resource
	for _, a := range cpu {
		if a.Name == "gitlab-rdsCpu" {
			rds = a
		}
	}
	assert.Equal(t, 80.0, rds.Inputs["threshold"].NumberValue())
	assert.Equal(t, 300.0, rds.Inputs["period"].NumberValue())
	assert.Equal(t, 3.0, rds.Inputs["evaluationPeriods"].NumberValue())
	assert.Equal(t, "notBreaching", rds.InputString("treatMissingData"))

	args := everything()
	args.Thresholds = cloudwatch.Thresholds{alarms.KindRDSCPU: {Threshold: pulumi.Float64Ref(65), Period: pulumi.IntRef(60), EvaluationPeriods: pulumi.IntRef(10)},
		alarms.KindRDSFreeStorage: {Threshold: pulumi.Float64Ref(25)}}
	result, _ = build(t, args)
	for _, a := range result.OfType(alarmType) {
		switch a.Name {
		case "gitlab-rdsCpu":
			assert.Equal(t, 65.0, a.Inputs["threshold"].NumberValue())
			assert.Equal(t, 60.0, a.Inputs["period"].NumberValue())
			assert.Equal(t, 10.0, a.Inputs["evaluationPeriods"].NumberValue())
		case "gitlab-rdsFreeStorage":
			assert.Equal(t, float64(25<<30), a.Inputs["threshold"].NumberValue(), "GiB, in bytes")
			assert.Equal(t, 300.0, a.Inputs["period"].NumberValue(), "the default period stays")
		}
	}
}

func TestNothingWatchedBuildsOnlyTheTopic(t *testing.T) {
	result, _ := build(t, &cloudwatch.CloudWatchAlarmsArgs{})
	assert.Empty(t, result.OfType(alarmType))
	assert.Len(t, result.OfType(topicType), 1)
}

func TestBadArgsRegisterNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*cloudwatch.CloudWatchAlarmsArgs)
		want   string
	}{
		"unknown protocol": {func(a *cloudwatch.CloudWatchAlarmsArgs) { a.Subscribers[0].Protocol = "http" }, `subscribers[0].protocol: "http" is not email`},
		"no endpoint":      {func(a *cloudwatch.CloudWatchAlarmsArgs) { a.Subscribers[1].Endpoint = "" }, "subscribers[1].endpoint: is required"},
		"plain http URL":   {func(a *cloudwatch.CloudWatchAlarmsArgs) { a.Subscribers[1].Endpoint = "http://pager.example.com" }, "is not an https:// URL"},
		"bad phone": {func(a *cloudwatch.CloudWatchAlarmsArgs) {
			a.Subscribers[0] = cloudwatch.Subscriber{Protocol: "sms", Endpoint: "0770"}
		}, "E.164"},
		"repeated": {func(a *cloudwatch.CloudWatchAlarmsArgs) { a.Subscribers[1] = a.Subscribers[0] }, "repeats subscribers[0]"},
		"threshold too big": {func(a *cloudwatch.CloudWatchAlarmsArgs) {
			a.Thresholds = cloudwatch.Thresholds{"rdsCpu": {Threshold: pulumi.Float64Ref(150)}}
		}, `thresholds["rdsCpu"].threshold: 150 is outside 1-100`},
		"odd period": {func(a *cloudwatch.CloudWatchAlarmsArgs) {
			a.Thresholds = cloudwatch.Thresholds{"efsIoLimit": {Period: pulumi.IntRef(90)}}
		}, "period: 90 is not a multiple of 60"},
		"unknown kind": {func(a *cloudwatch.CloudWatchAlarmsArgs) { a.Thresholds = cloudwatch.Thresholds{"cpu": {}} }, `thresholds["cpu"]: "cpu" is not an alarm kind`},
		"no lb suffix": {func(a *cloudwatch.CloudWatchAlarmsArgs) { a.LoadBalancer.ARNSuffix = nil }, "loadBalancer.arnSuffix: is required"},
		"no db id":     {func(a *cloudwatch.CloudWatchAlarmsArgs) { a.Database.InstanceID = pulumi.String("") }, "database.instanceId: is required"},
	} {
		t.Run(name, func(t *testing.T) {
			args := everything()
			tc.change(args)
			assert.ErrorContains(t, cloudwatch.ValidateCloudWatchAlarms(args), tc.want)
			result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
				_, err := cloudwatch.NewCloudWatchAlarms(ctx, "gitlab", args, pulumi.Provider(provider))
				return err
			})
			require.ErrorContains(t, result.Err, tc.want)
			assert.Len(t, result.Resources, 1, "only the test's provider")
		})
	}
}
