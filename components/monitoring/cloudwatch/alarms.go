package cloudwatch

import "sort"

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

// spec is one kind of alarm: the metric (names from the services' CloudWatch documentation, see the README's
// alarm table), how it is compared, its defaults and the range an override may take.
type spec struct {
	namespace, metric, statistic, comparison string
	threshold                                float64
	period, evaluations                      int
	min, max                                 float64
	unit                                     string
	scale                                    float64 // threshold × scale is what CloudWatch compares; 1 but for GiB
	// missing is treatMissingData: breaching where silence means the thing watched is gone (no healthy host
	// reported, no node, an instance stopped), notBreaching where silence means idle, missing (keep the
	// state) where a gap is a node being replaced that other alarms report.
	missing string
	why     string
}

var specs = map[string]spec{
	KindNLBHealthyHosts: {
		namespace: "AWS/NetworkELB", metric: "HealthyHostCount", statistic: "Minimum", comparison: "LessThanThreshold",
		threshold: 1, period: 60, evaluations: 2, min: 1, max: 1000, unit: "healthy targets", scale: 1, missing: "breaching",
		why: "a zone's nodes hold no ready GitLab pod for this listener: the zone serves nothing",
	},
	KindRDSCPU: {
		namespace: "AWS/RDS", metric: "CPUUtilization", statistic: "Average", comparison: "GreaterThanThreshold",
		threshold: 80, period: 300, evaluations: 3, min: 1, max: 100, unit: "percent", scale: 1, missing: "notBreaching",
		why: "the database is near its CPU: queries queue and GitLab slows for every zone",
	},
	KindRDSFreeStorage: {
		namespace: "AWS/RDS", metric: "FreeStorageSpace", statistic: "Minimum", comparison: "LessThanThreshold",
		threshold: 10, period: 300, evaluations: 1, min: 1, max: 65536, unit: "GiB", scale: gib, missing: "notBreaching",
		why: "the database is running out of storage (storage autoscaling stops at its maximum): writes will fail",
	},
	KindRDSConnections: {
		namespace: "AWS/RDS", metric: "DatabaseConnections", statistic: "Maximum", comparison: "GreaterThanThreshold",
		threshold: 400, period: 300, evaluations: 2, min: 1, max: 100000, unit: "connections", scale: 1, missing: "notBreaching",
		why: "connections near the instance class's max_connections: new pods and jobs will be refused (set it to ~80% of yours)",
	},
	KindEFSIOLimit: {
		namespace: "AWS/EFS", metric: "PercentIOLimit", statistic: "Maximum", comparison: "GreaterThanThreshold",
		threshold: 90, period: 300, evaluations: 3, min: 1, max: 100, unit: "percent", scale: 1, missing: "notBreaching",
		why: "the file system nears General Purpose mode's I/O limit: Git and uploads on NFS slow in every zone",
	},
	KindEFSBurstCredits: {
		namespace: "AWS/EFS", metric: "BurstCreditBalance", statistic: "Minimum", comparison: "LessThanThreshold",
		threshold: 100, period: 300, evaluations: 1, min: 1, max: 2100, unit: "GiB", scale: gib, missing: "notBreaching",
		why: "bursting throughput is about to fall to its baseline (100 GiB lasts ~17 minutes at 100 MiB/s)",
	},
	KindCacheEngineCPU: {
		namespace: "AWS/ElastiCache", metric: "EngineCPUUtilization", statistic: "Average", comparison: "GreaterThanThreshold",
		threshold: 80, period: 300, evaluations: 3, min: 1, max: 100, unit: "percent", scale: 1, missing: "missing",
		why: "Redis's single thread is near saturation: sessions, cache and Sidekiq's queues slow together",
	},
	KindCacheMemory: {
		namespace: "AWS/ElastiCache", metric: "DatabaseMemoryUsagePercentage", statistic: "Maximum", comparison: "GreaterThanThreshold",
		threshold: 80, period: 300, evaluations: 2, min: 1, max: 100, unit: "percent", scale: 1, missing: "missing",
		why: "Redis nears maxmemory: next it evicts keys",
	},
	KindCacheEvictions: {
		namespace: "AWS/ElastiCache", metric: "Evictions", statistic: "Sum", comparison: "GreaterThanThreshold",
		threshold: 0, period: 300, evaluations: 1, min: 0, max: 1e9, unit: "keys per period", scale: 1, missing: "notBreaching",
		why: "one Redis holds GitLab's cache, sessions and Sidekiq's queues: an eviction may drop a job or sign a user out",
	},
	KindNodeGroupEmpty: {
		namespace: "AWS/EC2", metric: "CPUUtilization", statistic: "SampleCount", comparison: "LessThanThreshold",
		threshold: 1, period: 300, evaluations: 2, min: 1, max: 1000, unit: "samples", scale: 1, missing: "breaching",
		why: "no instance of the zone's node group reports: the zone has no node, so no GitLab replica",
	},
	KindInstanceStatus: {
		namespace: "AWS/EC2", metric: "StatusCheckFailed", statistic: "Maximum", comparison: "GreaterThanOrEqualToThreshold",
		threshold: 1, period: 60, evaluations: 2, min: 1, max: 1, unit: "failed checks", scale: 1, missing: "breaching",
		why: "the instance fails its system or instance status check (or stopped reporting): its Gitaly or Praefect is down",
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
	threshold, period, evaluations = s.threshold, s.period, s.evaluations
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
