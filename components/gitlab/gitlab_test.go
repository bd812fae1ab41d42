package gitlab_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

const (
	pvType         = "kubernetes:core/v1:PersistentVolume"
	pvcType        = "kubernetes:core/v1:PersistentVolumeClaim"
	deploymentType = "kubernetes:apps/v1:Deployment"
	serviceType    = "kubernetes:core/v1:Service"
	secretType     = "kubernetes:core/v1:Secret"
	configMapType  = "kubernetes:core/v1:ConfigMap"
	passwordType   = "random:index/randomPassword:RandomPassword"
	jobType        = "kubernetes:batch/v1:Job"
)

var zoneNames = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}

// threeZones is a typical AWS layout: one NFS mount target per zone, an external database.
func threeZones() *gitlab.GitLabArgs {
	args := &gitlab.GitLabArgs{
		ExternalURL: pulumi.String("https://gitlab.example.com"),
		Database: gitlab.Database{
			Host:     pulumi.String("gitlab.cluster-abc.eu-west-1.rds.amazonaws.com"),
			Password: pulumi.String("db-password-from-the-database-component"),
		},
	}
	for i, zone := range zoneNames {
		args.Zones = append(args.Zones, gitlab.Zone{Name: zone, Storage: gitlab.Storage{
			NFS: &gitlab.NFS{Server: pulumi.Sprintf("10.0.%d.10", i)},
		}})
	}
	return args
}

// deploy runs NewGitLab under mocks and returns what it registered and the component.
func deploy(t *testing.T, args *gitlab.GitLabArgs, opts ...pulumi.ResourceOption) (*componenttest.Result, *gitlab.GitLab) {
	t.Helper()
	var component *gitlab.GitLab
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		var err error
		component, err = gitlab.NewGitLab(ctx, "gitlab", args, opts...)
		return err
	})
	require.NoError(t, result.Err)
	return result, component
}

// objectName is the Kubernetes name the program gave a zone's object of the given type: a zone's volume and
// claim carry a hash of their source in theirs.
func objectName(t *testing.T, result *componenttest.Result, typ, zone string) string {
	t.Helper()
	object, ok := result.Find(typ, "gitlab-"+zone)
	require.True(t, ok, "%s of zone %s", typ, zone)
	return object.InputString("metadata.name")
}

// zoneOf returns the zone label of a recorded Kubernetes object.
func zoneOf(r componenttest.Resource) string {
	return r.InputMap("metadata.labels")[gitlab.ZoneLabelKey]
}

// selects reports whether a label selector (matchLabels) matches a set of labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for key, value := range selector {
		if labels[key] != value {
			return false
		}
	}
	return true
}

func TestEachZoneGetsOneVolumeOneClaimAndOneDeployment(t *testing.T) {
	result, _ := deploy(t, threeZones())

	for _, typ := range []string{pvType, pvcType, deploymentType} {
		perZone := map[string]int{}
		for _, r := range result.OfType(typ) {
			if r.InputMap("metadata.labels")["app.kubernetes.io/component"] == gitlab.RedisComponent {
				continue
			}
			perZone[zoneOf(r)]++
		}
		assert.Equal(t, map[string]int{"eu-west-1a": 1, "eu-west-1b": 1, "eu-west-1c": 1}, perZone, typ)
	}
}

func TestEachClaimSelectsExactlyItsOwnZonesVolume(t *testing.T) {
	result, _ := deploy(t, threeZones())
	volumes := result.OfType(pvType)
	require.Len(t, volumes, 3)

	for _, claim := range result.OfType(pvcType) {
		selector := claim.InputMap("spec.selector.matchLabels")
		var matched []string
		for _, volume := range volumes {
			if selects(selector, volume.InputMap("metadata.labels")) {
				matched = append(matched, zoneOf(volume))
			}
		}
		assert.Equal(t, []string{zoneOf(claim)}, matched, "claim %s", claim.Name)
		assert.Equal(t, "", claim.InputString("spec.storageClassName"), "an empty class keeps dynamic provisioning away")
		assert.Equal(t, []any{"ReadWriteMany"}, claim.MustInput(t, "spec.accessModes"))
	}
	for _, volume := range volumes {
		labels := volume.InputMap("metadata.labels")
		assert.Equal(t, gitlab.DataUsage, labels[gitlab.UsageLabelKey])
		assert.Equal(t, "Retain", volume.InputString("spec.persistentVolumeReclaimPolicy"))
		assert.Equal(t, objectName(t, result, pvcType, zoneOf(volume)), volume.InputString("spec.claimRef.name"),
			"the volume is reserved for its zone's claim")
		assert.Equal(t, "gitlab", volume.InputString("spec.claimRef.namespace"))
	}
}

func TestEachZonesVolumePointsAtThatZonesNFSServer(t *testing.T) {
	result, _ := deploy(t, threeZones())
	for i, zone := range zoneNames {
		volume, ok := result.Find(pvType, "gitlab-"+zone)
		require.True(t, ok, zone)
		assert.Equal(t, fmt.Sprintf("10.0.%d.10", i), volume.InputString("spec.nfs.server"))
		assert.Equal(t, "/", volume.InputString("spec.nfs.path"))
		assert.Equal(t, []any{map[string]any{"key": gitlab.ZoneLabel, "operator": "In", "values": []any{zone}}},
			volume.MustInput(t, "spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions"),
			"only the zone's nodes may mount its volume")
	}
}

func TestEachDeploymentIsPinnedToItsZoneAndMountsItsZonesClaim(t *testing.T) {
	args := threeZones()
	args.Zones[2].NodeSelector = map[string]string{"gitlab-ha.io/zone": "pool-c"} // a Linode-style pool label
	result, _ := deploy(t, args)

	want := map[string]map[string]string{
		"eu-west-1a": {gitlab.ZoneLabel: "eu-west-1a"},
		"eu-west-1b": {gitlab.ZoneLabel: "eu-west-1b"},
		"eu-west-1c": {"gitlab-ha.io/zone": "pool-c"},
	}
	for zone, selector := range want {
		deployment, ok := result.Find(deploymentType, "gitlab-"+zone)
		require.True(t, ok, zone)
		assert.Equal(t, selector, deployment.InputMap("spec.template.spec.nodeSelector"), zone)
		assert.Equal(t, objectName(t, result, pvcType, zone), deployment.InputString("spec.template.spec.volumes[0].persistentVolumeClaim.claimName"), zone)
		assert.Equal(t, zone, deployment.InputMap("spec.template.metadata.labels")[gitlab.ZoneLabelKey])
		assert.True(t, selects(deployment.InputMap("spec.selector.matchLabels"), deployment.InputMap("spec.template.metadata.labels")),
			"a Deployment's selector must match its own pods")
	}
}

func TestTheServiceSelectsEveryZonesPodsAndNothingElse(t *testing.T) {
	result, _ := deploy(t, threeZones())
	service, ok := result.Find(serviceType, "gitlab")
	require.True(t, ok)
	selector := service.InputMap("spec.selector")

	for _, deployment := range result.OfType(deploymentType) {
		pods := deployment.InputMap("spec.template.metadata.labels")
		isGitLab := pods["app.kubernetes.io/component"] == gitlab.WebserviceComponent
		assert.Equal(t, isGitLab, selects(selector, pods), "Service selecting %s", deployment.Name)
	}
	assert.NotContains(t, selector, gitlab.ZoneLabelKey, "losing a zone must remove only that zone's endpoints")
	assert.Equal(t, "ClusterIP", service.InputString("spec.type"), "nothing is exposed until a platform chooses how")
}

func TestNoSecretValueIsSentInPlainText(t *testing.T) {
	result, component := deploy(t, threeZones())

	secrets := []string{"db-password-from-the-database-component"}
	for _, password := range result.OfType(passwordType) {
		value, ok := password.Output("result")
		require.True(t, ok)
		secrets = append(secrets, value.(string))
	}
	require.Len(t, secrets, 19, "db password and the 18 generated ones")
	// What is derived from them: base64 forms, the OpenID Connect key, the SSH host keys.
	for _, name := range []string{"gitlab-secrets", "gitlab-ssh-host-keys", "gitlab-initial-root-password"} {
		secret, ok := result.Find(secretType, name)
		require.True(t, ok)
		assert.True(t, secret.InputIsSecret("stringData"), name)
		for key := range secret.InputMap("stringData") {
			if key == "GITLAB_DB_USERNAME" {
				continue // in the Secret because a provider may mark it secret; "gitlab" here, a name seen everywhere
			}
			secrets = append(secrets, secret.InputString(`stringData["`+key+`"]`))
		}
	}

	require.Len(t, secrets, 19+15+3+1, "and the 15 other entries of the environment Secret, the 3 host keys, the root password")
	assert.Empty(t, result.PlaintextLeaks(secrets...))
	assert.True(t, componenttest.MustAwait(t, component.RootPassword).Secret, "the root password output is secret")
}

func TestEveryChildIsParentedToTheComponentWhichRegistersItsOutputs(t *testing.T) {
	result, _ := deploy(t, threeZones())
	components := result.Components()
	require.Len(t, components, 1)
	require.Equal(t, gitlab.TypeToken, components[0].Type)

	for _, r := range result.Resources {
		if r.URN != components[0].URN {
			assert.Equal(t, components[0].URN, r.Parent, "%s %s", r.Type, r.Name)
		}
	}
	assert.Equal(t, 1, result.OutputsRegistered)
}

func TestEveryKubernetesObjectCarriesTheStandardLabels(t *testing.T) {
	result, _ := deploy(t, threeZones())
	perZone := map[string]bool{pvType: true, pvcType: true}

	for _, r := range result.Resources {
		if !strings.HasPrefix(r.Type, "kubernetes:") {
			continue
		}
		labels := r.InputMap("metadata.labels")
		assert.Equal(t, "gitlab", labels["app.kubernetes.io/name"], "%s %s", r.Type, r.Name)
		assert.Equal(t, "gitlab", labels["app.kubernetes.io/instance"], "%s %s", r.Type, r.Name)
		assert.Equal(t, "gitlab-ha", labels["app.kubernetes.io/part-of"], "%s %s", r.Type, r.Name)
		assert.NotEmpty(t, labels["app.kubernetes.io/component"], "%s %s", r.Type, r.Name)
		if perZone[r.Type] || (r.Type == deploymentType && r.Name != "gitlab-redis") {
			assert.Contains(t, zoneNames, labels[gitlab.ZoneLabelKey], "%s %s", r.Type, r.Name)
		}
	}
}

func TestAKubernetesProviderPassedToTheComponentReachesEveryKubernetesChild(t *testing.T) {
	var component *gitlab.GitLab
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		provider, err := kubernetes.NewProvider(ctx, "cluster", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		component, err = gitlab.NewGitLab(ctx, "gitlab", threeZones(), pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	require.NotNil(t, component)
	provider, ok := result.Find("pulumi:providers:kubernetes", "cluster")
	require.True(t, ok)

	objects := 0
	for _, r := range result.Resources {
		if strings.HasPrefix(r.Type, "kubernetes:") {
			objects++
			assert.Equal(t, provider.URN+"::"+provider.ID, r.Provider, "%s %s", r.Type, r.Name)
		}
	}
	assert.Greater(t, objects, 10)
}
