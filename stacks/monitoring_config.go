package stacks

import (
	"fmt"
	"reflect"

	"github.com/gitlab-ha/gitlab-ha/components/monitoring"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// MonitoringConfig is gitlab-ha:monitoring: what watches the stack. The GitLab pods' exporters are always on;
// the rest is chosen here.
type MonitoringConfig struct {
	// PrometheusPodLabels narrow the scrapers to the pods in PrometheusNamespace with these labels. Default
	// none: every pod there.
	PrometheusPodLabels map[string]string `json:"prometheusPodLabels,omitempty"`
	// PrometheusOperator registers PodMonitors, a PrometheusRule and a Grafana dashboard for the cluster's
	// Prometheus Operator. Default false: their CRDs must exist in the cluster before `pulumi up`.
	PrometheusOperator bool `json:"prometheusOperator,omitempty"`
	// PrometheusNamespace is where the cluster's Prometheus runs: the exporters' ports are open to it alone.
	// Default DefaultPrometheusNamespace, kube-prometheus's.
	PrometheusNamespace string `json:"prometheusNamespace,omitempty"`
	// Labels go on the PodMonitors, Probe and PrometheusRule so that the cluster's Prometheus selects them.
	// Default none: kube-prometheus's Prometheus selects every monitor; kube-prometheus-stack's selects
	// `release: <its Helm release name>` (set that here) unless its *SelectorNilUsesHelmValues are false.
	Labels map[string]string `json:"labels,omitempty"`
	// BlackboxExporter is the blackbox exporter (host:port) that probes GitLab's certificate where GitLab
	// serves TLS. Default monitoring.DefaultBlackboxExporter, kube-prometheus's.
	BlackboxExporter string `json:"blackboxExporter,omitempty"`
	// DashboardLabels mark the dashboard's ConfigMap for the Grafana sidecar. Default
	// monitoring.DefaultDashboardLabel (grafana_dashboard: "1", the sidecar's default).
	DashboardLabels map[string]string `json:"dashboardLabels,omitempty"`
	// DashboardFolder is the Grafana folder of the dashboard. Default monitoring.DefaultDashboardFolder.
	DashboardFolder string `json:"dashboardFolder,omitempty"`
	// Alerts are the PrometheusRule's thresholds and periods (monitoring_alerts_config.go).
	Alerts AlertsConfig `json:"alerts,omitempty"`
	// CloudWatch are the AWS alarms and their SNS topic (monitoring_cloudwatch_config.go).
	CloudWatch CloudWatchConfig `json:"cloudWatch,omitempty"`
}

// DefaultPrometheusNamespace is kube-prometheus's (and the usual kube-prometheus-stack install's) namespace.
const DefaultPrometheusNamespace = "monitoring"

// PrometheusNamespaceName is monitoring.prometheusNamespace, or DefaultPrometheusNamespace.
func (c *Config) PrometheusNamespaceName() string {
	if c.Monitoring.PrometheusNamespace == "" {
		return DefaultPrometheusNamespace
	}
	return c.Monitoring.PrometheusNamespace
}

// validateMonitoring checks gitlab-ha:monitoring.
func (c *Config) validateMonitoring(key func(string) string) error {
	m := c.Monitoring
	if !m.PrometheusOperator {
		// The Prometheus Operator's keys without the operator would be silently ignored.
		for _, f := range []struct {
			field string
			set   bool
		}{
			{"labels", len(m.Labels) > 0}, {"blackboxExporter", m.BlackboxExporter != ""},
			{"dashboardLabels", len(m.DashboardLabels) > 0}, {"dashboardFolder", m.DashboardFolder != ""},
			{"alerts", !reflect.ValueOf(m.Alerts).IsZero()},
		} {
			if f.set {
				return validate.Errorf(key("monitoring."+f.field), nil, "is set, but monitoring.prometheusOperator is false; it configures the Prometheus Operator's objects")
			}
		}
	}
	if m.PrometheusNamespace != "" {
		if err := validate.DNSLabel(key("monitoring.prometheusNamespace"), m.PrometheusNamespace); err != nil {
			return err
		}
	}
	if err := m.Alerts.validate(key); err != nil {
		return err
	}
	if m.PrometheusOperator {
		// The component's own check, on the arguments the stack will give it, with its fields named as keys.
		err := monitoring.ValidateMonitoring(MonitoringArgs(c, nil))
		if field, ok := err.(*validate.Error); ok {
			return &validate.Error{Field: key(monitoringKey(field.Field)), Value: field.Value, Reason: field.Reason}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key("monitoring"), err)
		}
	}
	return c.Monitoring.CloudWatch.validate(key, c.Platform)
}

// monitoringKey maps a monitoring component field to its configuration key.
var monitoringKey = Renames("monitoring", map[string]string{
	"thresholds": "monitoring.alerts", "blackboxExporter": "monitoring.blackboxExporter", "labels": "monitoring.labels",
	"dashboardLabels": "monitoring.dashboardLabels", "dashboardFolder": "monitoring.dashboardFolder",
	"zones": "zones", "externalURL": "gitlab.host", "backupSchedule": "backup.schedule", "gitStorage": "gitStorage.kind",
})
