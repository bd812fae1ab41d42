// Package alarms is what the CloudWatch alarms are, without the AWS SDK: their kinds, documented defaults
// and ranges, and the topic's subscribers, with the checks a stack's configuration and the component share.
package alarms

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Alarm kinds: the keys of Thresholds and of the alarm table in the README.
const (
	KindNLBHealthyHosts = "nlbHealthyHosts"
	KindRDSCPU          = "rdsCpu"
	KindRDSFreeStorage  = "rdsFreeStorage"
	KindRDSConnections  = "rdsConnections"
	KindEFSIOLimit      = "efsIoLimit"
	KindEFSBurstCredits = "efsBurstCredits"
	KindCacheEngineCPU  = "cacheEngineCpu"
	KindCacheMemory     = "cacheMemory"
	KindCacheEvictions  = "cacheEvictions"
	KindNodeGroupEmpty  = "nodeGroupEmpty"
	KindInstanceStatus  = "instanceStatus"
)

// gib is how a threshold given in GiB becomes the metric's bytes.
const gib = 1 << 30

// Spec is one kind of alarm: the metric (names from the services' CloudWatch documentation, see the README's
// alarm table), how it is compared, its defaults and the range an override may take.
type Spec struct {
	Namespace, MetricName, Statistic, Comparison string
	Threshold                                    float64
	Period, EvaluationPeriods                    int
	Min, Max                                     float64
	Unit                                         string
	Scale                                        float64 // threshold × scale is what CloudWatch compares; 1 but for GiB
	// missing is treatMissingData: breaching where silence means the thing watched is gone (no healthy host
	// reported, no node, an instance stopped), notBreaching where silence means idle, missing (keep the
	// state) where a gap is a node being replaced that other alarms report.
	TreatMissingData string
	Why              string
}

var specs = map[string]Spec{
	KindNLBHealthyHosts: {
		Namespace: "AWS/NetworkELB", MetricName: "HealthyHostCount", Statistic: "Minimum", Comparison: "LessThanThreshold",
		Threshold: 1, Period: 60, EvaluationPeriods: 2, Min: 1, Max: 1000, Unit: "healthy targets", Scale: 1, TreatMissingData: "breaching",
		Why: "a zone's nodes hold no ready GitLab pod for this listener: the zone serves nothing",
	},
	KindRDSCPU: {
		Namespace: "AWS/RDS", MetricName: "CPUUtilization", Statistic: "Average", Comparison: "GreaterThanThreshold",
		Threshold: 80, Period: 300, EvaluationPeriods: 3, Min: 1, Max: 100, Unit: "percent", Scale: 1, TreatMissingData: "notBreaching",
		Why: "the database is near its CPU: queries queue and GitLab slows for every zone",
	},
	KindRDSFreeStorage: {
		Namespace: "AWS/RDS", MetricName: "FreeStorageSpace", Statistic: "Minimum", Comparison: "LessThanThreshold",
		Threshold: 10, Period: 300, EvaluationPeriods: 1, Min: 1, Max: 65536, Unit: "GiB", Scale: gib, TreatMissingData: "notBreaching",
		Why: "the database is running out of storage (storage autoscaling stops at its maximum): writes will fail",
	},
	KindRDSConnections: {
		Namespace: "AWS/RDS", MetricName: "DatabaseConnections", Statistic: "Maximum", Comparison: "GreaterThanThreshold",
		Threshold: 400, Period: 300, EvaluationPeriods: 2, Min: 1, Max: 100000, Unit: "connections", Scale: 1, TreatMissingData: "notBreaching",
		Why: "connections near the instance class's max_connections: new pods and jobs will be refused (set it to ~80% of yours)",
	},
	KindEFSIOLimit: {
		Namespace: "AWS/EFS", MetricName: "PercentIOLimit", Statistic: "Maximum", Comparison: "GreaterThanThreshold",
		Threshold: 90, Period: 300, EvaluationPeriods: 3, Min: 1, Max: 100, Unit: "percent", Scale: 1, TreatMissingData: "notBreaching",
		Why: "the file system nears General Purpose mode's I/O limit: Git and uploads on NFS slow in every zone",
	},
	KindEFSBurstCredits: {
		Namespace: "AWS/EFS", MetricName: "BurstCreditBalance", Statistic: "Minimum", Comparison: "LessThanThreshold",
		Threshold: 100, Period: 300, EvaluationPeriods: 1, Min: 1, Max: 2100, Unit: "GiB", Scale: gib, TreatMissingData: "notBreaching",
		Why: "bursting throughput is about to fall to its baseline (100 GiB lasts ~17 minutes at 100 MiB/s)",
	},
	KindCacheEngineCPU: {
		Namespace: "AWS/ElastiCache", MetricName: "EngineCPUUtilization", Statistic: "Average", Comparison: "GreaterThanThreshold",
		Threshold: 80, Period: 300, EvaluationPeriods: 3, Min: 1, Max: 100, Unit: "percent", Scale: 1, TreatMissingData: "missing",
		Why: "Redis's single thread is near saturation: sessions, cache and Sidekiq's queues slow together",
	},
	KindCacheMemory: {
		Namespace: "AWS/ElastiCache", MetricName: "DatabaseMemoryUsagePercentage", Statistic: "Maximum", Comparison: "GreaterThanThreshold",
		Threshold: 80, Period: 300, EvaluationPeriods: 2, Min: 1, Max: 100, Unit: "percent", Scale: 1, TreatMissingData: "missing",
		Why: "Redis nears maxmemory: next it evicts keys",
	},
	KindCacheEvictions: {
		Namespace: "AWS/ElastiCache", MetricName: "Evictions", Statistic: "Sum", Comparison: "GreaterThanThreshold",
		Threshold: 0, Period: 300, EvaluationPeriods: 1, Min: 0, Max: 1e9, Unit: "keys per period", Scale: 1, TreatMissingData: "notBreaching",
		Why: "one Redis holds GitLab's cache, sessions and Sidekiq's queues: an eviction may drop a job or sign a user out",
	},
	KindNodeGroupEmpty: {
		Namespace: "AWS/EC2", MetricName: "CPUUtilization", Statistic: "SampleCount", Comparison: "LessThanThreshold",
		Threshold: 1, Period: 300, EvaluationPeriods: 2, Min: 1, Max: 1000, Unit: "samples", Scale: 1, TreatMissingData: "breaching",
		Why: "no instance of the zone's node group reports: the zone has no node, so no GitLab replica",
	},
	KindInstanceStatus: {
		Namespace: "AWS/EC2", MetricName: "StatusCheckFailed", Statistic: "Maximum", Comparison: "GreaterThanOrEqualToThreshold",
		Threshold: 1, Period: 60, EvaluationPeriods: 2, Min: 1, Max: 1, Unit: "failed checks", Scale: 1, TreatMissingData: "breaching",
		Why: "the instance fails its system or instance status check (or stopped reporting): its Gitaly or Praefect is down",
	},
}

// Kinds are the alarm kinds, sorted.
func Kinds() []string {
	kinds := make([]string, 0, len(specs))
	for k := range specs {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// Effective is an alarm kind's threshold (in its documented unit), period and evaluation periods after
// overrides.
func Effective(kind string, overrides Thresholds) (threshold float64, period, evaluations int) {
	s := specs[kind]
	threshold, period, evaluations = s.Threshold, s.Period, s.EvaluationPeriods
	if o, ok := overrides[kind]; ok {
		if o.Threshold != nil {
			threshold = *o.Threshold
		}
		if o.Period != nil {
			period = *o.Period
		}
		if o.EvaluationPeriods != nil {
			evaluations = *o.EvaluationPeriods
		}
	}
	return threshold, period, evaluations
}

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
	if t.Threshold != nil && (*t.Threshold < spec.Min || *t.Threshold > spec.Max) {
		return validate.Errorf(field+".threshold", *t.Threshold, "is outside %g-%g (%s)", spec.Min, spec.Max, spec.Unit)
	}
	period, evaluations := spec.Period, spec.EvaluationPeriods
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

// SpecOf is an alarm kind's metric and defaults.
func SpecOf(kind string) (Spec, bool) {
	s, ok := specs[kind]
	return s, ok
}

// ValidateSubscribers checks every subscriber and that none repeats another (their resources are named by
// SubscriberKey); prefix is what precedes "subscribers[i]" in the field names.
func ValidateSubscribers(prefix string, subscribers []Subscriber) error {
	seen := map[string]int{}
	for i, s := range subscribers {
		field := fmt.Sprintf("%ssubscribers[%d]", prefix, i)
		if err := ValidateSubscriber(field, s); err != nil {
			return err
		}
		if j, dup := seen[SubscriberKey(s)]; dup {
			return validate.Errorf(field, s.Endpoint, "repeats %ssubscribers[%d]", prefix, j)
		}
		seen[SubscriberKey(s)] = i
	}
	return nil
}

// ValidateThresholds checks every override, in the kinds' order; field names a kind's override.
func ValidateThresholds(overrides Thresholds, field func(kind string) string) error {
	kinds := make([]string, 0, len(overrides))
	for kind := range overrides {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		if err := ValidateThreshold(field(kind), kind, overrides[kind]); err != nil {
			return err
		}
	}
	return nil
}
