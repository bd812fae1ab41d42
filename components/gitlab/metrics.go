package gitlab

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Metrics out of every zone's pod: the exporters GitLab documents for a multi-node install, each on the pod's
// address and a named container port, for the cluster's Prometheus to scrape; none of Omnibus's bundled
// Prometheus, Alertmanager or node exporter, which would be one Prometheus per pod scraping only itself. Read
// against Omnibus 18.11.11+ce.0 (files/gitlab-cookbooks/): gitlab/attributes/default.rb (Puma's exporter
// 786-788, Sidekiq's 811-817, gitlab-sshd's 861, Workhorse's 908, NGINX status 1053-1063),
// monitoring/attributes/default.rb (gitlab-exporter 115-122), gitaly/attributes/default.rb (16).

// DefaultScraperNamespace is where kube-prometheus and kube-prometheus-stack's guides run Prometheus.
const DefaultScraperNamespace = "monitoring"

// Names of the metrics ports (container ports, and the ports a PodMonitor names), each serving /metrics.
const (
	PumaMetricsPort      = "puma-metrics"
	SidekiqMetricsPort   = "sidekiq-metrics"
	WorkhorseMetricsPort = "workhorse"
	ExporterMetricsPort  = "gl-exporter"
	NGINXMetricsPort     = "nginx-status"
	GitalyMetricsPort    = "gitaly-metrics"
	SSHDMetricsPort      = "sshd-metrics"
)

// Omnibus's own default ports for each exporter, kept: only the listen address moves off localhost.
const (
	pumaExporterPort     = 8083
	sidekiqExporterPort  = 8082
	workhorseMetricsPort = 9229
	gitlabExporterPort   = 9168
	nginxStatusPort      = 8060
	gitalyMetricsPort    = 9236
	sshdMetricsPort      = 9122
)

// What the alerts on the Jobs need to know of them: how long a migration Job and a backup run may take before
// their own deadline stops them.
const (
	MigrationDeadline = migrationDeadlineSeconds * time.Second
	BackupDeadline    = backupDeadlineSeconds * time.Second
)

// GitalyLatencyBuckets are the buckets of Gitaly's gRPC handling-time histogram (gitaly['configuration']
// prometheus.grpc_latency_buckets): Gitaly registers grpc_server_handling_seconds only when they are set, and the
// Git storage latency alert reads it. They are the ones Omnibus's gitlab.rb.template shows (2824-2826).
var GitalyLatencyBuckets = []float64{0.001, 0.005, 0.025, 0.1, 0.5, 1, 10, 30, 60, 300, 1500}

// GitalyPrometheusSettings is Gitaly's prometheus setting as a Ruby hash, for every Gitaly the stack runs: the
// zones' own and the Gitaly StatefulSets'.
func GitalyPrometheusSettings() string {
	buckets := make([]string, len(GitalyLatencyBuckets))
	for i, b := range GitalyLatencyBuckets {
		buckets[i] = strconv.FormatFloat(b, 'f', -1, 64)
		if !strings.Contains(buckets[i], ".") {
			buckets[i] += ".0" // floats, as the template writes them
		}
	}
	return "{ grpc_latency_buckets: [" + strings.Join(buckets, ", ") + "] }"
}

// Metrics says who may scrape the exporters.
type Metrics struct {
	// ScraperNamespace is the namespace whose pods may scrape the exporters: a NetworkPolicy admits the metrics
	// ports from it alone (by its kubernetes.io/metadata.name label). Default DefaultScraperNamespace.
	ScraperNamespace string
	// ScraperLabels narrow the admitted pods in ScraperNamespace to those carrying these labels. Default none:
	// every pod there.
	ScraperLabels map[string]string
}

// metricsPorts are the exporters a zone's pod runs: Gitaly's where the pod runs Gitaly (its storage is NFS),
// gitlab-sshd's where it serves SSH.
func metricsPorts(args GitLabArgs) []containerPort {
	ports := []containerPort{
		{PumaMetricsPort, pumaExporterPort}, {SidekiqMetricsPort, sidekiqExporterPort},
		{WorkhorseMetricsPort, workhorseMetricsPort}, {ExporterMetricsPort, gitlabExporterPort},
		{NGINXMetricsPort, nginxStatusPort},
	}
	if !args.GitStorage.stateless() {
		ports = append(ports, containerPort{GitalyMetricsPort, gitalyMetricsPort})
	}
	if args.Service.ProxyProtocol != nil {
		ports = append(ports, containerPort{SSHDMetricsPort, sshdMetricsPort})
	}
	return ports
}

// metricsSettings is what renderMetrics needs of the pod.
type metricsSettings struct {
	gitaly, sshd bool
}

// bundledMonitoring are the services of Omnibus's monitoring group that stay off. The group's switch,
// prometheus_monitoring['enable'], is not used: false disables the whole group (monitoring/libraries/
// prometheus.rb:44), gitlab-exporter with it, whatever gitlab_exporter['enable'] says.
var bundledMonitoring = []string{"prometheus", "alertmanager", "node_exporter", "redis_exporter", "postgres_exporter", "pgbouncer_exporter"}

// renderMetrics turns the exporters on, on the pod's address, and the bundled monitoring off.
func renderMetrics(line func(string, ...any), m metricsSettings) {
	line("# Metrics: every exporter on the pod's address, for the cluster's Prometheus (the metrics NetworkPolicy")
	line("# admits only its namespace); none of the bundled Prometheus stack, which would scrape only this pod.")
	for _, service := range bundledMonitoring {
		line("%s['enable'] = false", service)
	}
	line("puma['exporter_enabled'] = true")
	line("puma['exporter_address'] = '0.0.0.0'")
	line("puma['exporter_port'] = %d", pumaExporterPort)
	line("sidekiq['metrics_enabled'] = true")
	line("sidekiq['listen_address'] = '0.0.0.0'")
	line("sidekiq['listen_port'] = %d", sidekiqExporterPort)
	line("gitlab_workhorse['prometheus_listen_addr'] = '0.0.0.0:%d'", workhorseMetricsPort)
	line("gitlab_exporter['enable'] = true")
	line("gitlab_exporter['listen_address'] = '0.0.0.0'")
	line("gitlab_exporter['listen_port'] = '%d'", gitlabExporterPort)
	// The status server listens on every address already; its default allows 127.0.0.1 alone, and the
	// NetworkPolicy is what admits the scraper.
	line("nginx['status']['options'] = { 'server_tokens' => 'off', 'access_log' => 'off' }")
	if m.gitaly {
		// Merged into the configuration the Git storage may have set (the storage NFS keeps).
		line("gitaly['configuration'] = (gitaly['configuration'] || {}).merge(prometheus_listen_addr: '0.0.0.0:%d', prometheus: %s)",
			gitalyMetricsPort, GitalyPrometheusSettings())
	}
	if m.sshd {
		line("gitlab_sshd['metrics_address'] = '0.0.0.0:%d'", sshdMetricsPort)
	}
}

// validateMetrics checks who may scrape.
func validateMetrics(m Metrics) error {
	if err := validate.DNSLabel("metrics.scraperNamespace", m.ScraperNamespace); err != nil {
		return err
	}
	for key, value := range m.ScraperLabels {
		if err := validate.LabelKey(fmt.Sprintf("metrics.scraperLabels[%q]", key), key); err != nil {
			return err
		}
		if err := validate.LabelValue(fmt.Sprintf("metrics.scraperLabels[%q]", key), value); err != nil {
			return err
		}
	}
	return nil
}

// newMetricsNetworkPolicy admits the metrics ports from the scraper's namespace (and labels) alone. It stands
// beside the traffic policy, which admits the Service's ports from anywhere: Kubernetes adds policies up.
func newMetricsNetworkPolicy(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	args GitLabArgs) (*networkingv1.NetworkPolicy, error) {
	var ports networkingv1.NetworkPolicyPortArray
	for _, p := range metricsPorts(args) {
		ports = append(ports, &networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(p.port), Protocol: pulumi.String("TCP")})
	}
	from := &networkingv1.NetworkPolicyPeerArgs{
		NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
			"kubernetes.io/metadata.name": pulumi.String(args.Metrics.ScraperNamespace)}},
	}
	if len(args.Metrics.ScraperLabels) > 0 {
		from.PodSelector = &metav1.LabelSelectorArgs{MatchLabels: toStringMap(args.Metrics.ScraperLabels)}
	}
	objectName := name + "-metrics"
	return networkingv1.NewNetworkPolicy(ctx, objectName, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(objectName),
			Namespace: namespace,
			Labels:    toStringMap(standardLabels(name, WebserviceComponent)),
		},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: toStringMap(selectorLabels(name, WebserviceComponent))},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{from}, Ports: ports}},
		},
	}, pulumi.Parent(parent))
}
