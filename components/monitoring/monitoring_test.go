package monitoring_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/monitoring"
)

const (
	podMonitorType     = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
	probeType          = "kubernetes:monitoring.coreos.com/v1:Probe"
	prometheusRuleType = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
	configMapType      = "kubernetes:core/v1:ConfigMap"
)

// prodLike are the arguments the prod stack gives: three zones, NFS, TLS, a daily backup.
func prodLike() *monitoring.MonitoringArgs {
	return &monitoring.MonitoringArgs{
		Namespace: pulumi.String("gitlab"), NamespaceName: "gitlab", Instance: "gitlab",
		Zones:         []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
		ExternalURL:   "https://gitlab.example.com",
		BackupCronJob: "gitlab-backup", BackupSchedule: "0 1 * * *", BackupDeadline: 6 * time.Hour,
		MigrationJobPattern: "gitlab-(post-)?migrations-.+", MigrationDeadline: time.Hour,
	}
}

func deploy(t *testing.T, args *monitoring.MonitoringArgs) (*componenttest.Result, *monitoring.Monitoring) {
	t.Helper()
	var m *monitoring.Monitoring
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		var err error
		m, err = monitoring.NewMonitoring(ctx, "gitlab-monitoring", args)
		return err
	})
	require.NoError(t, result.Err)
	return result, m
}

func TestTheZonePodsExportersAreScrapedWithAJobEachAndTheirZone(t *testing.T) {
	result, _ := deploy(t, prodLike())
	monitor, ok := result.Find(podMonitorType, "gitlab-zones")
	require.True(t, ok)
	assert.Equal(t, "gitlab", monitor.InputString("metadata.namespace"))
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "gitlab", "app.kubernetes.io/instance": "gitlab",
		"app.kubernetes.io/component": "webservice"}, monitor.InputMap("spec.selector.matchLabels"))
	assert.Equal(t, []any{"zone"}, monitor.MustInput(t, "spec.podTargetLabels"), "every series keeps its pod's zone")
	jobs := map[string]string{}
	for _, e := range monitor.MustInput(t, "spec.podMetricsEndpoints").([]any) {
		endpoint := e.(map[string]any)
		relabel := endpoint["relabelings"].([]any)[0].(map[string]any)
		assert.Equal(t, "job", relabel["targetLabel"])
		jobs[endpoint["port"].(string)] = relabel["replacement"].(string)
		assert.Equal(t, "/metrics", endpoint["path"])
	}
	assert.Equal(t, map[string]string{
		"puma-metrics": "gitlab-puma", "sidekiq-metrics": "gitlab-sidekiq", "workhorse": "gitlab-workhorse",
		"gl-exporter": "gitlab-exporter", "nginx-status": "gitlab-nginx", "sshd-metrics": "gitlab-sshd",
		"gitaly-metrics": "gitlab-gitaly",
	}, jobs, "with NFS, Gitaly runs in the zone pods and is scraped there")
	assert.Len(t, result.OfType(podMonitorType), 1)
}

func TestWithGitalyItsPodsAreScrapedInTheirNamespaceUnderTheSameJob(t *testing.T) {
	args := prodLike()
	args.GitStorage = monitoring.GitGitaly
	result, _ := deploy(t, args)
	zones, _ := result.Find(podMonitorType, "gitlab-zones")
	for _, e := range zones.MustInput(t, "spec.podMetricsEndpoints").([]any) {
		assert.NotEqual(t, "gitaly-metrics", e.(map[string]any)["port"], "the zone pods run no Gitaly")
	}
	gitaly, ok := result.Find(podMonitorType, "gitlab-gitaly")
	require.True(t, ok)
	assert.Equal(t, []any{"gitlab-gitaly"}, gitaly.MustInput(t, "spec.namespaceSelector.matchNames"))
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "gitaly", "app.kubernetes.io/instance": "gitaly"},
		gitaly.InputMap("spec.selector.matchLabels"))
	assert.Equal(t, "gitaly-metrics", gitaly.InputString("spec.podMetricsEndpoints[0].port"))
	assert.Equal(t, "gitlab-gitaly", gitaly.InputString("spec.podMetricsEndpoints[0].relabelings[0].replacement"))
}

func TestTheCertificateIsProbedOnlyWhereGitLabServesTLS(t *testing.T) {
	result, m := deploy(t, prodLike())
	probe, ok := result.Find(probeType, "gitlab-certificate")
	require.True(t, ok)
	assert.Equal(t, "blackbox-exporter.monitoring.svc:19115", probe.InputString("spec.prober.url"))
	assert.Equal(t, "http_2xx", probe.InputString("spec.module"))
	assert.Equal(t, []any{"https://gitlab.example.com"}, probe.MustInput(t, "spec.targets.staticConfig.static"))
	assert.Equal(t, "gitlab-certificate", probe.InputString("spec.jobName"))
	assert.Contains(t, alerts(t, m), monitoring.AlertCertificateExpiry)

	args := prodLike()
	args.ExternalURL = "http://gitlab.example.com"
	result, m = deploy(t, args)
	assert.Empty(t, result.OfType(probeType))
	assert.NotContains(t, alerts(t, m), monitoring.AlertCertificateExpiry)
}

func alerts(t *testing.T, m *monitoring.Monitoring) []string {
	t.Helper()
	return componenttest.MustAwait(t, m.Alerts).Value.([]string)
}

func TestThePrometheusRuleIsTheRulesAsData(t *testing.T) {
	args := prodLike()
	args.Labels = map[string]string{"release": "kube-prometheus-stack"}
	result, _ := deploy(t, args)
	rule, ok := result.Find(prometheusRuleType, "gitlab-alerts")
	require.True(t, ok)
	assert.Equal(t, "kube-prometheus-stack", rule.InputMap("metadata.labels")["release"], "the labels the cluster's Prometheus selects by")
	var want map[string]any
	body, err := json.Marshal(monitoring.RuleGroups(monitoring.Rules(args)))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, &want))
	assert.Equal(t, want["groups"], rule.MustInput(t, "spec.groups"))
	for _, r := range monitoring.Rules(args) {
		assert.NotEmpty(t, r.Summary, r.Alert)
		assert.NotEmpty(t, r.Description, r.Alert)
		assert.Contains(t, []string{"critical", "warning"}, r.Severity, r.Alert)
		assert.Equal(t, "https://github.com/gitlab-ha/gitlab-ha#runbook-"+strings.ToLower(r.Alert), r.RunbookURL())
	}
}

func TestWhichAlertsTheArgumentsCallFor(t *testing.T) {
	names := func(args *monitoring.MonitoringArgs) []string {
		var list []string
		for _, r := range monitoring.Rules(args) {
			list = append(list, r.Alert)
		}
		return list
	}
	assert.Equal(t, []string{"GitLabZoneDown", "GitLabFewerThanTwoZonesServing", "GitLabMigrationFailed", "GitLabMigrationPastDeadline",
		"GitLabBackupMissed", "GitLabHigh5xxRatio", "GitLabPumaQueueing", "GitLabSidekiqQueueLatency", "GitLabGitStorageLatency",
		"GitLabCertificateExpiringSoon"}, names(prodLike()))
	one := prodLike()
	one.Zones, one.BackupCronJob, one.BackupSchedule, one.GitStorage, one.ExternalURL = []string{"a"}, "", "", monitoring.GitGitalyCluster, ""
	assert.Equal(t, []string{"GitLabZoneDown", "GitLabMigrationFailed", "GitLabMigrationPastDeadline", "GitLabHigh5xxRatio",
		"GitLabPumaQueueing", "GitLabSidekiqQueueLatency"}, names(one),
		"one zone cannot lose a second; no backup, no backup alert; Gitaly Cluster's instances are outside the cluster")
}

func TestThresholdsRenderIntoTheExpressions(t *testing.T) {
	args := prodLike()
	args.Thresholds = monitoring.Thresholds{ErrorRatio: 0.2, PumaQueuedConnections: 3, SidekiqLatency: 90 * time.Second,
		GitLatency: 250 * time.Millisecond, CertificateExpiry: 72 * time.Hour, BackupMargin: 2 * time.Hour, ZoneDownFor: 90 * time.Second}
	rules := map[string]monitoring.Rule{}
	for _, r := range monitoring.Rules(args) {
		rules[r.Alert] = r
	}
	assert.True(t, strings.HasSuffix(rules["GitLabHigh5xxRatio"].Expr, "> 0.2"))
	assert.True(t, strings.HasSuffix(rules["GitLabPumaQueueing"].Expr, "> 3"))
	assert.True(t, strings.HasSuffix(rules["GitLabSidekiqQueueLatency"].Expr, "> 90"))
	assert.True(t, strings.HasSuffix(rules["GitLabGitStorageLatency"].Expr, "> 0.25"))
	assert.True(t, strings.HasSuffix(rules["GitLabCertificateExpiringSoon"].Expr, "< 259200"))
	assert.Contains(t, rules["GitLabBackupMissed"].Expr, "> 115200", "a day, the 6h deadline and 2h")
	assert.Equal(t, 90*time.Second, rules["GitLabZoneDown"].For)
	file, err := monitoring.RuleFile(monitoring.Rules(args))
	require.NoError(t, err)
	assert.Contains(t, string(file), "for: 1m30s")
}

func TestTheDashboardHasARowPerZoneForTheGrafanaSidecar(t *testing.T) {
	result, _ := deploy(t, prodLike())
	configMap, ok := result.Find(configMapType, "gitlab-dashboard")
	require.True(t, ok)
	assert.Equal(t, "1", configMap.InputMap("metadata.labels")["grafana_dashboard"], "the sidecar's default label")
	assert.Equal(t, "GitLab", configMap.InputMap("metadata.annotations")["grafana_folder"])
	var dashboard struct {
		Panels []struct {
			Type, Title string
			Targets     []struct{ Expr string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(configMap.InputMap("data")["gitlab.json"]), &dashboard))
	var rows []string
	titles := map[string]int{}
	for _, p := range dashboard.Panels {
		if p.Type == "row" {
			rows = append(rows, p.Title)
			continue
		}
		titles[p.Title]++
		require.Len(t, p.Targets, 1)
	}
	assert.Equal(t, []string{"Zone eu-west-1a", "Zone eu-west-1b", "Zone eu-west-1c"}, rows)
	for _, title := range []string{"Replicas available", "Requests", "5xx ratio", "Puma queued connections", "Sidekiq queue latency", "Gitaly p99 (unary)"} {
		assert.Equal(t, 3, titles[title], title)
	}
	assert.Contains(t, dashboard.Panels[1].Targets[0].Expr, `deployment="gitlab-eu-west-1a"`)
}

func TestBadArgumentsAreRefusedNamingTheFieldAndRegisterNothing(t *testing.T) {
	cases := []struct {
		name   string
		change func(*monitoring.MonitoringArgs)
		want   string
	}{
		{"no zones", func(a *monitoring.MonitoringArgs) { a.Zones = nil }, "zones: is empty"},
		{"no namespace", func(a *monitoring.MonitoringArgs) { a.Namespace = nil }, "namespace: is required"},
		{"an unknown Git storage", func(a *monitoring.MonitoringArgs) { a.GitStorage = "ceph" }, `gitStorage: "ceph" is not nfs, gitaly or gitaly-cluster`},
		{"a schedule that is not cron", func(a *monitoring.MonitoringArgs) { a.BackupSchedule = "daily" }, `backupSchedule: "daily" cannot be read`},
		{"a backup without a schedule", func(a *monitoring.MonitoringArgs) { a.BackupSchedule = "" }, `backupSchedule: "" and backupCronJob go together`},
		{"a ratio above one", func(a *monitoring.MonitoringArgs) { a.Thresholds.ErrorRatio = 5 }, "thresholds.errorRatio: 5 is not a share above 0 and at most 1"},
		{"a negative period", func(a *monitoring.MonitoringArgs) { a.Thresholds.ZoneDownFor = -time.Minute }, `thresholds.zoneDownFor: "-1m0s" is negative`},
		{"a blackbox exporter that is a URL", func(a *monitoring.MonitoringArgs) { a.BlackboxExporter = "http://blackbox:9115" }, "blackboxExporter:"},
		{"no migration deadline", func(a *monitoring.MonitoringArgs) { a.MigrationDeadline = 0 }, "migrationDeadline:"},
		{"a pattern with a quote", func(a *monitoring.MonitoringArgs) { a.MigrationJobPattern = `gitlab-"x` }, "migrationJobPattern:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := prodLike()
			c.change(args)
			result := componenttest.Run(func(ctx *pulumi.Context) error {
				_, err := monitoring.NewMonitoring(ctx, "gitlab-monitoring", args)
				return err
			})
			require.Error(t, result.Err)
			assert.Contains(t, result.Err.Error(), c.want)
			assert.Empty(t, result.Resources, "nothing registered")
		})
	}
}

func TestSchedulePeriodIsTheLongestGapBetweenRuns(t *testing.T) {
	for schedule, want := range map[string]time.Duration{
		"0 1 * * *":    24 * time.Hour,
		"@hourly":      time.Hour,
		"*/15 * * * *": 15 * time.Minute,
		"0 1 * * 1-5":  72 * time.Hour, // Friday 01:00 to Monday 01:00
		"0 1 * * 0":    7 * 24 * time.Hour,
		"0 3 1 * *":    31 * 24 * time.Hour,
		"0 0,12 * * *": 12 * time.Hour,
		"30 2 * * SUN": 7 * 24 * time.Hour,
		"0 1 1,15 * *": 17 * 24 * time.Hour, // the 15th to the 1st of a 31-day month
	} {
		got, err := monitoring.SchedulePeriod(schedule)
		require.NoError(t, err, schedule)
		assert.Equal(t, want, got, schedule)
	}
	for _, bad := range []string{"daily", "0 25 * * *", "* * *", "0 1 31 2 *", "0 1 * * 8", "5-1 * * * *"} {
		_, err := monitoring.SchedulePeriod(bad)
		assert.Error(t, err, bad)
	}
}

// TestEveryAlertHasAFiringAndASilentCase reads promtool's unit tests (testdata/alerts_test.yaml, which `make
// validate` runs against the rules the prod plan renders): every alert the component can render needs a case
// where it fires and one where it stays silent, and no case names an alert that does not exist.
func TestEveryAlertHasAFiringAndASilentCase(t *testing.T) {
	body, err := os.ReadFile("testdata/alerts_test.yaml")
	require.NoError(t, err)
	var file struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			Name  string `yaml:"name"`
			Cases []struct {
				Alert  string `yaml:"alertname"`
				Alerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	require.NoError(t, yaml.Unmarshal(body, &file))
	assert.Equal(t, []string{"gitlab-alerts.yaml"}, file.RuleFiles, "the rule file internal/cmd/promrules writes beside the tests")
	firing, silent := map[string]int{}, map[string]int{}
	for _, test := range file.Tests {
		for _, c := range test.Cases {
			if len(c.Alerts) > 0 {
				firing[c.Alert]++
			} else {
				silent[c.Alert]++
			}
		}
	}
	known := map[string]bool{}
	for _, r := range monitoring.Rules(prodLike()) { // prod's arguments render every alert the component has
		known[r.Alert] = true
		assert.Positive(t, firing[r.Alert], "%s has no promtool case where it fires", r.Alert)
		assert.Positive(t, silent[r.Alert], "%s has no promtool case where it stays silent", r.Alert)
	}
	for name := range firing {
		assert.True(t, known[name], "a promtool case names %s, which is no alert", name)
	}
	for name := range silent {
		assert.True(t, known[name], "a promtool case names %s, which is no alert", name)
	}
}
