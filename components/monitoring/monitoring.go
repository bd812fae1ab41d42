// Package monitoring is the in-cluster half of watching GitLab, for a cluster that runs the Prometheus
// Operator: PodMonitors for the exporters of every zone's GitLab pod (and of the Gitaly pods with Git storage
// gitaly), a Probe of GitLab's certificate through a blackbox exporter, a PrometheusRule with the alerts an
// operator of this design needs (Rules), and a Grafana dashboard with a row per zone, as a ConfigMap the
// Grafana sidecar picks up.
//
// The alerts are data (Rule): the same values render the PrometheusRule and the rule file promtool tests
// (testdata/alerts_test.yaml, `make validate`).
package monitoring

import (
	"encoding/json"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// APIVersion of the Prometheus Operator's kinds.
const APIVersion = "monitoring.coreos.com/v1"

// TypeToken is the component's Pulumi type.
const TypeToken = "gitlab-ha:monitoring:Monitoring"

// Monitoring is the component.
type Monitoring struct {
	pulumi.ResourceState

	// PodMonitors are the PodMonitors' names; PrometheusRule, Probe ("" without TLS) and Dashboard the
	// PrometheusRule's, the Probe's and the dashboard ConfigMap's.
	PodMonitors    pulumi.StringArrayOutput
	PrometheusRule pulumi.StringOutput
	Probe          pulumi.StringOutput
	Dashboard      pulumi.StringOutput
	// Alerts are the alerts' names, in the rule's order.
	Alerts pulumi.StringArrayOutput
}

// exporter is one metrics endpoint of a pod: its named container port, its path, and the job suffix its
// series carry (job=<instance>-<suffix>), which the rules select by.
type exporter struct {
	port, path, job string
}

// The GitLab zone pods' exporters (Omnibus's names and ports: puma['exporter_port'] 8083,
// sidekiq['metrics_port'] 8082, gitlab_workhorse['prometheus_listen_addr'] 9229, gitlab_exporter 9168,
// nginx['status'] 8060, gitaly's prometheus_listen_addr 9236, gitlab_sshd 9122), and the Gitaly pods'.
var (
	pumaExporter      = exporter{"puma-metrics", "/metrics", "puma"}
	sidekiqExporter   = exporter{"sidekiq-metrics", "/metrics", "sidekiq"}
	workhorseExporter = exporter{"workhorse", "/metrics", "workhorse"}
	gitLabExporter    = exporter{"gl-exporter", "/metrics", "exporter"}
	nginxExporter     = exporter{"nginx-status", "/metrics", "nginx"}
	gitalyExporter    = exporter{"gitaly-metrics", "/metrics", "gitaly"}
	sshdExporter      = exporter{"sshd-metrics", "/metrics", "sshd"}
	// certificateProbe is the Probe's job.
	certificateProbe = exporter{job: "certificate"}
)

// job is the job label of an exporter's series.
func (a MonitoringArgs) job(e exporter) string { return a.Instance + "-" + e.job }

// zoneExporters are the endpoints every zone pod serves; a port a pod lacks (sshd where gitlab-sshd does not
// run) simply yields no target.
func (a MonitoringArgs) zoneExporters() []exporter {
	list := []exporter{pumaExporter, sidekiqExporter, workhorseExporter, gitLabExporter, nginxExporter, sshdExporter}
	if a.GitStorage == GitNFS {
		list = append(list, gitalyExporter)
	}
	return list
}

// NewMonitoring registers the monitors, the rule and the dashboard.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if err := ValidateMonitoring(args); err != nil {
		return nil, err
	}
	a := args.defaulted()
	component := &Monitoring{}
	if err := ctx.RegisterComponentResource(TypeToken, name, component, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(component)
	labels := func(extra map[string]string) pulumi.StringMap {
		l := pulumi.StringMap{
			"app.kubernetes.io/name": pulumi.String("gitlab"), "app.kubernetes.io/instance": pulumi.String(a.Instance),
			"app.kubernetes.io/component": pulumi.String("monitoring"), "app.kubernetes.io/part-of": pulumi.String("gitlab-ha"),
			"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
		}
		for k, v := range extra {
			l[k] = pulumi.String(v)
		}
		return l
	}
	meta := func(objectName string, extra map[string]string, annotations pulumi.StringMap) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: a.Namespace, Labels: labels(extra), Annotations: annotations}
	}
	custom := func(kind, objectName string, spec any) (*apiextensions.CustomResource, error) {
		return apiextensions.NewCustomResource(ctx, objectName, &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String(APIVersion), Kind: pulumi.String(kind), Metadata: meta(objectName, a.Labels, nil),
			OtherFields: kubernetes.UntypedArgs{"spec": spec},
		}, parent)
	}

	monitors := pulumi.StringArray{}
	zoneMonitor := a.Instance + "-zones"
	if _, err := custom("PodMonitor", zoneMonitor, podMonitorSpec(a, map[string]string{
		"app.kubernetes.io/name": "gitlab", "app.kubernetes.io/instance": a.Instance, "app.kubernetes.io/component": "webservice",
	}, nil, a.zoneExporters())); err != nil {
		return nil, err
	}
	monitors = append(monitors, pulumi.String(zoneMonitor))
	if a.GitStorage == GitGitaly {
		gitalyMonitor := a.Instance + "-gitaly"
		if _, err := custom("PodMonitor", gitalyMonitor, podMonitorSpec(a, map[string]string{
			"app.kubernetes.io/name": "gitaly", "app.kubernetes.io/instance": a.GitalyInstance,
		}, []string{a.GitalyNamespace}, []exporter{gitalyExporter})); err != nil {
			return nil, err
		}
		monitors = append(monitors, pulumi.String(gitalyMonitor))
	}

	probe := pulumi.String("").ToStringOutput()
	if a.servesTLS() {
		probeName := a.Instance + "-certificate"
		if _, err := custom("Probe", probeName, map[string]any{
			"jobName": a.job(certificateProbe), "module": a.BlackboxModule, "interval": "5m",
			"prober":  map[string]any{"url": a.BlackboxExporter, "path": "/probe"},
			"targets": map[string]any{"staticConfig": map[string]any{"static": []any{a.ExternalURL}}},
		}); err != nil {
			return nil, err
		}
		probe = pulumi.String(probeName).ToStringOutput()
	}

	rules := Rules(&a)
	ruleName := a.Instance + "-alerts"
	if _, err := custom("PrometheusRule", ruleName, RuleGroups(rules)); err != nil {
		return nil, err
	}

	dashboard, err := json.MarshalIndent(Dashboard(&a), "", "  ")
	if err != nil {
		return nil, err
	}
	dashboardName := a.Instance + "-dashboard"
	if _, err := corev1.NewConfigMap(ctx, dashboardName, &corev1.ConfigMapArgs{
		Metadata: meta(dashboardName, a.DashboardLabels, pulumi.StringMap{DashboardFolderAnnotation: pulumi.String(a.DashboardFolder)}),
		Data:     pulumi.StringMap{a.Instance + ".json": pulumi.String(string(dashboard))},
	}, parent); err != nil {
		return nil, err
	}

	alerts := pulumi.StringArray{}
	for _, r := range rules {
		alerts = append(alerts, pulumi.String(r.Alert))
	}
	component.PodMonitors = monitors.ToStringArrayOutput()
	component.PrometheusRule = pulumi.String(ruleName).ToStringOutput()
	component.Probe = probe
	component.Dashboard = pulumi.String(dashboardName).ToStringOutput()
	component.Alerts = alerts.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{
		"podMonitors": component.PodMonitors, "prometheusRule": component.PrometheusRule, "probe": component.Probe,
		"dashboard": component.Dashboard, "alerts": component.Alerts,
	}); err != nil {
		return nil, err
	}
	return component, nil
}

// podMonitorSpec selects pods by labels (in namespaces, or the monitor's own), scrapes each exporter with its
// job label, and keeps the pod's zone label on every series.
func podMonitorSpec(a MonitoringArgs, selector map[string]string, namespaces []string, exporters []exporter) map[string]any {
	matchLabels := map[string]any{}
	for k, v := range selector {
		matchLabels[k] = v
	}
	endpoints := []any{}
	for _, e := range exporters {
		endpoints = append(endpoints, map[string]any{
			"port": e.port, "path": e.path, "interval": "30s",
			"relabelings": []any{map[string]any{"action": "replace", "targetLabel": "job", "replacement": a.job(e)}},
		})
	}
	spec := map[string]any{
		"selector":            map[string]any{"matchLabels": matchLabels},
		"podTargetLabels":     []any{"zone"},
		"podMetricsEndpoints": endpoints,
	}
	if len(namespaces) > 0 {
		names := []any{}
		for _, n := range namespaces {
			names = append(names, n)
		}
		spec["namespaceSelector"] = map[string]any{"matchNames": names}
	}
	return spec
}
