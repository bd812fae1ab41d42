package gitlab_test

import (
	"fmt"
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
	assert.Equal(t, []string{"GITLAB_DB_KEY_BASE", "GITLAB_DB_PASSWORD", "GITLAB_ENCRYPTED_SETTINGS_KEY_BASE",
		"GITLAB_OTP_KEY_BASE", "GITLAB_REDIS_PASSWORD", "GITLAB_ROOT_PASSWORD", "GITLAB_SECRET_KEY_BASE"}, names,
		"every ENV.fetch in the configuration has a key in the Secret")
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
	assert.Len(t, result.OfType(passwordType), 6, "four key bases, root password, Redis password: generated once, not per zone")
}

func TestOnlyTheFirstZoneRunsDatabaseMigrations(t *testing.T) {
	result, _ := deploy(t, threeZones())
	migrating := map[string]string{}
	for _, zone := range zoneNames {
		deployment, ok := result.Find(deploymentType, "gitlab-"+zone)
		require.True(t, ok)
		migrating[zone] = deployment.InputString("spec.template.spec.containers[0].env[0].value")
	}
	assert.Equal(t, map[string]string{"eu-west-1a": "true", "eu-west-1b": "false", "eu-west-1c": "false"}, migrating)
}

func TestWithoutAnExternalRedisOneRedisRunsReachableOnlyFromGitLab(t *testing.T) {
	result, component := deploy(t, threeZones())
	_, ok := result.Find(deploymentType, "gitlab-redis")
	require.True(t, ok)
	policy, ok := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-redis")
	require.True(t, ok)
	assert.Equal(t, gitlab.WebserviceComponent, policy.InputMap("spec.ingress[0].from[0].podSelector.matchLabels")["app.kubernetes.io/component"])
	assert.Equal(t, "gitlab-redis.gitlab.svc", awaitValue(t, component.RedisHost).Value)
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
	assert.Equal(t, "master.redis.cache.amazonaws.com", awaitValue(t, component.RedisHost).Value)
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
	assert.Empty(t, awaitValue(t, component.PersistentVolumes).Value, "no static volume to name")
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
	_, component := deploy(t, threeZones())
	want := map[string]string{}
	for _, zone := range zoneNames {
		want[zone] = "gitlab-" + zone
	}
	assert.Equal(t, want, awaitValue(t, component.Deployments).Value)
	assert.Equal(t, want, awaitValue(t, component.Claims).Value)
	volumes := map[string]string{}
	for _, zone := range zoneNames {
		volumes[zone] = "gitlab-gitlab-" + zone
	}
	assert.Equal(t, volumes, awaitValue(t, component.PersistentVolumes).Value)
	assert.Equal(t, "gitlab", awaitValue(t, component.ServiceName).Value)
	assert.Equal(t, "gitlab.example.com", awaitValue(t, component.SSHHost).Value)
	assert.Equal(t, "gitlab-secrets", awaitValue(t, component.SecretName).Value)
	assert.False(t, awaitValue(t, component.URL).Secret)
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

func TestZonesAfterTheFirstWaitForTheSecretsTheFirstZoneWritesToTheSharedFileSystem(t *testing.T) {
	result, _ := deploy(t, threeZones())
	for i, zone := range zoneNames {
		deployment, _ := result.Find(deploymentType, "gitlab-"+zone)
		initContainers, _ := deployment.Input("spec.template.spec.initContainers")
		if i == 0 {
			assert.Nil(t, initContainers, "the first zone writes the secrets; it waits for no one")
			continue
		}
		require.Len(t, initContainers, 1, zone)
		assert.Contains(t, deployment.InputString("spec.template.spec.initContainers[0].command[2]"), "/etc/gitlab/gitlab-secrets.json")
		assert.Equal(t, "config", deployment.InputString("spec.template.spec.initContainers[0].volumeMounts[0].subPath"))
	}
	deployment, _ := result.Find(deploymentType, "gitlab-eu-west-1c")
	mounts, _ := deployment.Input("spec.template.spec.containers[0].volumeMounts")
	assert.Contains(t, mounts, map[string]any{"name": "data", "mountPath": "/etc/gitlab", "subPath": "config"},
		"one gitlab-secrets.json and one set of SSH host keys for every replica")
}

func TestAZoneWithItsOwnVolumeWaitsForNoOne(t *testing.T) {
	args := threeZones()
	args.Zones[1].Storage = gitlab.Storage{StorageClass: "gp3"}
	result, _ := deploy(t, args)
	deployment, _ := result.Find(deploymentType, "gitlab-eu-west-1b")
	_, waits := deployment.Input("spec.template.spec.initContainers")
	assert.False(t, waits, "its volume is not shared: the first zone's file would never appear there")
}

func TestReadinessAsksRailsWhileLivenessChecksTheWholeChain(t *testing.T) {
	result, _ := deploy(t, threeZones())
	deployment, _ := result.Find(deploymentType, "gitlab-eu-west-1a")
	container := "spec.template.spec.containers[0]."
	readiness := deployment.MustInput(t, container+"readinessProbe.exec.command")
	liveness := deployment.MustInput(t, container+"livenessProbe.exec.command")
	assert.NotEqual(t, readiness, liveness, "a database outage must take replicas out of the Service, not restart them")
	assert.Contains(t, readiness, "http://127.0.0.1:8080/-/readiness")
	assert.Contains(t, liveness, "/opt/gitlab/bin/gitlab-healthcheck")
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
	for _, deployment := range result.OfType(deploymentType) {
		for _, kind := range []string{"containers", "initContainers"} {
			list, _ := deployment.Input("spec.template.spec." + kind)
			containers, _ := list.([]any)
			for i := range containers {
				path := fmt.Sprintf("spec.template.spec.%s[%d].", kind, i)
				assert.NotEmpty(t, deployment.InputString(path+`resources.requests["ephemeral-storage"]`), deployment.Name+" "+path)
				assert.NotEmpty(t, deployment.InputString(path+`resources.limits["ephemeral-storage"]`), deployment.Name+" "+path)
				assert.Equal(t, "Always", deployment.InputString(path+"imagePullPolicy"), deployment.Name+" "+path)
			}
		}
	}
	waiting, _ := result.Find(deploymentType, "gitlab-eu-west-1b")
	initContainer := "spec.template.spec.initContainers[0].securityContext."
	assert.Equal(t, true, waiting.MustInput(t, initContainer+"runAsNonRoot"))
	assert.Greater(t, waiting.MustInput(t, initContainer+"runAsUser").(float64), float64(10000))
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
