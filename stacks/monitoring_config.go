package stacks

// MonitoringConfig is gitlab-ha:monitoring: what watches the stack. The GitLab pods' exporters are always on;
// the rest is chosen here.
type MonitoringConfig struct {
	// PrometheusNamespace is where the cluster's Prometheus runs: the only namespace whose pods may scrape
	// GitLab's exporters. Default "monitoring".
	PrometheusNamespace string `json:"prometheusNamespace,omitempty"`
	// PrometheusPodLabels narrow the scrapers to the pods in PrometheusNamespace with these labels. Default
	// none: every pod there.
	PrometheusPodLabels map[string]string `json:"prometheusPodLabels,omitempty"`
	// PrometheusOperator registers PodMonitors, a PrometheusRule and a Grafana dashboard for the cluster's
	// Prometheus Operator. Default false: their CRDs must exist in the cluster before `pulumi up`.
	PrometheusOperator bool `json:"prometheusOperator,omitempty"`
	// Alerts are the PrometheusRule's thresholds and periods (monitoring_alerts_config.go).
	Alerts AlertsConfig `json:"alerts,omitempty"`
	// CloudWatch are the AWS alarms and their SNS topic (monitoring_cloudwatch_config.go).
	CloudWatch CloudWatchConfig `json:"cloudWatch,omitempty"`
}

// validateMonitoring checks gitlab-ha:monitoring.
func (c *Config) validateMonitoring(key func(string) string) error {
	if err := c.Monitoring.Alerts.validate(key); err != nil {
		return err
	}
	return c.Monitoring.CloudWatch.validate(key, c.Platform)
}
