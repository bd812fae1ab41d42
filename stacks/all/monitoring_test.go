package all_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/monitoring"
	"github.com/gitlab-ha/gitlab-ha/stacks"
	"github.com/gitlab-ha/gitlab-ha/stacks/all"
)

const (
	podMonitorType     = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
	prometheusRuleType = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
	probeType          = "kubernetes:monitoring.coreos.com/v1:Probe"
)

// program runs the stack as `pulumi up` runs it: stacks.Program around all.Deploy, which registers the
// monitoring after the deployment.
func (s *stack) program(t *testing.T) *componenttest.Result {
	t.Helper()
	return componenttest.Run(stacks.Program(all.Deploy), s.options()...)
}

// withMonitoring sets gitlab-ha:monitoring.
func (s *stack) withMonitoring(fields map[string]any) *stack { return s.set("monitoring", fields) }

func TestWithThePrometheusOperatorTheStackRegistersMonitorsRulesAndADashboard(t *testing.T) {
	result := load(t, "prod").withMonitoring(map[string]any{"prometheusOperator": true,
		"labels": map[string]string{"release": "kube-prometheus-stack"}}).program(t)
	require.NoError(t, result.Err)
	zones, ok := result.Find(podMonitorType, "gitlab-zones")
	require.True(t, ok)
	assert.Equal(t, "kube-prometheus-stack", zones.InputMap("metadata.labels")["release"])
	assert.Equal(t, "gitlab", zones.InputString("metadata.namespace"))
	rule, ok := result.Find(prometheusRuleType, "gitlab-alerts")
	require.True(t, ok)
	assert.Len(t, rule.MustInput(t, "spec.groups[0].rules"), 10, "prod (three zones, a backup, NFS, TLS) has every alert")
	probe, ok := result.Find(probeType, "gitlab-certificate")
	require.True(t, ok)
	assert.Equal(t, []any{"https://gitlab.example.com"}, probe.MustInput(t, "spec.targets.staticConfig.static"))
	_, ok = result.Find("kubernetes:core/v1:ConfigMap", "gitlab-dashboard")
	assert.True(t, ok)
	component, ok := result.Find("gitlab-ha:monitoring:Monitoring", stacks.MonitoringName)
	require.True(t, ok)
	gitLab, _ := result.Find("gitlab-ha:gitlab:GitLab", stacks.GitLabName)
	assert.Equal(t, gitLab.URN, component.Parent, "a child of GitLab's component, on its provider")
}

func TestWithoutThePrometheusOperatorNothingOfItsIsRegistered(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		result := load(t, name).program(t)
		require.NoError(t, result.Err)
		for _, kind := range []string{podMonitorType, prometheusRuleType, probeType, "gitlab-ha:monitoring:Monitoring"} {
			assert.Empty(t, result.OfType(kind), "%s: %s", name, kind)
		}
	}
}

// TestTheAlertsWatchTheObjectsTheGitLabComponentBuilds reads the migration Jobs and the backup CronJob back from
// the plan: their names match the rules' selectors and their deadlines and schedule are the ones the rules
// count with.
func TestTheAlertsWatchTheObjectsTheGitLabComponentBuilds(t *testing.T) {
	result := load(t, "prod").withMonitoring(map[string]any{"prometheusOperator": true}).program(t)
	require.NoError(t, result.Err)
	pattern := regexp.MustCompile("^(?:" + stacks.MigrationJobPattern() + ")$")
	jobs := result.OfType("kubernetes:batch/v1:Job")
	require.Len(t, jobs, 2)
	for _, job := range jobs {
		assert.Regexp(t, pattern, job.InputString("metadata.name"))
		assert.EqualValues(t, 3600, job.MustInput(t, "spec.activeDeadlineSeconds"), "the deadline GitLabMigrationPastDeadline counts from")
	}
	cronJobs := result.OfType("kubernetes:batch/v1:CronJob")
	require.Len(t, cronJobs, 1)
	cronJob := cronJobs[0]
	assert.Equal(t, stacks.BackupCronJobName(), cronJob.InputString("metadata.name"))
	assert.EqualValues(t, 6*3600, cronJob.MustInput(t, "spec.jobTemplate.spec.activeDeadlineSeconds"))
	rule, _ := result.Find(prometheusRuleType, "gitlab-alerts")
	var backupExpr string
	for _, r := range rule.MustInput(t, "spec.groups[0].rules").([]any) {
		if r.(map[string]any)["alert"] == monitoring.AlertBackupMissed {
			backupExpr = r.(map[string]any)["expr"].(string)
		}
	}
	assert.Contains(t, backupExpr, `cronjob="`+cronJob.InputString("metadata.name")+`"`)
	assert.Contains(t, backupExpr, "> 111600", "schedule %q: a day, the 6h deadline and 1h", cronJob.InputString("spec.schedule"))
	for _, d := range result.OfType("kubernetes:apps/v1:Deployment") {
		if strings.HasPrefix(d.InputString("metadata.name"), "gitlab-eu-west-1") {
			assert.Equal(t, "gitlab", d.InputString("metadata.namespace"))
		}
	}
}

func TestWithGitalyTheGitalyPodsAreMonitoredToo(t *testing.T) {
	result := load(t, "prod").withGit(map[string]any{"kind": "gitaly"}).withMonitoring(map[string]any{"prometheusOperator": true}).program(t)
	require.NoError(t, result.Err)
	monitor, ok := result.Find(podMonitorType, "gitlab-gitaly")
	require.True(t, ok)
	namespace := result.OfType("kubernetes:core/v1:Namespace")
	var names []string
	for _, n := range namespace {
		names = append(names, n.InputString("metadata.name"))
	}
	assert.Contains(t, names, monitor.InputString("spec.namespaceSelector.matchNames[0]"), "the namespace the Gitaly component runs in")
	set, ok := result.Find("kubernetes:apps/v1:StatefulSet", "gitaly-eu-west-1a")
	require.True(t, ok)
	assert.Equal(t, monitor.InputMap("spec.selector.matchLabels")["app.kubernetes.io/instance"], set.InputMap("spec.template.metadata.labels")["app.kubernetes.io/instance"])
}

func TestBadMonitoringIsRefusedNamingTheKey(t *testing.T) {
	on := func(fields map[string]any) map[string]any {
		fields["prometheusOperator"] = true
		return fields
	}
	cases := []struct {
		name       string
		monitoring map[string]any
		want       string
	}{
		{"a ratio above one", on(map[string]any{"alerts": map[string]any{"errorRatio": 5}}),
			"gitlab-ha:monitoring.alerts.errorRatio: 5 is not a share above 0 and at most 1"},
		{"a duration that is none", on(map[string]any{"alerts": map[string]any{"zoneDownFor": "five minutes"}}),
			`gitlab-ha:monitoring.alerts.zoneDownFor: "five minutes" is not a duration`},
		{"a negative duration", on(map[string]any{"alerts": map[string]any{"sidekiqLatency": "-5m"}}),
			`gitlab-ha:monitoring.alerts.sidekiqLatency: "-5m" is not a duration above 0`},
		{"a certificate threshold beyond any certificate", on(map[string]any{"alerts": map[string]any{"certificateExpiry": "8760h"}}),
			`gitlab-ha:monitoring.alerts.certificateExpiry: "8760h" is not a duration above 0 and at most 2160h0m0s`},
		{"no Puma queue", on(map[string]any{"alerts": map[string]any{"pumaQueuedConnections": 0}}),
			"gitlab-ha:monitoring.alerts.pumaQueuedConnections: 0 is not from 1 to 10000"},
		{"a blackbox exporter that is a URL", on(map[string]any{"blackboxExporter": "http://blackbox:9115"}),
			`gitlab-ha:monitoring.blackboxExporter: "http://blackbox:9115" is not host:port`},
		{"a label value with a space", on(map[string]any{"labels": map[string]string{"release": "kube prometheus"}}),
			`gitlab-ha:monitoring.labels["release"]: "kube prometheus"`},
		{"a namespace that is no name", map[string]any{"prometheusNamespace": "Monitoring"},
			`gitlab-ha:monitoring.prometheusNamespace: "Monitoring" is not a valid DNS label`},
		{"thresholds without the operator", map[string]any{"alerts": map[string]any{"errorRatio": 0.1}},
			"gitlab-ha:monitoring.alerts: is set, but monitoring.prometheusOperator is false"},
		{"an unknown key", map[string]any{"prometheusOperator": true, "alertz": map[string]any{}},
			`gitlab-ha:monitoring: "{\"alertz\":{},\"prometheusOperator\":true}" cannot be read: unknown field "alertz"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			result := load(t, "prod").withMonitoring(c.monitoring).program(t)
			require.Error(t, result.Err)
			assert.Contains(t, result.Err.Error(), c.want)
			assert.Equal(t, 1, strings.Count(result.Err.Error(), "gitlab-ha:"), "one error: %s", result.Err)
			assert.Empty(t, result.Resources, "a bad configuration registers nothing")
		})
	}
}

func TestThresholdsFromConfigurationReachTheRules(t *testing.T) {
	result := load(t, "prod").withMonitoring(map[string]any{"prometheusOperator": true,
		"alerts": map[string]any{"errorRatio": 0.02, "zoneDownFor": "2m", "backupMargin": "3h"}}).program(t)
	require.NoError(t, result.Err)
	rule, _ := result.Find(prometheusRuleType, "gitlab-alerts")
	byName := map[string]map[string]any{}
	for _, r := range rule.MustInput(t, "spec.groups[0].rules").([]any) {
		byName[r.(map[string]any)["alert"].(string)] = r.(map[string]any)
	}
	assert.True(t, strings.HasSuffix(byName[monitoring.AlertHighErrorRatio]["expr"].(string), "> 0.02"))
	assert.Equal(t, "2m", byName[monitoring.AlertZoneDown]["for"])
	assert.Contains(t, byName[monitoring.AlertBackupMissed]["expr"], "> 118800", "a day, 6h and 3h")
}

func TestGitalysMetricsPortOpensToThePrometheusNamespace(t *testing.T) {
	result := load(t, "prod").withGit(map[string]any{"kind": "gitaly"}).
		withMonitoring(map[string]any{"prometheusOperator": true, "prometheusNamespace": "observability"}).program(t)
	require.NoError(t, result.Err)
	policy, ok := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", stacks.GitalyName)
	require.True(t, ok)
	assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "observability"},
		policy.InputMap("spec.ingress[1].from[0].namespaceSelector.matchLabels"))
}
