package gitaly_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly"
)

const statefulSetType = "kubernetes:apps/v1:StatefulSet"

func threePools() *gitaly.GitalyArgs {
	args := &gitaly.GitalyArgs{StorageClass: "linode-block-storage-retain", GitLabURL: pulumi.String("http://gitlab.gitlab.svc")}
	for _, pool := range []string{"pool-a", "pool-b", "pool-c"} {
		args.Zones = append(args.Zones, gitaly.Zone{Name: pool, NodeSelector: map[string]string{"gitlab-ha.io/zone": pool}})
	}
	return args
}

func deploy(t *testing.T, args *gitaly.GitalyArgs) (*componenttest.Result, *gitaly.Gitaly) {
	t.Helper()
	var g *gitaly.Gitaly
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		var err error
		g, err = gitaly.NewGitaly(ctx, "gitaly", args)
		return err
	})
	require.NoError(t, result.Err)
	return result, g
}

func TestEachZoneGetsAGitalyPinnedToItsNodesOnAVolumeOfItsOwn(t *testing.T) {
	result, g := deploy(t, threePools())
	sets := result.OfType(statefulSetType)
	require.Len(t, sets, 3)
	for _, pool := range []string{"pool-a", "pool-b", "pool-c"} {
		set, ok := result.Find(statefulSetType, "gitaly-"+pool)
		require.True(t, ok)
		assert.Equal(t, "gitlab-gitaly", set.InputString("metadata.namespace"))
		assert.Equal(t, map[string]string{"gitlab-ha.io/zone": pool}, set.InputMap("spec.template.spec.nodeSelector"))
		assert.Equal(t, pool, set.InputMap("spec.template.metadata.labels")["zone"])
		assert.EqualValues(t, 1, set.MustInput(t, "spec.replicas"))
		assert.Equal(t, "linode-block-storage-retain", set.InputString("spec.volumeClaimTemplates[0].spec.storageClassName"))
		assert.Equal(t, "ReadWriteOnce", set.InputString("spec.volumeClaimTemplates[0].spec.accessModes[0]"))
		assert.Equal(t, "100Gi", set.InputString("spec.volumeClaimTemplates[0].spec.resources.requests.storage"))
		assert.Equal(t, "Retain", set.InputString("spec.persistentVolumeClaimRetentionPolicy.whenDeleted"), "deleting the StatefulSet keeps the repositories")
		assert.Equal(t, "gitlab/gitlab-ce:18.11.11-ce.0", set.InputString("spec.template.spec.containers[0].image"), "the release GitLab runs")
		assert.Equal(t, "/var/opt/gitlab/git-data", set.InputString("spec.template.spec.containers[0].volumeMounts[3].mountPath"))
		service, ok := result.Find("kubernetes:core/v1:Service", "gitaly-"+pool)
		require.True(t, ok)
		assert.Equal(t, map[string]string{"app.kubernetes.io/name": "gitaly", "app.kubernetes.io/instance": "gitaly", "zone": pool},
			service.InputMap("spec.selector"), "a zone's Service reaches that zone's Gitaly alone")
	}
	addresses := componenttest.MustAwait(t, g.Addresses.ToStringMapOutput()).Value.(map[string]string)
	assert.Equal(t, "tcp://gitaly-pool-b.gitlab-gitaly.svc:8075", addresses["pool-b"])
}

func TestTheFirstZoneAlsoServesTheEmptyDefaultStorageGitLabRequires(t *testing.T) {
	result, g := deploy(t, threePools())
	config := func(pool string) string {
		configMap, ok := result.Find("kubernetes:core/v1:ConfigMap", "gitaly-"+pool)
		require.True(t, ok)
		return configMap.InputString(`data["GITLAB_OMNIBUS_CONFIG"]`)
	}
	assert.Contains(t, config("pool-a"), "{ name: 'gitaly-pool-a', path: '/var/opt/gitlab/git-data/repositories' },")
	assert.Contains(t, config("pool-a"), "{ name: 'default', path: '/var/opt/gitlab/git-data/default' },")
	assert.NotContains(t, config("pool-b"), "'default'")
	assert.Contains(t, config("pool-b"), "gitaly_role['enable'] = true")
	assert.Contains(t, config("pool-b"), "gitlab_rails['internal_api_url'] = 'http://gitlab.gitlab.svc'")
	assert.Contains(t, config("pool-b"), "auth: { token: ENV.fetch('GITALY_AUTH_TOKEN') },")

	var names []string
	for _, r := range g.Repositories() {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"gitaly-pool-a", "gitaly-pool-b", "gitaly-pool-c", "default"}, names)
	assert.Equal(t, 0, *g.Repositories()[3].Weight, "no new repository goes to the placeholder")

	args := threePools()
	args.WithoutDefaultStorage = true
	result, g = deploy(t, args)
	assert.Len(t, g.Repositories(), 3, "while NFS holds default")
	assert.NotContains(t, config("pool-a"), "'default'")
}

func TestOnlyGitLabsNamespaceReachesGitalyAndTheTokensStaySecret(t *testing.T) {
	result, g := deploy(t, threePools())
	policy, ok := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitaly")
	require.True(t, ok)
	assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "gitlab"},
		policy.InputMap("spec.ingress[0].from[0].namespaceSelector.matchLabels"))
	assert.EqualValues(t, 8075, policy.MustInput(t, "spec.ingress[0].ports[0].port"))
	assert.EqualValues(t, 80, policy.MustInput(t, "spec.egress[0].ports[0].port"), "Gitaly's hooks reach GitLab's internal API, and no more")

	token := componenttest.MustAwait(t, g.AuthToken)
	shell := componenttest.MustAwait(t, g.ShellSecret)
	assert.True(t, token.Secret && shell.Secret)
	assert.Empty(t, result.PlaintextLeaks(token.Value.(string), shell.Value.(string)))
}

func TestBadArgumentsAreRefusedNamingTheField(t *testing.T) {
	cases := map[string]struct {
		edit func(*gitaly.GitalyArgs)
		want string
	}{
		"no zones":       {func(a *gitaly.GitalyArgs) { a.Zones = nil }, "zones: needs at least one zone"},
		"no class":       {func(a *gitaly.GitalyArgs) { a.StorageClass = "" }, "storageClass"},
		"repeated zone":  {func(a *gitaly.GitalyArgs) { a.Zones[2].Name = "pool-a" }, `zones[2].name: "pool-a" repeats zones[0].name`},
		"bad size":       {func(a *gitaly.GitalyArgs) { a.VolumeSize = "lots" }, "volumeSize"},
		"no URL":         {func(a *gitaly.GitalyArgs) { a.GitLabURL = nil }, "gitLabURL"},
		"URL not http":   {func(a *gitaly.GitalyArgs) { a.GitLabURL = pulumi.String("gitlab.gitlab.svc") }, `gitLabURL: "gitlab.gitlab.svc" is not an http://`},
		"empty selector": {func(a *gitaly.GitalyArgs) { a.Zones[1].NodeSelector = map[string]string{} }, "zones[1].nodeSelector"},
		"long zone name": {func(a *gitaly.GitalyArgs) { a.Zones[0].Name = strings.Repeat("z", 46) }, "longer than 52"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := threePools()
			c.edit(args)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := gitaly.NewGitaly(ctx, "gitaly", args)
				return err
			}, c.want)
		})
	}
}

func TestGitalyServesMetricsToTheMonitoringNamespaceAlone(t *testing.T) {
	args := threePools()
	args.MonitoringNamespace = "observability"
	result, _ := deploy(t, args)
	set, ok := result.Find(statefulSetType, "gitaly-pool-a")
	require.True(t, ok)
	assert.Equal(t, "gitaly-metrics", set.InputString("spec.template.spec.containers[0].ports[1].name"))
	assert.EqualValues(t, 9236, set.MustInput(t, "spec.template.spec.containers[0].ports[1].containerPort"))
	configMap, ok := result.Find("kubernetes:core/v1:ConfigMap", "gitaly-pool-a")
	require.True(t, ok)
	config := configMap.InputMap("data")["GITLAB_OMNIBUS_CONFIG"]
	assert.Contains(t, config, "prometheus_listen_addr: '0.0.0.0:9236',", "Omnibus's default is localhost:9236, which no Prometheus reaches")
	assert.Contains(t, config, "prometheus: { grpc_latency_buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 10.0, 30.0, 60.0, 300.0, 1500.0] },",
		"without buckets Gitaly registers no grpc_server_handling_seconds histogram, which GitLabGitStorageLatency reads")
	policy, _ := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitaly")
	assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "observability"},
		policy.InputMap("spec.ingress[1].from[0].namespaceSelector.matchLabels"))
	assert.EqualValues(t, 9236, policy.MustInput(t, "spec.ingress[1].ports[0].port"))
	assert.Len(t, policy.MustInput(t, "spec.ingress"), 2, "Gitaly's port to GitLab, its metrics to Prometheus, nothing else")
}
