package monitoring

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// RunbookBase is the README's address; each alert's runbook is its anchor #runbook-<alert name in lower case>.
const RunbookBase = "https://github.com/gitlab-ha/gitlab-ha"

// Alert names.
const (
	AlertZoneDown              = "GitLabZoneDown"
	AlertFewerThanTwoZones     = "GitLabFewerThanTwoZonesServing"
	AlertMigrationFailed       = "GitLabMigrationFailed"
	AlertMigrationPastDeadline = "GitLabMigrationPastDeadline"
	AlertBackupMissed          = "GitLabBackupMissed"
	AlertHighErrorRatio        = "GitLabHigh5xxRatio"
	AlertPumaQueueing          = "GitLabPumaQueueing"
	AlertSidekiqQueueLatency   = "GitLabSidekiqQueueLatency"
	AlertGitStorageLatency     = "GitLabGitStorageLatency"
	AlertCertificateExpiry     = "GitLabCertificateExpiringSoon"
)

// Rule is one alert as data: the same value renders the PrometheusRule's spec and the rule file promtool judges.
type Rule struct {
	Alert    string
	Expr     string
	For      time.Duration
	Severity string // critical pages someone; warning is for working hours
	// Summary and Description are the alert's annotations; they may use Prometheus' templates ($labels, $value).
	Summary, Description string
}

// RunbookURL is the README's runbook entry for the alert.
func (r Rule) RunbookURL() string { return RunbookBase + "#runbook-" + strings.ToLower(r.Alert) }

// RuleGroupName names the one rule group.
const RuleGroupName = "gitlab-ha"

// Rules are the alerts the arguments call for, in a stable order: GitLab's own availability first, then its
// releases and backups, then its service levels.
func Rules(args *MonitoringArgs) []Rule {
	a := args.defaulted()
	t := a.Thresholds
	ns := a.NamespaceName
	zones := make([]string, len(a.Zones))
	for i, z := range a.Zones {
		zones[i] = regexp.QuoteMeta(z)
	}
	// The zone Deployments' availability, with the zone as a label of its own.
	available := fmt.Sprintf(`label_replace(kube_deployment_status_replicas_available{namespace=%q,deployment=~%q}, "zone", "$1", "deployment", %q)`,
		ns, a.Instance+"-("+strings.Join(zones, "|")+")", regexp.QuoteMeta(a.Instance)+"-(.*)")
	rules := []Rule{{
		Alert: AlertZoneDown, Severity: "critical", For: t.ZoneDownFor,
		Expr:        available + " < 1",
		Summary:     "Zone {{ $labels.zone }} has no ready GitLab replica",
		Description: "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has had no available replica for " + promDuration(t.ZoneDownFor) + "; the load balancer sends that zone's share to the others.",
	}}
	if len(a.Zones) >= 2 {
		rules = append(rules, Rule{
			Alert: AlertFewerThanTwoZones, Severity: "critical", For: t.ZoneDownFor,
			// count() of nothing is nothing: "or vector(0)" makes no zone serving a 0 that fires.
			Expr:        fmt.Sprintf("(count(%s >= 1) or vector(0)) < 2", available),
			Summary:     "GitLab serves from fewer than two zones",
			Description: "Only {{ $value }} of " + strconv.Itoa(len(a.Zones)) + " zones have a ready GitLab replica: one more failure is an outage.",
		})
	}
	jobs := fmt.Sprintf(`namespace=%q,job_name=~%q`, ns, a.MigrationJobPattern)
	rules = append(rules, Rule{
		Alert: AlertMigrationFailed, Severity: "critical",
		Expr:        fmt.Sprintf(`kube_job_failed{%s,condition="true"} > 0`, jobs),
		Summary:     "Migration Job {{ $labels.job_name }} failed",
		Description: "The database migration Job {{ $labels.namespace }}/{{ $labels.job_name }} failed: the release's rollout waits on it (regular migrations) or the release is half done (post-deployment migrations).",
	}, Rule{
		Alert: AlertMigrationPastDeadline, Severity: "critical",
		Expr: fmt.Sprintf(`(time() - kube_job_status_start_time{%s}) > %d and on(namespace, job_name) kube_job_status_active{%s} > 0`,
			jobs, seconds(a.MigrationDeadline+t.MigrationMargin), jobs),
		Summary:     "Migration Job {{ $labels.job_name }} is still running past its deadline",
		Description: "The migration Job {{ $labels.namespace }}/{{ $labels.job_name }} has a pod running " + promDuration(t.MigrationMargin) + " past its " + promDuration(a.MigrationDeadline) + " deadline.",
	})
	if a.BackupCronJob != "" {
		period, _ := SchedulePeriod(a.BackupSchedule) // validated
		limit := period + a.BackupDeadline + t.BackupMargin
		cronJob := fmt.Sprintf(`namespace=%q,cronjob=%q`, ns, a.BackupCronJob)
		rules = append(rules, Rule{
			Alert: AlertBackupMissed, Severity: "critical",
			// A CronJob that never succeeded has no last-success series: its age counts from its creation.
			Expr: fmt.Sprintf(`(time() - kube_cronjob_status_last_successful_time{%s}) > %d or ((time() - kube_cronjob_created{%s}) > %d unless on(namespace, cronjob) kube_cronjob_status_last_successful_time{%s})`,
				cronJob, seconds(limit), cronJob, seconds(limit), cronJob),
			Summary: "GitLab's backup has not succeeded for longer than its schedule allows",
			Description: fmt.Sprintf("CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} (schedule %q) has had no successful run for more than %s: its period %s, a run's deadline %s and a margin of %s.",
				a.BackupSchedule, promDuration(limit), promDuration(period), promDuration(a.BackupDeadline), promDuration(t.BackupMargin)),
		})
	}
	workhorse := fmt.Sprintf(`gitlab_workhorse_http_requests_total{namespace=%q,job=%q`, ns, a.job(workhorseExporter))
	rules = append(rules, Rule{
		Alert: AlertHighErrorRatio, Severity: "critical", For: t.ErrorRatioFor,
		Expr: fmt.Sprintf(`sum by (namespace, zone) (rate(%s,code=~"5.."}[5m])) / sum by (namespace, zone) (rate(%s}[5m])) > %s`,
			workhorse, workhorse, strconv.FormatFloat(t.ErrorRatio, 'g', -1, 64)),
		Summary:     "Zone {{ $labels.zone }} answers {{ $value | humanizePercentage }} of requests with 5xx",
		Description: "Workhorse in zone {{ $labels.zone }} has answered more than " + percent(t.ErrorRatio) + " of requests with a 5xx status for " + promDuration(t.ErrorRatioFor) + ".",
	}, Rule{
		Alert: AlertPumaQueueing, Severity: "warning", For: t.PumaQueueFor,
		Expr:        fmt.Sprintf(`sum by (namespace, zone) (puma_queued_connections{namespace=%q,job=%q}) > %d`, ns, a.job(pumaExporter), t.PumaQueuedConnections),
		Summary:     "Puma in zone {{ $labels.zone }} queues {{ $value }} connections",
		Description: "Requests in zone {{ $labels.zone }} have waited for a Puma thread (more than " + strconv.Itoa(t.PumaQueuedConnections) + " queued) for " + promDuration(t.PumaQueueFor) + ": the zone needs more Puma workers or replicas.",
	}, Rule{
		Alert: AlertSidekiqQueueLatency, Severity: "warning", For: t.SidekiqLatencyFor,
		// Every zone's gitlab-exporter reads the same Redis: the queues are the instance's, not a zone's.
		Expr:        fmt.Sprintf(`max by (namespace, name) (sidekiq_queue_latency_seconds{namespace=%q,job=%q}) > %d`, ns, a.job(gitLabExporter), seconds(t.SidekiqLatency)),
		Summary:     "Sidekiq queue {{ $labels.name }} is {{ $value | humanizeDuration }} behind",
		Description: "The oldest job in Sidekiq queue {{ $labels.name }} has waited more than " + promDuration(t.SidekiqLatency) + " for " + promDuration(t.SidekiqLatencyFor) + ".",
	})
	if a.GitStorage != GitGitalyCluster {
		rules = append(rules, Rule{
			Alert: AlertGitStorageLatency, Severity: "warning", For: t.GitLatencyFor,
			Expr: fmt.Sprintf(`histogram_quantile(0.99, sum by (namespace, zone, le) (rate(grpc_server_handling_seconds_bucket{job=%q,grpc_type="unary"}[5m]))) > %s`,
				a.job(gitalyExporter), strconv.FormatFloat(t.GitLatency.Seconds(), 'g', -1, 64)),
			Summary:     "Gitaly in zone {{ $labels.zone }} answers slowly",
			Description: "The 99th percentile of Gitaly's unary RPCs in zone {{ $labels.zone }} (Git storage " + a.GitStorage + ") has been above " + promDuration(t.GitLatency) + " for " + promDuration(t.GitLatencyFor) + ".",
		})
	}
	if a.servesTLS() {
		rules = append(rules, Rule{
			Alert: AlertCertificateExpiry, Severity: "warning", For: 10 * time.Minute,
			Expr:        fmt.Sprintf(`probe_ssl_earliest_cert_expiry{job=%q} - time() < %d`, a.job(certificateProbe), seconds(t.CertificateExpiry)),
			Summary:     "GitLab's certificate expires in {{ $value | humanizeDuration }}",
			Description: "The certificate " + a.ExternalURL + " presents expires in less than " + promDuration(t.CertificateExpiry) + ".",
		})
	}
	return rules
}

// RuleGroups is the rules in the shape of a PrometheusRule's spec and of a Prometheus rule file: groups, each
// with a name and its rules.
func RuleGroups(rules []Rule) map[string]any {
	list := make([]any, 0, len(rules))
	for _, r := range rules {
		rule := map[string]any{
			"alert":  r.Alert,
			"expr":   r.Expr,
			"labels": map[string]any{"severity": r.Severity},
			"annotations": map[string]any{
				"summary": r.Summary, "description": r.Description, "runbook_url": r.RunbookURL(),
			},
		}
		if r.For > 0 {
			rule["for"] = promDuration(r.For)
		}
		list = append(list, rule)
	}
	return map[string]any{"groups": []any{map[string]any{"name": RuleGroupName, "rules": list}}}
}

// RuleFile is the rules as a Prometheus rule file.
func RuleFile(rules []Rule) ([]byte, error) { return yaml.Marshal(RuleGroups(rules)) }

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func percent(ratio float64) string { return strconv.FormatFloat(ratio*100, 'g', -1, 64) + "%" }

// promDuration writes a duration as Prometheus reads one: 5m, 1h30m, 14d, 500ms.
func promDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, unit := range []struct {
		name string
		size time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if n := d / unit.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, unit.name)
			d -= n * unit.size
		}
	}
	return b.String()
}
