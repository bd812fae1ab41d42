package gitlab_test

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

func omnibusConfig(t *testing.T, result *componenttest.Result) string {
	t.Helper()
	configMap, ok := result.Find(configMapType, "gitlab-config")
	require.True(t, ok)
	return configMap.InputString(`data["GITLAB_OMNIBUS_CONFIG"]`)
}

func TestTheConfigurationPointsAtTheDatabaseAndReadsEverySecretFromTheEnvironment(t *testing.T) {
	result, _ := deploy(t, threeZones())
	config := omnibusConfig(t, result)

	assert.Contains(t, config, "external_url 'https://gitlab.example.com'")
	assert.Contains(t, config, "postgresql['enable'] = false")
	assert.Contains(t, config, "gitlab_rails['db_host'] = 'gitlab.cluster-abc.eu-west-1.rds.amazonaws.com'")
	assert.Contains(t, config, "gitlab_rails['db_port'] = 5432")
	assert.Contains(t, config, "gitlab_rails['db_sslmode'] = 'require'")
	assert.Contains(t, config, "gitlab_rails['db_password'] = ENV.fetch('GITLAB_DB_PASSWORD')")
	for _, key := range []string{"db_key_base", "secret_key_base", "otp_key_base", "encrypted_settings_key_base"} {
		assert.Contains(t, config, "gitlab_rails['"+key+"'] = ENV.fetch(", key)
	}
	assert.Contains(t, config, "nginx['listen_https'] = false", "without a TLS secret, TLS ends at the load balancer")
	assert.Contains(t, config, "letsencrypt['enable'] = false")

	gitlabSecret, ok := result.Find(secretType, "gitlab-secrets")
	require.True(t, ok)
	keys, _ := gitlabSecret.Input("stringData")
	var names []string
	for name := range keys.(map[string]any) {
		names = append(names, name)
	}
	sort.Strings(names)
	var fetched []string
	for _, m := range regexp.MustCompile(`ENV\.fetch\('([A-Z_]+)'\)`).FindAllStringSubmatch(config, -1) {
		if !slices.Contains(fetched, m[1]) {
			fetched = append(fetched, m[1])
		}
	}
	sort.Strings(fetched)
	assert.Equal(t, fetched, names, "every ENV.fetch in the configuration has a key in the Secret, and every key is read")
}

// Linode's provider marks the database's user secret. Written into gitlab.rb, that one value would make the whole
// ConfigMap secret: no plan diff could show a change to GitLab's configuration, and a value its provider calls
// secret would sit in a ConfigMap. The user travels as the password does, through the Secret.
func TestADatabaseUserTheProviderMarksSecretReachesGitLabThroughTheSecretAndTheConfigurationStaysPlain(t *testing.T) {
	args := threeZones()
	args.Database.User = pulumi.ToSecret(pulumi.String("linroot")).(pulumi.StringOutput)
	result, _ := deploy(t, args)

	configMap, ok := result.Find(configMapType, "gitlab-config")
	require.True(t, ok)
	assert.False(t, configMap.InputIsSecret(`data["GITLAB_OMNIBUS_CONFIG"]`), "gitlab.rb is plain text in the plan")
	config := omnibusConfig(t, result)
	assert.Contains(t, config, "gitlab_rails['db_username'] = ENV.fetch('GITLAB_DB_USERNAME')")
	assert.NotContains(t, config, "linroot")

	gitlabSecret, ok := result.Find(secretType, "gitlab-secrets")
	require.True(t, ok)
	assert.Equal(t, "linroot", gitlabSecret.InputString(`stringData["GITLAB_DB_USERNAME"]`))
	for _, deployment := range result.OfType(deploymentType) {
		assert.False(t, deployment.InputIsSecret(`spec.template.metadata.annotations["checksum/config"]`), deployment.Name)
	}
	assert.Contains(t, configMap.Dependencies, gitlabSecret.URN,
		"the ConfigMap waits for the Secret whose keys it reads, so no restarting pod reads a key not there yet")
}

func TestEveryZoneSharesOneSetOfKeysSoReplicasCanReadEachOthersData(t *testing.T) {
	result, _ := deploy(t, threeZones())
	for _, deployment := range result.OfType(deploymentType) {
		if deployment.Name == "gitlab-redis" {
			continue
		}
		assert.Equal(t, "gitlab-config", deployment.InputString("spec.template.spec.containers[0].envFrom[0].configMapRef.name"))
		assert.Equal(t, "gitlab-secrets", deployment.InputString("spec.template.spec.containers[0].envFrom[1].secretRef.name"))
	}
	assert.Len(t, result.OfType(passwordType), 18,
		"four key bases, nine other Omnibus secrets, three host key seeds, root and Redis passwords: generated once, not per zone")
}

func TestWithoutAnExternalRedisOneRedisRunsReachableOnlyFromGitLab(t *testing.T) {
	result, component := deploy(t, threeZones())
	_, ok := result.Find(deploymentType, "gitlab-redis")
	require.True(t, ok)
	policy, ok := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-redis")
	require.True(t, ok)
	assert.Equal(t, gitlab.WebserviceComponent, policy.InputMap("spec.ingress[0].from[0].podSelector.matchLabels")["app.kubernetes.io/component"])
	assert.Equal(t, gitlab.MigrationsComponent, policy.InputMap("spec.ingress[0].from[1].podSelector.matchLabels")["app.kubernetes.io/component"],
		"the migration Jobs seed and migrate through Redis too")
	assert.Equal(t, "gitlab-redis.gitlab.svc", componenttest.MustAwait(t, component.RedisHost).Value)
	assert.Contains(t, omnibusConfig(t, result), "gitlab_rails['redis_host'] = 'gitlab-redis.gitlab.svc'")
}

func TestAnExternalRedisReplacesTheInClusterOne(t *testing.T) {
	args := threeZones()
	args.Redis = &gitlab.Redis{Host: pulumi.String("master.redis.cache.amazonaws.com"), Password: pulumi.String("redis-token"), TLS: true}
	result, component := deploy(t, args)

	_, ok := result.Find(deploymentType, "gitlab-redis")
	assert.False(t, ok)
	config := omnibusConfig(t, result)
	assert.Contains(t, config, "gitlab_rails['redis_host'] = 'master.redis.cache.amazonaws.com'")
	assert.Contains(t, config, "gitlab_rails['redis_ssl'] = true")
	assert.Equal(t, "master.redis.cache.amazonaws.com", componenttest.MustAwait(t, component.RedisHost).Value)
	assert.Empty(t, result.PlaintextLeaks("redis-token"))
}

func TestAStorageClassZoneGetsAProvisionedClaimAndNoStaticVolume(t *testing.T) {
	args := threeZones()
	args.Zones = args.Zones[:1]
	args.Zones[0].Storage = gitlab.Storage{StorageClass: "linode-block-storage-retain", Size: "50Gi"}
	result, component := deploy(t, args)

	assert.Empty(t, result.OfType(pvType))
	claim, ok := result.Find(pvcType, "gitlab-eu-west-1a")
	require.True(t, ok)
	assert.Equal(t, "linode-block-storage-retain", claim.InputString("spec.storageClassName"))
	assert.Equal(t, []any{"ReadWriteOnce"}, claim.MustInput(t, "spec.accessModes"))
	assert.Equal(t, "50Gi", claim.InputString(`spec.resources.requests["storage"]`))
	deployment, ok := result.Find(deploymentType, "gitlab-eu-west-1a")
	require.True(t, ok)
	assert.Equal(t, "Recreate", deployment.InputString("spec.strategy.type"), "a ReadWriteOnce volume cannot be shared by old and new pod")
	assert.Empty(t, componenttest.MustAwait(t, component.PersistentVolumes).Value, "no static volume to name")
}

func TestAddingAZoneRenamesNothing(t *testing.T) {
	names := func(zones int) []string {
		args := threeZones()
		args.Zones = args.Zones[:zones]
		result, _ := deploy(t, args)
		var urns []string
		for _, r := range result.Resources {
			urns = append(urns, r.URN)
		}
		return urns
	}
	two, three := names(2), names(3)
	assert.Subset(t, three, two)
	assert.Len(t, three, len(two)+3, "one volume, claim and Deployment more")
}

func TestATLSSecretMakesGitLabServeHTTPS(t *testing.T) {
	args := threeZones()
	args.TLSSecretName = "gitlab-tls"
	args.Service = gitlab.Service{Type: "NodePort", NodePorts: gitlab.NodePorts{HTTP: 30080, HTTPS: 30443, SSH: 30022}}
	result, _ := deploy(t, args)

	service, ok := result.Find(serviceType, "gitlab")
	require.True(t, ok)
	ports := map[string]float64{}
	for i := 0; i < 3; i++ {
		port, _ := service.Input(fmt.Sprintf("spec.ports[%d]", i))
		p := port.(map[string]any)
		ports[p["name"].(string)] = p["nodePort"].(float64)
	}
	assert.Equal(t, map[string]float64{"http": 30080, "https": 30443, "ssh": 30022}, ports)
	assert.Contains(t, omnibusConfig(t, result), "nginx['ssl_certificate'] = '/etc/gitlab/ssl/tls.crt'")
	deployment, _ := result.Find(deploymentType, "gitlab-eu-west-1a")
	volumes, _ := deployment.Input("spec.template.spec.volumes")
	assert.Contains(t, volumes, map[string]any{"name": "tls", "secret": map[string]any{"secretName": "gitlab-tls"}})
}

func TestALoadBalancerServiceCarriesTheCallersAnnotationsAndSourceRanges(t *testing.T) {
	args := threeZones()
	args.Service = gitlab.Service{
		Type:                     "LoadBalancer",
		Annotations:              pulumi.StringMap{"service.beta.kubernetes.io/linode-loadbalancer-nodebalancer-id": pulumi.String("12345")},
		LoadBalancerSourceRanges: pulumi.StringArray{pulumi.String("198.51.100.0/24")},
	}
	result, _ := deploy(t, args)
	service, _ := result.Find(serviceType, "gitlab")
	assert.Equal(t, "12345", service.InputMap("metadata.annotations")["service.beta.kubernetes.io/linode-loadbalancer-nodebalancer-id"])
	assert.Equal(t, []any{"198.51.100.0/24"}, service.MustInput(t, "spec.loadBalancerSourceRanges"))
}

func TestPodsRunWithTheLeastPrivilegeOmnibusAllows(t *testing.T) {
	result, _ := deploy(t, threeZones())
	deployment, _ := result.Find(deploymentType, "gitlab-eu-west-1b")
	pod := "spec.template.spec."
	assert.Equal(t, false, deployment.MustInput(t, pod+"automountServiceAccountToken"))
	assert.Equal(t, "RuntimeDefault", deployment.InputString(pod+"securityContext.seccompProfile.type"))
	container := pod + "containers[0]."
	assert.Equal(t, false, deployment.MustInput(t, container+"securityContext.allowPrivilegeEscalation"))
	assert.Equal(t, []any{"ALL"}, deployment.MustInput(t, container+"securityContext.capabilities.drop"))
	assert.NotContains(t, deployment.MustInput(t, container+"securityContext.capabilities.add"), "NET_RAW")
	for _, probe := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
		_, ok := deployment.Input(container + probe + ".exec.command")
		assert.True(t, ok, probe)
	}
	assert.Equal(t, float64(900), deployment.MustInput(t, container+"startupProbe.periodSeconds").(float64)*
		deployment.MustInput(t, container+"startupProbe.failureThreshold").(float64), "15 minutes for the first start")
	assert.Equal(t, gitlab.DefaultImage, deployment.InputString(container+"image"))
	assert.Equal(t, "8Gi", deployment.InputString(container+`resources.limits["memory"]`))
}

func TestOutputsAreKeyedByZone(t *testing.T) {
	result, component := deploy(t, threeZones())
	deployments, claims, volumes := map[string]string{}, map[string]string{}, map[string]string{}
	for _, zone := range zoneNames {
		deployments[zone] = "gitlab-" + zone
		claims[zone] = objectName(t, result, pvcType, zone)
		volumes[zone] = objectName(t, result, pvType, zone)
		assert.Regexp(t, `^gitlab-`+zone+`-[0-9a-f]{8}$`, claims[zone], "the zone, then its volume's identity")
		assert.Regexp(t, `^gitlab-gitlab-`+zone+`-[0-9a-f]{8}$`, volumes[zone], "the namespace, the zone, then its identity")
	}
	assert.Equal(t, deployments, componenttest.MustAwait(t, component.Deployments).Value)
	assert.Equal(t, claims, componenttest.MustAwait(t, component.Claims).Value)
	assert.Equal(t, volumes, componenttest.MustAwait(t, component.PersistentVolumes).Value)
	assert.Equal(t, "gitlab", componenttest.MustAwait(t, component.ServiceName).Value)
	assert.Equal(t, "gitlab.example.com", componenttest.MustAwait(t, component.SSHHost).Value)
	assert.Equal(t, "gitlab-secrets", componenttest.MustAwait(t, component.SecretName).Value)
	assert.False(t, componenttest.MustAwait(t, component.URL).Secret)
}

func TestAnExistingNamespaceIsUsedAndNotCreated(t *testing.T) {
	args := threeZones()
	args.Namespace, args.UseExistingNamespace = "platform", true
	result, _ := deploy(t, args)
	assert.Empty(t, result.OfType("kubernetes:core/v1:Namespace"))
	deployment, _ := result.Find(deploymentType, "gitlab-eu-west-1a")
	assert.Equal(t, "platform", deployment.InputString("metadata.namespace"))
}

func TestExtraConfigIsAppendedAfterTheComponentsOwnSettings(t *testing.T) {
	args := threeZones()
	args.ExtraConfig = "gitlab_rails['object_store']['enabled'] = true\n"
	result, _ := deploy(t, args)
	config := omnibusConfig(t, result)
	assert.True(t, strings.HasSuffix(config, "gitlab_rails['object_store']['enabled'] = true\n"), config)
	assert.Less(t, strings.Index(config, "db_host"), strings.Index(config, "object_store"), "the caller has the last word")
}

func TestGitLabsPodsAdmitOnlyTheServicePorts(t *testing.T) {
	result, _ := deploy(t, threeZones())
	policy, ok := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab")
	require.True(t, ok)
	assert.Equal(t, gitlab.WebserviceComponent, policy.InputMap("spec.podSelector.matchLabels")["app.kubernetes.io/component"])
	assert.Equal(t, []any{"Ingress", "Egress"}, policy.MustInput(t, "spec.policyTypes"))
	assert.Equal(t, []any{
		map[string]any{"port": float64(80), "protocol": "TCP"}, map[string]any{"port": float64(22), "protocol": "TCP"},
	}, policy.MustInput(t, "spec.ingress[0].ports"), "Gitaly, Puma and metrics stay unreachable from other pods")
	_, fromAnywhere := policy.Input("spec.ingress[0].from")
	assert.False(t, fromAnywhere, "load balancer traffic arrives from any node")

	redis, _ := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-redis")
	assert.Equal(t, []any{"Ingress", "Egress"}, redis.MustInput(t, "spec.policyTypes"))
	_, reachesOut := redis.Input("spec.egress")
	assert.False(t, reachesOut, "Redis reaches nothing")
}

func TestEveryContainerBoundsItsEphemeralStorageAndHelpersRunUnprivileged(t *testing.T) {
	result, _ := deploy(t, threeZones())
	workloads := append(result.OfType(deploymentType), result.OfType(jobType)...)
	require.Len(t, workloads, 6, "three zones, Redis, two migration Jobs")
	for _, workload := range workloads {
		for _, kind := range []string{"containers", "initContainers"} {
			list, _ := workload.Input("spec.template.spec." + kind)
			containers, _ := list.([]any)
			for i := range containers {
				path := fmt.Sprintf("spec.template.spec.%s[%d].", kind, i)
				assert.NotEmpty(t, workload.InputString(path+`resources.requests["ephemeral-storage"]`), workload.Name+" "+path)
				assert.NotEmpty(t, workload.InputString(path+`resources.limits["ephemeral-storage"]`), workload.Name+" "+path)
				assert.NotEmpty(t, workload.InputString(path+`resources.limits["memory"]`), workload.Name+" "+path)
				assert.Equal(t, "Always", workload.InputString(path+"imagePullPolicy"), workload.Name+" "+path)
			}
		}
	}
	redis, _ := result.Find(deploymentType, "gitlab-redis")
	assert.Greater(t, redis.MustInput(t, "spec.template.spec.securityContext.runAsUser").(float64), float64(10000))
}

func TestTheDisruptionBudgetNeverLetsAnUnhealthyPodBlockADrain(t *testing.T) {
	result, _ := deploy(t, threeZones())
	budget, ok := result.Find("kubernetes:policy/v1:PodDisruptionBudget", "gitlab")
	require.True(t, ok)
	assert.Equal(t, float64(1), budget.MustInput(t, "spec.maxUnavailable"))
	assert.Equal(t, "AlwaysAllow", budget.InputString("spec.unhealthyPodEvictionPolicy"))
}
