package gitlab_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

const networkPolicyType = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

// policyPorts are the port numbers an ingress rule admits.
func policyPorts(t *testing.T, rule map[string]any) []float64 {
	t.Helper()
	var ports []float64
	for _, raw := range rule["ports"].([]any) {
		ports = append(ports, raw.(map[string]any)["port"].(float64))
	}
	return ports
}

// withoutMetrics are a container's ports but the exporters'.
func withoutMetrics(ports map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for name, port := range ports {
		switch name {
		case gitlab.PumaMetricsPort, gitlab.SidekiqMetricsPort, gitlab.WorkhorseMetricsPort, gitlab.ExporterMetricsPort,
			gitlab.NGINXMetricsPort, gitlab.GitalyMetricsPort, gitlab.SSHDMetricsPort:
		default:
			out[name] = port
		}
	}
	return out
}

// Every zone's pod runs the exporters GitLab documents for a multi-node install, each on the pod's address
// and Omnibus's own port, and none of the bundled Prometheus stack.
func TestEveryZonesPodServesTheExportersAndRunsNoBundledPrometheus(t *testing.T) {
	result, _ := deploy(t, threeZones())
	config := omnibusConfig(t, result)
	for _, line := range []string{
		"puma['exporter_enabled'] = true", "puma['exporter_address'] = '0.0.0.0'", "puma['exporter_port'] = 8083",
		"sidekiq['metrics_enabled'] = true", "sidekiq['listen_address'] = '0.0.0.0'", "sidekiq['listen_port'] = 8082",
		"gitlab_workhorse['prometheus_listen_addr'] = '0.0.0.0:9229'",
		"gitlab_exporter['enable'] = true", "gitlab_exporter['listen_address'] = '0.0.0.0'", "gitlab_exporter['listen_port'] = '9168'",
		"gitaly['configuration'] = (gitaly['configuration'] || {}).merge(prometheus_listen_addr: '0.0.0.0:9236', " +
			"prometheus: { grpc_latency_buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 10.0, 30.0, 60.0, 300.0, 1500.0] })",
		"prometheus['enable'] = false", "alertmanager['enable'] = false", "node_exporter['enable'] = false",
	} {
		assert.Contains(t, config, line+"\n")
	}
	// false would disable the whole monitoring group, gitlab-exporter with it.
	assert.NotContains(t, config, "prometheus_monitoring")
	assert.NotContains(t, config, "gitlab_sshd['metrics_address']", "OpenSSH serves SSH here")

	ports, _ := zoneContainer(t, result)
	for name, port := range map[string]float64{
		gitlab.PumaMetricsPort: 8083, gitlab.SidekiqMetricsPort: 8082, gitlab.WorkhorseMetricsPort: 9229,
		gitlab.ExporterMetricsPort: 9168, gitlab.NGINXMetricsPort: 8060, gitlab.GitalyMetricsPort: 9236,
	} {
		assert.Equal(t, port, ports[name], "container port %s", name)
	}
}

// Gitaly's exporter is there only where the zone's pod runs Gitaly; gitlab-sshd's only where it serves SSH.
func TestGitalyAndSSHDExportersFollowWhatThePodRuns(t *testing.T) {
	result, _ := deploy(t, onGitaly())
	config := omnibusConfig(t, result)
	assert.NotContains(t, config, "gitaly['configuration']", "the pod runs no Gitaly")
	ports, _ := zoneContainer(t, result)
	assert.NotContains(t, ports, gitlab.GitalyMetricsPort)

	kept := onS3()
	kept.GitStorage = gitlab.GitStorage{KeepNFS: true, ShellSecret: pulumi.String(shellSecret), Repositories: []gitlab.RepositoryStorage{
		{Name: "cluster", Address: pulumi.String("tcp://praefect.internal:2305"), Token: pulumi.String(praefectToken)},
	}}
	result, _ = deploy(t, kept)
	config = omnibusConfig(t, result)
	storage := strings.Index(config, "gitaly['configuration'] = { storage:")
	metrics := strings.Index(config, "gitaly['configuration'] = (gitaly['configuration'] || {}).merge(")
	require.True(t, storage >= 0 && metrics > storage, "the exporter's address merges into the storage NFS keeps, after it")

	proxied := threeZones()
	proxied.Service = gitlab.Service{Type: "LoadBalancer", ProxyProtocol: &gitlab.ProxyProtocol{TrustedCIDRs: []string{"192.168.255.0/24"}}}
	result, _ = deploy(t, proxied)
	assert.Contains(t, omnibusConfig(t, result), "gitlab_sshd['metrics_address'] = '0.0.0.0:9122'\n")
	ports, _ = zoneContainer(t, result)
	assert.Equal(t, float64(9122), ports[gitlab.SSHDMetricsPort])
}

// The Jobs' pods, which serve nobody, run no exporter.
func TestMigrationAndBackupPodsRunNoExporter(t *testing.T) {
	result, _ := deploy(t, threeZones())
	config := omnibusConfig(t, result)
	migrations := config[strings.Index(config, "if ENV['GITLAB_HA_MIGRATIONS'] == 'true'"):]
	migrations = migrations[:strings.Index(migrations, "else")]
	assert.Contains(t, migrations, "gitlab_exporter['enable'] = false")
}

// The metrics ports are admitted from the monitoring namespace alone, by a policy of their own; the traffic
// policy, open to every client, does not name them.
func TestOnlyTheScrapersNamespaceReachesTheMetricsPorts(t *testing.T) {
	result, _ := deploy(t, threeZones())
	policy, ok := result.Find(networkPolicyType, "gitlab-metrics")
	require.True(t, ok, "the metrics NetworkPolicy")
	rules := policy.MustInput(t, "spec.ingress").([]any)
	require.Len(t, rules, 1)
	rule := rules[0].(map[string]any)
	assert.ElementsMatch(t, []float64{8083, 8082, 9229, 9168, 8060, 9236}, policyPorts(t, rule))
	from := rule["from"].([]any)
	require.Len(t, from, 1)
	assert.Equal(t, map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "monitoring"}},
		from[0].(map[string]any)["namespaceSelector"])
	assert.NotContains(t, from[0], "podSelector", "every pod of the namespace, by default")
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "gitlab", "app.kubernetes.io/instance": "gitlab",
		"app.kubernetes.io/component": "webservice"}, policy.MustInput(t, "spec.podSelector.matchLabels"))

	traffic, _ := result.Find(networkPolicyType, "gitlab")
	for _, raw := range traffic.MustInput(t, "spec.ingress").([]any) {
		assert.NotContains(t, policyPorts(t, raw.(map[string]any)), float64(8083), "the traffic policy admits a metrics port")
	}

	args := threeZones()
	args.Metrics = gitlab.Metrics{ScraperNamespace: "observability", ScraperLabels: map[string]string{"app.kubernetes.io/name": "prometheus"}}
	result, _ = deploy(t, args)
	policy, _ = result.Find(networkPolicyType, "gitlab-metrics")
	peer := policy.MustInput(t, "spec.ingress").([]any)[0].(map[string]any)["from"].([]any)[0].(map[string]any)
	assert.Equal(t, "observability", peer["namespaceSelector"].(map[string]any)["matchLabels"].(map[string]any)["kubernetes.io/metadata.name"])
	assert.Equal(t, map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "prometheus"}}, peer["podSelector"])
}

func TestAScraperThatCannotBeNamedIsRefusedBeforeAnythingIsRegistered(t *testing.T) {
	for _, tc := range []struct {
		metrics gitlab.Metrics
		want    string
	}{
		{gitlab.Metrics{ScraperNamespace: "Monitoring"}, `metrics.scraperNamespace: "Monitoring" is not a valid DNS label`},
		{gitlab.Metrics{ScraperLabels: map[string]string{"app/": "x"}}, `metrics.scraperLabels["app/"]: "app/" is not a valid label key`},
		{gitlab.Metrics{ScraperLabels: map[string]string{"app": "a b"}}, `metrics.scraperLabels["app"]: "a b" is not a valid label value`},
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			args := threeZones()
			args.Metrics = tc.metrics
			_, err := gitlab.NewGitLab(ctx, "gitlab", args)
			return err
		}, tc.want)
	}
}
