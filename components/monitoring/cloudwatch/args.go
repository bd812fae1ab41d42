package cloudwatch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Subscriber protocols: what SNS delivers to a person or a pager. Plain http is refused (alarms carry
// resource names over the internet), and so are the protocols that deliver to AWS resources (sqs, lambda,
// firehose, application), which a stack wires itself.
const (
	ProtocolEmail     = "email"
	ProtocolEmailJSON = "email-json"
	ProtocolHTTPS     = "https"
	ProtocolSMS       = "sms"
)

// Subscriber is one endpoint the topic delivers every alarm and recovery to.
type Subscriber struct {
	// Protocol is ProtocolEmail, ProtocolEmailJSON, ProtocolHTTPS or ProtocolSMS. Required.
	Protocol string
	// Endpoint is an email address, an https:// URL or an E.164 phone number (+ and digits). Required.
	Endpoint string
}

// Threshold overrides one alarm's defaults; a nil field keeps the default the alarm table documents.
type Threshold struct {
	// Threshold the statistic is compared with, in the metric's unit.
	Threshold *float64
	// Period of each data point, in seconds: 60 or a multiple of 60, at most 86400.
	Period *int
	// EvaluationPeriods that must breach before the alarm fires: 1-100 (and Period × EvaluationPeriods at most
	// one day, as CloudWatch requires).
	EvaluationPeriods *int
}

// Thresholds are the overrides by alarm kind (Kinds lists the keys). Default none.
type Thresholds map[string]Threshold

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
	// Tags added to every resource. Default none.
	Tags map[string]string
}

var (
	e164  = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	email = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// SubscriberKey names a subscriber's resource: a hash of its protocol and endpoint, so that reordering the
// list changes nothing and an address never appears in a resource name.
func SubscriberKey(s Subscriber) string {
	sum := sha256.Sum256([]byte(s.Protocol + "\x00" + s.Endpoint))
	return s.Protocol + "-" + hex.EncodeToString(sum[:])[:10]
}

// ValidateSubscriber checks one subscriber; field names it in errors.
func ValidateSubscriber(field string, s Subscriber) error {
	if s.Endpoint == "" {
		return validate.Errorf(field+".endpoint", nil, "is required (protocol %q)", s.Protocol)
	}
	switch s.Protocol {
	case ProtocolEmail, ProtocolEmailJSON:
		if !email.MatchString(s.Endpoint) {
			return validate.Errorf(field+".endpoint", s.Endpoint, "is not an email address")
		}
	case ProtocolHTTPS:
		u, err := url.Parse(s.Endpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return validate.Errorf(field+".endpoint", s.Endpoint, "is not an https:// URL")
		}
	case ProtocolSMS:
		if !e164.MatchString(s.Endpoint) {
			return validate.Errorf(field+".endpoint", s.Endpoint, "is not an E.164 phone number such as +447700900123")
		}
	default:
		return validate.Errorf(field+".protocol", s.Protocol, "is not %s, %s, %s or %s", ProtocolEmail, ProtocolEmailJSON, ProtocolHTTPS, ProtocolSMS)
	}
	return nil
}

// ValidateThreshold checks one override of kind against the alarm's documented range; field names it.
func ValidateThreshold(field, kind string, t Threshold) error {
	spec, ok := specs[kind]
	if !ok {
		return validate.Errorf(field, kind, "is not an alarm kind (%s)", strings.Join(Kinds(), ", "))
	}
	if t.Threshold != nil && (*t.Threshold < spec.min || *t.Threshold > spec.max) {
		return validate.Errorf(field+".threshold", *t.Threshold, "is outside %g-%g (%s)", spec.min, spec.max, spec.unit)
	}
	period, evaluations := spec.period, spec.evaluations
	if t.Period != nil {
		period = *t.Period
		if period < 60 || period > 86400 || period%60 != 0 {
			return validate.Errorf(field+".period", period, "is not a multiple of 60 seconds between 60 and 86400")
		}
	}
	if t.EvaluationPeriods != nil {
		evaluations = *t.EvaluationPeriods
		if evaluations < 1 || evaluations > 100 {
			return validate.Errorf(field+".evaluationPeriods", evaluations, "is outside 1-100")
		}
	}
	if period*evaluations > 86400 {
		return validate.Errorf(field+".evaluationPeriods", evaluations, "× period %d s is longer than one day, the most CloudWatch evaluates", period)
	}
	return nil
}

func validateArgs(args CloudWatchAlarmsArgs) error {
	seen := map[string]int{}
	for i, s := range args.Subscribers {
		field := fmt.Sprintf("subscribers[%d]", i)
		if err := ValidateSubscriber(field, s); err != nil {
			return err
		}
		key := SubscriberKey(s)
		if j, dup := seen[key]; dup {
			return validate.Errorf(field, s.Endpoint, "repeats subscribers[%d]", j)
		}
		seen[key] = i
	}
	for _, kind := range sortedKeys(args.Thresholds) {
		if err := ValidateThreshold(fmt.Sprintf("thresholds[%q]", kind), kind, args.Thresholds[kind]); err != nil {
			return err
		}
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
