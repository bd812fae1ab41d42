package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/components/monitoring"
	"github.com/gitlab-ha/gitlab-ha/providers/gitlabha/componentpkg"
)

const (
	project = componenttest.DefaultProject
	stack   = componenttest.DefaultStack
)

var stackURN = urnOf(project, stack, "", "pulumi:pulumi:Stack", project+"-"+stack)

// started is the provider serving on a loopback port, with the test's engine and resource monitor.
type started struct {
	client  pulumirpc.ResourceProviderClient
	monitor *mocksMonitor
	addr    string // the monitor's
}

func startProvider(t *testing.T) *started {
	t.Helper()
	engineAddr := serve(t, func(s *grpc.Server) { pulumirpc.RegisterEngineServer(s, &engine{}) })
	monitor := &mocksMonitor{project: project, stack: stack, mocks: componenttest.NewMocks(), existing: map[string]resource.PropertyMap{}}
	monitorAddr := serve(t, func(s *grpc.Server) { pulumirpc.RegisterResourceMonitorServer(s, monitor) })
	providerAddr := serve(t, func(s *grpc.Server) {
		pulumirpc.RegisterResourceProviderServer(s, componentpkg.NewServer(dial(t, engineAddr), version, schema))
	})
	client := pulumirpc.NewResourceProviderClient(dial(t, providerAddr))
	_, err := client.Configure(context.Background(), &pulumirpc.ConfigureRequest{AcceptSecrets: true, AcceptResources: true})
	require.NoError(t, err)
	return &started{client: client, monitor: monitor, addr: monitorAddr}
}

// construct calls Construct as the engine does for a program's `new GitLab(...)`: inputs with their secrets
// and output values, the program's stack as parent, and the providers the program passed.
func (s *started) construct(t *testing.T, typ, name string, inputs resource.PropertyMap, dependencies map[string][]string,
	providers map[string]string,
) (*pulumirpc.ConstructResponse, error) {
	t.Helper()
	wireInputs, err := marshal(inputs)
	require.NoError(t, err)
	inputDependencies := map[string]*pulumirpc.ConstructRequest_PropertyDependencies{}
	for key, urns := range dependencies {
		inputDependencies[key] = &pulumirpc.ConstructRequest_PropertyDependencies{Urns: urns}
	}
	return s.client.Construct(context.Background(), &pulumirpc.ConstructRequest{
		Project: project, Stack: stack, Type: typ, Name: name, Inputs: wireInputs, InputDependencies: inputDependencies,
		Parent: stackURN, Providers: providers, MonitorEndpoint: s.addr, Parallel: 4, AcceptsOutputValues: true,
	})
}

// marshal puts inputs on the wire as the engine does for Construct: secrets and output values kept.
func marshal(inputs resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(inputs, plugin.MarshalOptions{KeepSecrets: true, KeepResources: true, KeepOutputValues: true})
}

// kubernetesProvider registers a Kubernetes provider under the mocks, as a program does before it passes one
// to the component, and returns its reference ("urn::id") and the resource.
func goProvider(ctx *pulumi.Context) (*kubernetes.Provider, error) {
	return kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
}

// twoZones are GitLab's Args for two zones on one EFS (a mount target each), a secret database password.
func twoZones() *gitlab.GitLabArgs {
	return &gitlab.GitLabArgs{
		ExternalURL: pulumi.String("https://gitlab.example.com"),
		Zones: []gitlab.Zone{
			{Name: "eu-west-1a", Storage: gitlab.Storage{NFS: &gitlab.NFS{Server: pulumi.String("10.0.0.10")}}},
			{Name: "eu-west-1b", Storage: gitlab.Storage{NFS: &gitlab.NFS{Server: pulumi.String("10.0.32.10")}}},
		},
		Database: gitlab.Database{
			Host:     pulumi.String("gitlab.cluster-abc.eu-west-1.rds.amazonaws.com"),
			Password: pulumi.ToSecret(pulumi.String("db-password")).(pulumi.StringOutput),
		},
		Service: gitlab.Service{Type: "NodePort", NodePorts: gitlab.NodePorts{HTTP: 30080, SSH: 30022}},
	}
}

// mountTargetURN stands for the EFS mount target whose address zone b's server is, in the program's stack.
const mountTargetURN = "urn:pulumi:test::gitlab-ha::gitlab-ha:filesystem:EFS$aws:efs/mountTarget:MountTarget::efs-eu-west-1b"

// twoZonesOnTheWire are the same Args as a TypeScript program sends them: property names from the schema,
// the password a secret, zone b's server an output of another resource, with its dependency.
func twoZonesOnTheWire() (resource.PropertyMap, map[string][]string) {
	zone := func(name string, server resource.PropertyValue) resource.PropertyValue {
		return resource.NewProperty(resource.PropertyMap{
			"name":    resource.NewProperty(name),
			"storage": resource.NewProperty(resource.PropertyMap{"nfs": resource.NewProperty(resource.PropertyMap{"server": server})}),
		})
	}
	inputs := resource.PropertyMap{
		"externalURL": resource.NewProperty("https://gitlab.example.com"),
		"zones": resource.NewProperty([]resource.PropertyValue{
			zone("eu-west-1a", resource.NewProperty("10.0.0.10")),
			zone("eu-west-1b", resource.NewProperty(resource.Output{Element: resource.NewProperty("10.0.32.10"), Known: true,
				Dependencies: []resource.URN{mountTargetURN}})),
		}),
		"database": resource.NewProperty(resource.PropertyMap{
			"host":     resource.NewProperty("gitlab.cluster-abc.eu-west-1.rds.amazonaws.com"),
			"password": resource.MakeSecret(resource.NewProperty("db-password")),
		}),
		"service": resource.NewProperty(resource.PropertyMap{
			"type":      resource.NewProperty("NodePort"),
			"nodePorts": resource.NewProperty(resource.PropertyMap{"http": resource.NewProperty(30080.0), "ssh": resource.NewProperty(30022.0)}),
		}),
	}
	return inputs, map[string][]string{"zones": {mountTargetURN}}
}

// record is what the comparison looks at of one registration.
type record struct {
	URN, Parent, Provider string
	Custom                bool
	Inputs                resource.PropertyMap
}

func records(result *componenttest.Result, leaveOut string) []record {
	var out []record
	for _, r := range result.Resources {
		if r.URN != leaveOut {
			out = append(out, record{URN: r.URN, Parent: r.Parent, Provider: r.Provider, Custom: r.Custom, Inputs: r.Inputs})
		}
	}
	slices.SortFunc(out, func(a, b record) int { return compareStrings(a.URN, b.URN) })
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestGetSchemaServesTheCommittedSchema(t *testing.T) {
	p := startProvider(t)
	got, err := p.client.GetSchema(context.Background(), &pulumirpc.GetSchemaRequest{})
	require.NoError(t, err)
	assert.Equal(t, string(schema), got.GetSchema())
	info, err := p.client.GetPluginInfo(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, version, info.GetVersion())
}

func TestConstructOfGitLabWithTwoZonesRegistersWhatNewGitLabRegisters(t *testing.T) {
	var providerRef string
	direct := componenttest.Run(func(ctx *pulumi.Context) error {
		k8s, err := goProvider(ctx)
		if err != nil {
			return err
		}
		_, err = gitlab.NewGitLab(ctx, "gitlab", twoZones(), pulumi.Provider(k8s))
		return err
	})
	require.NoError(t, direct.Err)
	k8s, ok := direct.Find("pulumi:providers:kubernetes", "k8s")
	require.True(t, ok)
	providerRef = k8s.URN + "::" + k8s.ID

	p := startProvider(t)
	p.monitor.existing[k8s.URN] = resource.PropertyMap{"urn": resource.NewProperty(k8s.URN),
		"id": resource.NewProperty(k8s.ID), "state": resource.NewProperty(k8s.Outputs)}
	inputs, dependencies := twoZonesOnTheWire()
	response, err := p.construct(t, gitlab.TypeToken, "gitlab", inputs, dependencies, map[string]string{"kubernetes": providerRef})
	require.NoError(t, err)
	viaProvider := p.monitor.mocks.Result(nil)

	want, got := records(direct, k8s.URN), records(viaProvider, "")
	require.Len(t, got, len(want), "as many registrations through Construct as through NewGitLab")
	for i := range want {
		assert.Equal(t, want[i], got[i], "registration %d", i)
	}
	for _, zone := range []string{"eu-west-1a", "eu-west-1b"} {
		_, ok := viaProvider.Find("kubernetes:apps/v1:Deployment", "gitlab-"+zone)
		assert.True(t, ok, "zone %s has its Deployment", zone)
	}
	volume, ok := viaProvider.Find("kubernetes:core/v1:PersistentVolume", "gitlab-eu-west-1b")
	require.True(t, ok)
	assert.Contains(t, volume.DataDependencies, mountTargetURN, "zone b's volume depends on the mount target the program passed")
	assert.Empty(t, viaProvider.PlaintextLeaks("db-password"), "the password stays secret through Construct")
	assert.Equal(t, 1, viaProvider.OutputsRegistered, "the component registers its outputs")

	assert.Equal(t, urnOf(project, stack, stackURN, gitlab.TypeToken, "gitlab"), response.GetUrn())
	state, err := plugin.UnmarshalProperties(response.GetState(), plugin.MarshalOptions{KeepSecrets: true})
	require.NoError(t, err)
	assert.Equal(t, "https://gitlab.example.com", state["url"].StringValue())
	assert.True(t, state["rootPassword"].IsSecret(), "rootPassword comes back secret")
	assert.Equal(t, resource.NewProperty(resource.PropertyMap{
		"eu-west-1a": resource.NewProperty("gitlab-eu-west-1a"), "eu-west-1b": resource.NewProperty("gitlab-eu-west-1b"),
	}), state["deployments"])
}

func TestConstructRefusesBadInputsWithTheErrorNewGitLabGives(t *testing.T) {
	bad := twoZones()
	bad.Zones[1].Name = bad.Zones[0].Name
	var goErr error
	componenttest.Run(func(ctx *pulumi.Context) error {
		_, goErr = gitlab.NewGitLab(ctx, "gitlab", bad)
		return goErr
	})
	require.Error(t, goErr)

	p := startProvider(t)
	inputs, dependencies := twoZonesOnTheWire()
	inputs["zones"].ArrayValue()[1].ObjectValue()["name"] = resource.NewProperty("eu-west-1a")
	_, err := p.construct(t, gitlab.TypeToken, "gitlab", inputs, dependencies, nil)
	require.Error(t, err)
	assert.Equal(t, goErr.Error(), status.Convert(err).Message())
	assert.Contains(t, goErr.Error(), `zones[1].name: "eu-west-1a" repeats zones[0].name`)
	assert.Empty(t, p.monitor.mocks.Result(nil).Resources, "nothing is registered")
}

// monitoringArgs are Monitoring's Args for two zones with a daily backup and durations of every form a
// program writes: whole minutes, hours and minutes, a fraction of a second.
func monitoringArgs() *monitoring.MonitoringArgs {
	return &monitoring.MonitoringArgs{
		Namespace: pulumi.String("gitlab"), NamespaceName: "gitlab", Instance: "gitlab",
		Zones:         []string{"eu-west-1a", "eu-west-1b"},
		ExternalURL:   "https://gitlab.example.com",
		BackupCronJob: "gitlab-backup", BackupSchedule: "0 1 * * *", BackupDeadline: 6 * time.Hour,
		MigrationJobPattern: "gitlab-(post-)?migrations-.+", MigrationDeadline: 90 * time.Minute,
		Thresholds: monitoring.Thresholds{ZoneDownFor: 7 * time.Minute, GitLatency: 1500 * time.Millisecond},
	}
}

// monitoringOnTheWire are the same Args as a TypeScript program sends them: every duration a string in Go's
// syntax, as the schema documents.
func monitoringOnTheWire() resource.PropertyMap {
	return resource.PropertyMap{
		"namespace": resource.NewProperty("gitlab"), "namespaceName": resource.NewProperty("gitlab"),
		"instance":      resource.NewProperty("gitlab"),
		"zones":         resource.NewProperty([]resource.PropertyValue{resource.NewProperty("eu-west-1a"), resource.NewProperty("eu-west-1b")}),
		"externalURL":   resource.NewProperty("https://gitlab.example.com"),
		"backupCronJob": resource.NewProperty("gitlab-backup"), "backupSchedule": resource.NewProperty("0 1 * * *"),
		"backupDeadline":      resource.NewProperty("6h"),
		"migrationJobPattern": resource.NewProperty("gitlab-(post-)?migrations-.+"),
		"migrationDeadline":   resource.NewProperty("1h30m"),
		"thresholds": resource.NewProperty(resource.PropertyMap{
			"zoneDownFor": resource.NewProperty("7m"), "gitLatency": resource.NewProperty("1500ms"),
		}),
	}
}

// ruleFor is the `for` of an alert in a registered PrometheusRule.
func ruleFor(t *testing.T, rule componenttest.Resource, alert string) any {
	t.Helper()
	for _, group := range rule.MustInput(t, "spec.groups").([]any) {
		for _, r := range group.(map[string]any)["rules"].([]any) {
			if r := r.(map[string]any); r["alert"] == alert {
				return r["for"]
			}
		}
	}
	t.Fatalf("no alert %s in the rule", alert)
	return nil
}

func TestConstructOfMonitoringWithDurationsRegistersWhatNewMonitoringRegisters(t *testing.T) {
	direct := componenttest.Run(func(ctx *pulumi.Context) error {
		k8s, err := goProvider(ctx)
		if err != nil {
			return err
		}
		_, err = monitoring.NewMonitoring(ctx, "gitlab-monitoring", monitoringArgs(), pulumi.Provider(k8s))
		return err
	})
	require.NoError(t, direct.Err)
	k8s, ok := direct.Find("pulumi:providers:kubernetes", "k8s")
	require.True(t, ok)

	p := startProvider(t)
	p.monitor.existing[k8s.URN] = resource.PropertyMap{"urn": resource.NewProperty(k8s.URN),
		"id": resource.NewProperty(k8s.ID), "state": resource.NewProperty(k8s.Outputs)}
	response, err := p.construct(t, monitoring.TypeToken, "gitlab-monitoring", monitoringOnTheWire(), nil,
		map[string]string{"kubernetes": k8s.URN + "::" + k8s.ID})
	require.NoError(t, err)
	viaProvider := p.monitor.mocks.Result(nil)

	want, got := records(direct, k8s.URN), records(viaProvider, "")
	require.Len(t, got, len(want), "as many registrations through Construct as through NewMonitoring")
	for i := range want {
		assert.Equal(t, want[i], got[i], "registration %d", i)
	}
	rule, ok := viaProvider.Find("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "gitlab-alerts")
	require.True(t, ok)
	assert.Equal(t, "7m", ruleFor(t, rule, monitoring.AlertZoneDown), `thresholds.zoneDownFor "7m" reaches the rule`)
	assert.Equal(t, 1, viaProvider.OutputsRegistered, "the component registers its outputs")
	assert.Equal(t, urnOf(project, stack, stackURN, monitoring.TypeToken, "gitlab-monitoring"), response.GetUrn())
}

func TestConstructRefusesABadDurationNamingTheInputAndRegistersNothing(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"words", "5 minutes", `thresholds.zoneDownFor: "5 minutes" is not a duration in Go's syntax, such as "5m" or "1h30m"`},
		{"a bare number", "300", `thresholds.zoneDownFor: "300" is not a duration in Go's syntax, such as "5m" or "1h30m"`},
		// A duration Go reads but the component refuses gets NewMonitoring's own error.
		{"negative", "-5m", `thresholds.zoneDownFor: "-5m0s" is negative`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvider(t)
			inputs := monitoringOnTheWire()
			inputs["thresholds"].ObjectValue()["zoneDownFor"] = resource.NewProperty(tc.value)
			_, err := p.construct(t, monitoring.TypeToken, "gitlab-monitoring", inputs, nil, nil)
			require.Error(t, err)
			assert.Contains(t, status.Convert(err).Message(), tc.want)
			assert.Empty(t, p.monitor.mocks.Result(nil).Resources, "nothing is registered")
		})
	}
}
