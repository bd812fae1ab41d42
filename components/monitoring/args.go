package monitoring

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Git storage kinds, as the stacks name them (gitlab-ha:gitStorage.kind).
const (
	// GitNFS: Gitaly runs inside every zone's GitLab pod, on the shared NFS volume.
	GitNFS = "nfs"
	// GitGitaly: a Gitaly StatefulSet per zone (components/gitaly), in a namespace of its own.
	GitGitaly = "gitaly"
	// GitGitalyCluster: Gitaly and Praefect on instances outside the cluster, which no PodMonitor reaches.
	GitGitalyCluster = "gitaly-cluster"
)

// Defaults.
const (
	// DefaultBlackboxExporter is kube-prometheus's blackbox exporter Service, which the certificate Probe asks.
	DefaultBlackboxExporter = "blackbox-exporter.monitoring.svc:19115"
	// DefaultBlackboxModule is a module of kube-prometheus's blackbox configuration that fetches a URL over
	// HTTP(S) and reports its certificate.
	DefaultBlackboxModule = "http_2xx"
	// DefaultGitalyNamespace and DefaultGitalyInstance are components/gitaly's defaults and the stacks' name.
	DefaultGitalyNamespace = "gitlab-gitaly"
	DefaultGitalyInstance  = "gitaly"
	// DefaultDashboardFolder is the Grafana folder the dashboard goes in.
	DefaultDashboardFolder = "GitLab"
	// DashboardFolderAnnotation is the annotation the Grafana sidecar (kiwigrid k8s-sidecar, as
	// kube-prometheus-stack runs it with folderAnnotation) reads the folder from.
	DashboardFolderAnnotation = "grafana_folder"
)

// DefaultDashboardLabel is the label the Grafana sidecar looks for on ConfigMaps: kube-prometheus-stack's
// grafana.sidecar.dashboards.label and labelValue defaults.
var DefaultDashboardLabel = map[string]string{"grafana_dashboard": "1"}

// MonitoringArgs are what the monitors, rules and dashboard watch. Plain values are rendered into the rules'
// expressions, so they must be known when the program runs.
type MonitoringArgs struct {
	// Namespace is GitLab's namespace: the monitors, rule and dashboard go there, and the rules select the
	// kube-state-metrics series of that namespace. Required (pass the GitLab component's Namespace, so they
	// wait for it).
	Namespace pulumi.StringInput
	// NamespaceName is Namespace's value, for the rules' selectors. Required.
	NamespaceName string
	// Instance is the GitLab component's name: its zone Deployments are <Instance>-<zone> and its pods carry
	// app.kubernetes.io/instance=<Instance>. Required.
	Instance string
	// Zones are the zone names, each a Deployment. Required, at least one.
	Zones []string
	// GitStorage is the Git storage kind, GitNFS (default), GitGitaly or GitGitalyCluster: where Gitaly's
	// metrics come from (the zone pods, the Gitaly pods, or nowhere in the cluster).
	GitStorage string
	// GitalyNamespace and GitalyInstance find the Gitaly pods with GitGitaly. Default DefaultGitalyNamespace
	// and DefaultGitalyInstance.
	GitalyNamespace, GitalyInstance string
	// ExternalURL is GitLab's URL. With https the certificate is probed through BlackboxExporter and an alert
	// fires before it expires; with http (the default, "") there is no certificate to watch.
	ExternalURL string
	// BlackboxExporter is the blackbox exporter's host:port. Default DefaultBlackboxExporter.
	BlackboxExporter string
	// BlackboxModule is the exporter's module that fetches ExternalURL. Default DefaultBlackboxModule.
	BlackboxModule string
	// BackupCronJob is the backup CronJob's name, BackupSchedule its cron schedule and BackupDeadline how long
	// one run may take (its activeDeadlineSeconds). Default "": no backup, no backup alert.
	BackupCronJob, BackupSchedule string
	BackupDeadline                time.Duration
	// MigrationJobPattern is a regular expression matching the migration Jobs' names (RE2, anchored by
	// Prometheus) and MigrationDeadline their activeDeadlineSeconds. Required.
	MigrationJobPattern string
	MigrationDeadline   time.Duration
	// Labels go on the PodMonitors, Probe and PrometheusRule so that the cluster's Prometheus selects them.
	// Default none, which a Prometheus with empty selectors (kube-prometheus) picks up; kube-prometheus-stack's
	// selects only `release: <its Helm release>` unless its *SelectorNilUsesHelmValues are false.
	Labels map[string]string
	// DashboardLabels mark the dashboard's ConfigMap for the Grafana sidecar. Default DefaultDashboardLabel.
	DashboardLabels map[string]string
	// DashboardFolder is the Grafana folder (the DashboardFolderAnnotation annotation). Default
	// DefaultDashboardFolder.
	DashboardFolder string
	// Thresholds of the alerts. Every zero field takes its documented default.
	Thresholds Thresholds
}

// Thresholds are the alerts' limits and how long each must hold before the alert fires.
type Thresholds struct {
	// ZoneDownFor is how long a zone may have no available GitLab replica. Default 5m.
	ZoneDownFor time.Duration
	// ErrorRatio is the share of Workhorse's responses that may be 5xx (over 5 minutes, per zone), above 0 and
	// at most 1. Default 0.05. ErrorRatioFor: default 10m.
	ErrorRatio    float64
	ErrorRatioFor time.Duration
	// PumaQueuedConnections is how many connections a zone's Puma workers may hold waiting for a thread.
	// Default 10. PumaQueueFor: default 10m.
	PumaQueuedConnections int
	PumaQueueFor          time.Duration
	// SidekiqLatency is how old a Sidekiq queue's oldest job may be. Default 5m. SidekiqLatencyFor: default 10m.
	SidekiqLatency    time.Duration
	SidekiqLatencyFor time.Duration
	// GitLatency is the 99th percentile of Gitaly's unary RPCs per zone (over 5 minutes). Default 1s.
	// GitLatencyFor: default 10m.
	GitLatency    time.Duration
	GitLatencyFor time.Duration
	// CertificateExpiry is how long before the certificate expires the alert fires. Default 14 days (336h).
	CertificateExpiry time.Duration
	// BackupMargin is added to the schedule's period and the run's deadline before a backup counts as missed.
	// Default 1h.
	BackupMargin time.Duration
	// MigrationMargin is added to the migration Job's deadline before a running Job counts as stuck. Default 5m.
	MigrationMargin time.Duration
}

// withDefaults fills every zero threshold.
func (t Thresholds) withDefaults() Thresholds {
	duration := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	duration(&t.ZoneDownFor, 5*time.Minute)
	if t.ErrorRatio == 0 {
		t.ErrorRatio = 0.05
	}
	duration(&t.ErrorRatioFor, 10*time.Minute)
	if t.PumaQueuedConnections == 0 {
		t.PumaQueuedConnections = 10
	}
	duration(&t.PumaQueueFor, 10*time.Minute)
	duration(&t.SidekiqLatency, 5*time.Minute)
	duration(&t.SidekiqLatencyFor, 10*time.Minute)
	duration(&t.GitLatency, time.Second)
	duration(&t.GitLatencyFor, 10*time.Minute)
	duration(&t.CertificateExpiry, 14*24*time.Hour)
	duration(&t.BackupMargin, time.Hour)
	duration(&t.MigrationMargin, 5*time.Minute)
	return t
}

// defaulted is a copy of the args with every default filled in.
func (a MonitoringArgs) defaulted() MonitoringArgs {
	set := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	set(&a.GitStorage, GitNFS)
	set(&a.GitalyNamespace, DefaultGitalyNamespace)
	set(&a.GitalyInstance, DefaultGitalyInstance)
	set(&a.BlackboxExporter, DefaultBlackboxExporter)
	set(&a.BlackboxModule, DefaultBlackboxModule)
	set(&a.DashboardFolder, DefaultDashboardFolder)
	if a.DashboardLabels == nil {
		a.DashboardLabels = DefaultDashboardLabel
	}
	a.Thresholds = a.Thresholds.withDefaults()
	return a
}

// servesTLS reports whether GitLab's URL is https.
func (a MonitoringArgs) servesTLS() bool { return strings.HasPrefix(a.ExternalURL, "https://") }

var hostPort = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[0-9]{1,5}$`)

// ValidateMonitoring checks the arguments NewMonitoring would take, before anything is registered.
func ValidateMonitoring(args *MonitoringArgs) error {
	if args == nil {
		return validate.Missing("args")
	}
	a := args.defaulted()
	if a.Namespace == nil {
		return validate.Missing("namespace")
	}
	if err := validate.DNSLabel("namespaceName", a.NamespaceName); err != nil {
		return err
	}
	if err := validate.DNSLabel("instance", a.Instance); err != nil {
		return err
	}
	if len(a.Zones) == 0 {
		return validate.Errorf("zones", nil, "is empty: name at least one zone")
	}
	if err := validate.ZoneNames(a.Zones); err != nil {
		return err
	}
	switch a.GitStorage {
	case GitNFS, GitGitaly, GitGitalyCluster:
	default:
		return validate.Errorf("gitStorage", a.GitStorage, "is not %s, %s or %s", GitNFS, GitGitaly, GitGitalyCluster)
	}
	if err := validate.DNSLabel("gitalyNamespace", a.GitalyNamespace); err != nil {
		return err
	}
	if err := validate.DNSLabel("gitalyInstance", a.GitalyInstance); err != nil {
		return err
	}
	if a.ExternalURL != "" {
		u, err := url.Parse(a.ExternalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return validate.Errorf("externalURL", a.ExternalURL, "is not an http:// or https:// URL")
		}
	}
	if !hostPort.MatchString(a.BlackboxExporter) {
		return validate.Errorf("blackboxExporter", a.BlackboxExporter, "is not host:port, such as %s", DefaultBlackboxExporter)
	}
	if (a.BackupCronJob == "") != (a.BackupSchedule == "") {
		return validate.Errorf("backupSchedule", a.BackupSchedule, "and backupCronJob go together: set both, or neither for no backup")
	}
	if a.BackupCronJob != "" {
		if err := validate.DNSLabel("backupCronJob", a.BackupCronJob); err != nil {
			return err
		}
		if _, err := SchedulePeriod(a.BackupSchedule); err != nil {
			return validate.Errorf("backupSchedule", a.BackupSchedule, "cannot be read: %v", err)
		}
		if a.BackupDeadline <= 0 {
			return validate.Errorf("backupDeadline", a.BackupDeadline.String(), "must be positive: the run's activeDeadlineSeconds")
		}
	}
	if a.MigrationJobPattern == "" {
		return validate.Missing("migrationJobPattern")
	}
	if _, err := regexp.Compile(a.MigrationJobPattern); err != nil {
		return validate.Errorf("migrationJobPattern", a.MigrationJobPattern, "is not a regular expression: %v", err)
	}
	if strings.ContainsAny(a.MigrationJobPattern, "\"\\`") {
		return validate.Errorf("migrationJobPattern", a.MigrationJobPattern, "holds a quote or backslash, which the rules' selectors cannot carry")
	}
	if a.MigrationDeadline <= 0 {
		return validate.Errorf("migrationDeadline", a.MigrationDeadline.String(), "must be positive: the Jobs' activeDeadlineSeconds")
	}
	for field, labels := range map[string]map[string]string{"labels": a.Labels, "dashboardLabels": a.DashboardLabels} {
		for k, v := range labels {
			if err := validate.LabelValue(fmt.Sprintf("%s[%q]", field, k), v); err != nil {
				return err
			}
		}
	}
	return ValidateThresholds(a.Thresholds)
}

// ValidateThresholds checks thresholds (zero fields take their defaults).
func ValidateThresholds(t Thresholds) error {
	t = t.withDefaults()
	for _, d := range []struct {
		field string
		value time.Duration
	}{
		{"thresholds.zoneDownFor", t.ZoneDownFor}, {"thresholds.errorRatioFor", t.ErrorRatioFor},
		{"thresholds.pumaQueueFor", t.PumaQueueFor}, {"thresholds.sidekiqLatency", t.SidekiqLatency},
		{"thresholds.sidekiqLatencyFor", t.SidekiqLatencyFor}, {"thresholds.gitLatency", t.GitLatency},
		{"thresholds.gitLatencyFor", t.GitLatencyFor}, {"thresholds.certificateExpiry", t.CertificateExpiry},
		{"thresholds.backupMargin", t.BackupMargin}, {"thresholds.migrationMargin", t.MigrationMargin},
	} {
		if d.value < 0 {
			return validate.Errorf(d.field, d.value.String(), "is negative")
		}
		if d.value%time.Millisecond != 0 {
			return validate.Errorf(d.field, d.value.String(), "is finer than a millisecond, which Prometheus cannot express")
		}
	}
	if t.ErrorRatio <= 0 || t.ErrorRatio > 1 {
		return validate.Errorf("thresholds.errorRatio", t.ErrorRatio, "is not a share above 0 and at most 1")
	}
	if t.PumaQueuedConnections < 0 {
		return validate.Errorf("thresholds.pumaQueuedConnections", t.PumaQueuedConnections, "is negative")
	}
	return nil
}
