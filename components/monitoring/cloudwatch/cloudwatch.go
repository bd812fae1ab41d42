// Package cloudwatch watches what lives outside the cluster with the cloud's own monitoring: CloudWatch alarms
// on the NLB's healthy hosts in every zone and target group, the RDS instance, the EFS file system, the
// ElastiCache nodes, the EKS node groups and the Gitaly Cluster's instances, all sending to one encrypted SNS
// topic whose subscribers are the stack's config; and an RDS event subscription to the same topic.
package cloudwatch

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	awscloudwatch "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/monitoring/alarms"
	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "gitlab-ha:monitoring:CloudWatchAlarms"

const componentTag = "monitoring"

// RDSEventCategories are the db-instance categories the event subscription sends (RDS User Guide, "Amazon
// RDS event categories and event messages", DB instance events).
var RDSEventCategories = []string{"failover", "failure", "maintenance", "notification"}

// CloudWatchAlarms is the component.
type CloudWatchAlarms struct {
	pulumi.ResourceState

	// TopicARN is the SNS topic every alarm and RDS event is sent to.
	TopicARN pulumi.StringOutput
	// AlarmNames maps each alarm's key (<kind>-<key>, e.g. nlbHealthyHosts-http-eu-west-1a) to its name.
	AlarmNames pulumi.StringMapOutput
}

// alarmPrincipals may publish to the topic and use its key: CloudWatch alarms and RDS events.
var alarmPrincipals = []string{"cloudwatch.amazonaws.com", "events.rds.amazonaws.com"}

// NewCloudWatchAlarms validates args, then builds the topic, its key and policy, the subscriptions, the
// alarms and the RDS event subscription. Bad args return one error naming the field, and nothing is
// registered.
func NewCloudWatchAlarms(ctx *pulumi.Context, name string, args *CloudWatchAlarmsArgs, opts ...pulumi.ResourceOption) (*CloudWatchAlarms, error) {
	if args == nil {
		return nil, fmt.Errorf("cloudwatch %q: args are required", name)
	}
	if err := validateArgs(*args); err != nil {
		return nil, fmt.Errorf("cloudwatch %q: %w", name, err)
	}
	c := &CloudWatchAlarms{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, err
	}
	if err := c.build(ctx, name, *args); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"topicArn": c.TopicARN, "alarmNames": c.AlarmNames}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CloudWatchAlarms) build(ctx *pulumi.Context, name string, args CloudWatchAlarmsArgs) error {
	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, pulumi.Parent(c)).AccountId()
	keyARN := args.KMSKeyARN
	if keyARN == nil {
		key, err := kms.NewKey(ctx, name+"-alarms", &kms.KeyArgs{
			Description:       pulumi.String("GitLab HA alarms topic: CloudWatch and RDS events publish with it"),
			EnableKeyRotation: pulumi.Bool(true),
			Policy:            account.ApplyT(keyPolicy).(pulumi.StringOutput),
			Tags:              awstags.For(componentTag, name+"-alarms", args.Tags),
		}, pulumi.Parent(c), pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect))
		if err != nil {
			return err
		}
		keyARN = key.Arn
	}
	topic, err := sns.NewTopic(ctx, name+"-alarms", &sns.TopicArgs{
		KmsMasterKeyId: keyARN,
		Tags:           awstags.For(componentTag, name+"-alarms", args.Tags),
	}, pulumi.Parent(c))
	if err != nil {
		return err
	}
	if _, err := sns.NewTopicPolicy(ctx, name+"-alarms", &sns.TopicPolicyArgs{
		Arn:    topic.Arn,
		Policy: pulumi.All(topic.Arn, account).ApplyT(func(v []any) (string, error) { return topicPolicy(v[0].(string), v[1].(string)) }).(pulumi.StringOutput),
	}, pulumi.Parent(c)); err != nil {
		return err
	}
	for _, s := range args.Subscribers {
		if _, err := sns.NewTopicSubscription(ctx, name+"-"+alarms.SubscriberKey(s), &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String(s.Protocol), Endpoint: pulumi.String(s.Endpoint),
		}, pulumi.Parent(c)); err != nil {
			return err
		}
	}

	a := alarmBuilder{ctx: ctx, parent: c, name: name, topic: topic.Arn, overrides: args.Thresholds, tags: args.Tags, names: pulumi.StringMap{}}
	if lb := args.LoadBalancer; lb != nil {
		for _, listener := range sortedKeys(lb.TargetGroupARNSuffixes) {
			for _, zone := range args.Zones {
				a.add(alarms.KindNLBHealthyHosts, listener+"-"+zone, fmt.Sprintf("listener %s, zone %s", listener, zone), pulumi.StringMap{
					"LoadBalancer": lb.ARNSuffix, "TargetGroup": lb.TargetGroupARNSuffixes[listener], "AvailabilityZone": pulumi.String(zone),
				})
			}
		}
	}
	if db := args.Database; db != nil {
		for _, kind := range []string{alarms.KindRDSCPU, alarms.KindRDSFreeStorage, alarms.KindRDSConnections} {
			a.add(kind, "", "the RDS instance", pulumi.StringMap{"DBInstanceIdentifier": db.InstanceID})
		}
		if _, err := rds.NewEventSubscription(ctx, name+"-rds-events", &rds.EventSubscriptionArgs{
			SnsTopic: topic.Arn, SourceType: pulumi.String("db-instance"), SourceIds: pulumi.StringArray{db.InstanceID},
			EventCategories: pulumi.ToStringArray(RDSEventCategories),
			Tags:            awstags.For(componentTag, name+"-rds-events", args.Tags),
		}, pulumi.Parent(c)); err != nil {
			return err
		}
	}
	if fs := args.FileSystem; fs != nil {
		a.add(alarms.KindEFSIOLimit, "", "the EFS file system", pulumi.StringMap{"FileSystemId": fs.ID})
		if fs.BurstingThroughput {
			a.add(alarms.KindEFSBurstCredits, "", "the EFS file system", pulumi.StringMap{"FileSystemId": fs.ID})
		}
	}
	if cache := args.Cache; cache != nil {
		for _, node := range sortedKeys(cache.CacheClusterIDs) {
			for _, kind := range []string{alarms.KindCacheEngineCPU, alarms.KindCacheMemory, alarms.KindCacheEvictions} {
				// A member of a replication group without cluster mode is a cache cluster of one node, 0001.
				a.add(kind, node, "Redis node "+node, pulumi.StringMap{"CacheClusterId": cache.CacheClusterIDs[node], "CacheNodeId": pulumi.String("0001")})
			}
		}
	}
	for _, zone := range sortedKeys(args.NodeGroups) {
		a.add(alarms.KindNodeGroupEmpty, zone, "node group of zone "+zone, pulumi.StringMap{"AutoScalingGroupName": args.NodeGroups[zone]})
	}
	for _, key := range sortedKeys(args.Instances) {
		a.add(alarms.KindInstanceStatus, key, "instance "+key, pulumi.StringMap{"InstanceId": args.Instances[key]})
	}
	if a.err != nil {
		return a.err
	}
	c.TopicARN = topic.Arn
	c.AlarmNames = a.names.ToStringMapOutput()
	return nil
}

// alarmBuilder makes alarms that all send to the topic, and remembers the first error.
type alarmBuilder struct {
	ctx       *pulumi.Context
	parent    pulumi.Resource
	name      string
	topic     pulumi.StringOutput
	overrides alarms.Thresholds
	tags      map[string]string
	names     pulumi.StringMap
	err       error
}

func (a *alarmBuilder) add(kind, key, what string, dimensions pulumi.StringMap) {
	if a.err != nil {
		return
	}
	s, _ := alarms.SpecOf(kind)
	threshold, period, evaluations := alarms.Effective(kind, a.overrides)
	id := kind
	if key != "" {
		id += "-" + key
	}
	resourceName := a.name + "-" + id
	alarm, err := awscloudwatch.NewMetricAlarm(a.ctx, resourceName, &awscloudwatch.MetricAlarmArgs{
		AlarmDescription: pulumi.Sprintf("%s (%s): %s %s %g %s over %d × %d s. Why: %s.", what, kind, s.MetricName, s.Comparison, threshold, s.Unit,
			evaluations, period, s.Why),
		Namespace:          pulumi.String(s.Namespace),
		MetricName:         pulumi.String(s.MetricName),
		Dimensions:         dimensions,
		Statistic:          pulumi.String(s.Statistic),
		ComparisonOperator: pulumi.String(s.Comparison),
		Threshold:          pulumi.Float64(threshold * s.Scale),
		Period:             pulumi.Int(period),
		EvaluationPeriods:  pulumi.Int(evaluations),
		TreatMissingData:   pulumi.String(s.TreatMissingData),
		AlarmActions:       pulumi.Array{a.topic},
		OkActions:          pulumi.Array{a.topic},
		Tags:               awstags.For(componentTag, resourceName, a.tags),
	}, pulumi.Parent(a.parent))
	if err != nil {
		a.err = err
		return
	}
	a.names[id] = alarm.Name
}

// statement is one IAM policy statement.
type statement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal"`
	Action    []string       `json:"Action"`
	Resource  string         `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

func policy(statements ...statement) (string, error) {
	out, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(out), err
}

// keyPolicy lets the account administer the key, and CloudWatch and RDS events encrypt with it on the
// account's behalf only (SNS developer guide, "Enable compatibility between event sources from AWS services
// and encrypted topics").
func keyPolicy(account string) (string, error) {
	return policy(
		statement{Sid: "AccountAdministers", Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
			Action: []string{"kms:*"}, Resource: "*"},
		statement{Sid: "AlarmSourcesEncrypt", Effect: "Allow", Principal: map[string]any{"Service": alarmPrincipals},
			Action: []string{"kms:Decrypt", "kms:GenerateDataKey*"}, Resource: "*",
			Condition: map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}}},
	)
}

// topicPolicy lets the account's own alarms and RDS events publish, the account manage the topic, and
// nobody else anything.
func topicPolicy(topicARN, account string) (string, error) {
	return policy(
		statement{Sid: "AccountManages", Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
			Action: []string{"sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
				"sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish"}, Resource: topicARN},
		statement{Sid: "AlarmSourcesPublish", Effect: "Allow", Principal: map[string]any{"Service": alarmPrincipals},
			Action: []string{"sns:Publish"}, Resource: topicARN,
			Condition: map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}}},
	)
}
