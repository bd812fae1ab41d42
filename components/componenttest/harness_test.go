package componenttest_test

import (
	"fmt"
	"net/netip"
	"testing"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
)

// configMapWithPassword puts a generated password into a ConfigMap, secret or not.
func configMapWithPassword(keepSecret bool) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		password, err := random.NewRandomPassword(ctx, "pw", &random.RandomPasswordArgs{Length: pulumi.Int(24)})
		if err != nil {
			return err
		}
		value := password.Result
		if !keepSecret {
			value = pulumi.Unsecret(value).(pulumi.StringOutput)
		}
		_, err = corev1.NewConfigMap(ctx, "settings", &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("demo")}},
			Data:     pulumi.StringMap{"url": pulumi.Sprintf("postgres://app:%s@db/app", value)},
		})
		return err
	}
}

func passwordOf(t *testing.T, result *componenttest.Result) string {
	t.Helper()
	password, ok := result.Find("random:index/randomPassword:RandomPassword", "pw")
	require.True(t, ok)
	value, ok := password.Output("result")
	require.True(t, ok)
	return value.(string)
}

func TestPlaintextLeaksFindsASecretSentInTheClearAndNothingWhenItStaysSecret(t *testing.T) {
	leaky := componenttest.Run(configMapWithPassword(false))
	require.NoError(t, leaky.Err)
	assert.Equal(t, []componenttest.Leak{{Resource: "kubernetes:core/v1:ConfigMap settings", Path: "data.url"}},
		leaky.PlaintextLeaks(passwordOf(t, leaky)))

	careful := componenttest.Run(configMapWithPassword(true))
	require.NoError(t, careful.Err)
	assert.Empty(t, careful.PlaintextLeaks(passwordOf(t, careful)))
	settings, _ := careful.Find("kubernetes:core/v1:ConfigMap", "settings")
	assert.True(t, settings.InputIsSecret(`data["url"]`))
}

func TestAnswersAreDeterministicAndHonourTheRequestedShape(t *testing.T) {
	first, second := componenttest.Run(configMapWithPassword(true)), componenttest.Run(configMapWithPassword(true))
	require.NoError(t, first.Err)
	assert.Equal(t, passwordOf(t, first), passwordOf(t, second))
	assert.Len(t, passwordOf(t, first), 24)

	settings, _ := first.Find("kubernetes:core/v1:ConfigMap", "settings")
	again, _ := second.Find("kubernetes:core/v1:ConfigMap", "settings")
	assert.Equal(t, settings.ID, again.ID)
	assert.Regexp(t, `^default/settings-[0-9a-f]{8}$`, settings.ID, "autonamed like pulumi-kubernetes, in the default namespace")
	assert.Equal(t, "demo", settings.InputMap("metadata.labels")["app.kubernetes.io/name"], "paths may quote keys with dots")
}

func TestOutputsMarkedAdditionalSecretOutputsComeBackSecretAsTheEngineWouldMakeThem(t *testing.T) {
	var result pulumi.StringOutput
	run := componenttest.Run(func(ctx *pulumi.Context) error {
		password, err := random.NewRandomPassword(ctx, "pw", &random.RandomPasswordArgs{Length: pulumi.Int(8)})
		result = password.Result
		return err
	})
	require.NoError(t, run.Err)
	got, err := componenttest.Await(result)
	require.NoError(t, err)
	assert.True(t, got.Secret)
	assert.Len(t, got.Value, 8)
	require.Len(t, got.Dependencies, 1)
	assert.Contains(t, got.Dependencies[0], "RandomPassword::pw")
}

func TestALoadBalancerServiceGetsAnAddressFromTheDocumentationRange(t *testing.T) {
	run := componenttest.Run(func(ctx *pulumi.Context) error {
		_, err := corev1.NewService(ctx, "web", &corev1.ServiceArgs{Spec: &corev1.ServiceSpecArgs{Type: pulumi.String("LoadBalancer")}})
		return err
	})
	require.NoError(t, run.Err)
	service, _ := run.Find("kubernetes:core/v1:Service", "web")
	ip, ok := service.Output("status.loadBalancer.ingress[0].ip")
	require.True(t, ok)
	addr := netip.MustParseAddr(ip.(string))
	assert.True(t, netip.MustParsePrefix("203.0.113.0/24").Contains(addr), ip)
}

// demo is a minimal component, to check what the harness says of components.
type demo struct{ pulumi.ResourceState }

func newDemo(ctx *pulumi.Context, name string, registerOutputs bool) error {
	component := &demo{}
	if err := ctx.RegisterComponentResource("test:demo:Demo", name, component); err != nil {
		return err
	}
	if _, err := corev1.NewConfigMap(ctx, name, &corev1.ConfigMapArgs{}, pulumi.Parent(component)); err != nil {
		return err
	}
	if registerOutputs {
		return ctx.RegisterResourceOutputs(component, pulumi.Map{})
	}
	return nil
}

func TestOutputsRegisteredCountsTheProgramsComponentsNotTheStack(t *testing.T) {
	both := componenttest.Run(func(ctx *pulumi.Context) error {
		if err := newDemo(ctx, "a", true); err != nil {
			return err
		}
		return newDemo(ctx, "b", true)
	})
	require.NoError(t, both.Err)
	assert.Len(t, both.Components(), 2)
	assert.Equal(t, 2, both.OutputsRegistered)

	forgetful := componenttest.Run(func(ctx *pulumi.Context) error { return newDemo(ctx, "a", false) })
	require.NoError(t, forgetful.Err)
	assert.Equal(t, 0, forgetful.OutputsRegistered, "a component that forgets RegisterResourceOutputs shows")

	a, _ := both.Find("test:demo:Demo", "a")
	children := both.ChildrenOf(a.URN)
	require.Len(t, children, 1)
	assert.Equal(t, "kubernetes:core/v1:ConfigMap", children[0].Type)
}

func TestInvokesAreAnsweredOrRefusedByName(t *testing.T) {
	invoke := func(ctx *pulumi.Context) error {
		var out struct {
			Names []string `pulumi:"names"`
		}
		return ctx.Invoke("aws:index/getAvailabilityZones:getAvailabilityZones", nil, &out)
	}
	refused := componenttest.Run(invoke)
	require.Error(t, refused.Err)
	assert.Contains(t, refused.Err.Error(), "no answer for invoke aws:index/getAvailabilityZones:getAvailabilityZones; add one with WithInvoke")

	answered := componenttest.Run(invoke, componenttest.WithInvoke("aws:index/getAvailabilityZones:getAvailabilityZones",
		func(resource.PropertyMap) (resource.PropertyMap, error) {
			return resource.NewPropertyMapFromMap(map[string]any{"names": []string{"eu-west-1a"}}), nil
		}))
	require.NoError(t, answered.Err)
	assert.Equal(t, []string{"aws:index/getAvailabilityZones:getAvailabilityZones"}, answered.Invokes)
}

func TestDataDependenciesAreTheOnesTheInputsImplyAndExplicitOnesAreKeptApart(t *testing.T) {
	run := componenttest.Run(func(ctx *pulumi.Context) error {
		source, err := corev1.NewConfigMap(ctx, "source", &corev1.ConfigMapArgs{})
		if err != nil {
			return err
		}
		ordered, err := corev1.NewConfigMap(ctx, "ordered", &corev1.ConfigMapArgs{})
		if err != nil {
			return err
		}
		_, err = corev1.NewConfigMap(ctx, "consumer", &corev1.ConfigMapArgs{
			Data: pulumi.StringMap{"from": source.Metadata.Name().Elem()},
		}, pulumi.DependsOn([]pulumi.Resource{ordered}))
		return err
	})
	require.NoError(t, run.Err)
	source, _ := run.Find("kubernetes:core/v1:ConfigMap", "source")
	ordered, _ := run.Find("kubernetes:core/v1:ConfigMap", "ordered")
	consumer, _ := run.Find("kubernetes:core/v1:ConfigMap", "consumer")
	assert.ElementsMatch(t, []string{source.URN, ordered.URN}, consumer.Dependencies)
	assert.Equal(t, []string{source.URN}, consumer.DataDependencies)
}

// recorder stands in for a test, to check what an assertion reports.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func TestRejectsPassesOnlyAClearErrorThatRegisteredNothing(t *testing.T) {
	refuses := func(ctx *pulumi.Context) error { return fmt.Errorf("zones[1]: bad") }
	registersThenFails := func(ctx *pulumi.Context) error {
		if _, err := corev1.NewConfigMap(ctx, "early", &corev1.ConfigMapArgs{}); err != nil {
			return err
		}
		return fmt.Errorf("zones[1]: bad")
	}
	accepts := func(ctx *pulumi.Context) error { return nil }

	for name, tc := range map[string]struct {
		program  pulumi.RunFunc
		want     string
		failures int
	}{
		"a clear refusal":                  {refuses, "zones[1]", 0},
		"another error than the one asked": {refuses, "region", 1},
		"a refusal after registering":      {registersThenFails, "zones[1]", 1},
		"no refusal at all":                {accepts, "zones[1]", 1},
	} {
		r := &recorder{TB: t}
		componenttest.Rejects(r, tc.program, tc.want)
		assert.Len(t, r.failures, tc.failures, "%s: %v", name, r.failures)
	}
}
