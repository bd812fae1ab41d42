// Package gitaly runs Gitaly on Kubernetes, one StatefulSet per zone on that zone's block volume, as GitLab's
// Helm chart runs it: each zone's Gitaly is a repository storage of GitLab's, "gitaly-<zone>", and GitLab
// reaches it over TCP with a token. It is not Gitaly Cluster: a zone's repositories live on that zone's volume
// alone, so losing a zone makes its repositories unavailable (not lost) until the zone is back, while the other
// zones' Gitaly keep serving theirs. Gitaly Cluster, which replicates every repository to every zone, is not
// supported in Kubernetes (GitLab's docs); gitaly/gitalycluster builds it on virtual machines on AWS.
//
// The component knows nothing of clouds: the zones' node selectors and the StorageClass that provisions each
// zone's volume come in as arguments. It creates, with <name> its name and <zone> each zone's name:
//   - Namespace Namespace (default "gitlab-gitaly"), Secret <name>-secrets (the auth token and the secret
//     Gitaly's hooks call GitLab's internal API with), NetworkPolicy <name>
//   - ConfigMap <name>-<zone>, Service <name>-<zone> (port 8075), StatefulSet <name>-<zone> (one replica,
//     pinned to the zone's nodes, its claim repositories-<name>-<zone>-0 provisioned in the zone)
//
// It runs the Omnibus image GitLab runs, in Omnibus's Gitaly role, so that a new GitLab version upgrades
// Gitaly with it; the caller makes GitLab's migrations wait for the StatefulSets (GitLab's upgrade order:
// Gitaly before Rails).
package gitaly

import (
	"fmt"
	"net/url"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "gitlab-ha:gitaly:Gitaly"

// Port is where Gitaly listens (GitLab's documented default).
const Port = 8075

// MetricsPort is where Gitaly serves Prometheus metrics (/metrics), the port Omnibus's gitaly
// prometheus_listen_addr defaults to (localhost:9236), here on every address: the container port
// "gitaly-metrics", which the monitoring component's PodMonitor scrapes.
const MetricsPort = 9236

// MetricsPortName names the metrics container port.
const MetricsPortName = "gitaly-metrics"

// StorageName is the repository storage a zone's Gitaly serves.
func StorageName(zone string) string { return "gitaly-" + zone }

// GitalyArgs configures Gitaly per zone.
type GitalyArgs struct {
	// Namespace the StatefulSets run in, created by the component. Default "gitlab-gitaly".
	Namespace string
	// ClientNamespace is where GitLab runs: only its pods may reach Gitaly, and Gitaly reaches GitLab's
	// internal API there. Default "gitlab".
	ClientNamespace string
	// MonitoringNamespace is where the cluster's Prometheus runs: only it reaches Gitaly's metrics port
	// (MetricsPort). Default "monitoring", kube-prometheus's.
	MonitoringNamespace string
	// Zones are where Gitaly runs, one StatefulSet each. Required.
	Zones []Zone
	// StorageClass provisions each zone's volume, ReadWriteOnce, in the zone its pod is scheduled to: it must
	// bind volumes where their pod lands (volumeBindingMode WaitForFirstConsumer) on a platform with zones,
	// and should keep a volume whose claim is deleted (reclaimPolicy Retain). Required.
	StorageClass string
	// VolumeSize of each zone's volume. Default "100Gi".
	VolumeSize string
	// Image is the GitLab Omnibus image, the release GitLab runs. Default gitlab.DefaultImage.
	Image string
	// GitLabURL is GitLab's internal API as Gitaly's hooks reach it, such as http://gitlab.gitlab.svc.
	// Required.
	GitLabURL pulumi.StringInput
	// WithoutDefaultStorage leaves out the storage "default", which GitLab requires: by default the first
	// zone's Gitaly also serves it, empty (weight 0), because the zones' storages are named for their zones.
	// Set it while GitLab's own NFS volume still holds "default" (the way off NFS). Default false.
	WithoutDefaultStorage bool
	// DefaultStorageOnly makes the zones' Gitaly serve the storage "default" alone, and no storage of their
	// own: GitLab's required "default" beside a Gitaly Cluster that GitLab knows by another name (a stack moved
	// off NFS, whose NFS held "default"). It takes one zone. Default false.
	DefaultStorageOnly bool
	// ShellSecret is the secret Gitaly's hooks call GitLab's internal API with, when GitLab's is another Git
	// storage's (a Gitaly Cluster's). Default nil: generated here, and handed to GitLab as ShellSecret.
	ShellSecret pulumi.StringInput
	// Resources of each Gitaly pod. Defaults: see Resources.
	Resources Resources
}

// Zone is one zone's Gitaly.
type Zone struct {
	// Name of the zone, a DNS label. Required.
	Name string
	// NodeSelector pins the zone's Gitaly to its nodes. Default {topology.kubernetes.io/zone: Name}.
	NodeSelector map[string]string
}

// Resources of a Gitaly pod. Git's own processes (pack-objects on a large clone) run inside it.
type Resources struct {
	CPURequest    string // default "1"
	MemoryRequest string // default "4Gi", the limit: a busy node cannot OOM-kill Gitaly first
	CPULimit      string // default "2"
	MemoryLimit   string // default "4Gi"
}

// Gitaly is the component.
type Gitaly struct {
	pulumi.ResourceState

	// Namespace Gitaly runs in.
	Namespace pulumi.StringOutput
	// Addresses maps each zone to its Gitaly, tcp://<service>.<namespace>.svc:8075.
	Addresses pulumi.StringMapOutput
	// AuthToken authenticates GitLab to every zone's Gitaly; ShellSecret authenticates Gitaly's hooks to
	// GitLab's internal API (GitLab's gitlab_shell['secret_token']). Both secret.
	AuthToken   pulumi.StringOutput
	ShellSecret pulumi.StringOutput
	// StatefulSets by zone, for callers to wait on.
	StatefulSets map[string]*appsv1.StatefulSet

	zones                 []Zone
	withoutDefaultStorage bool
	defaultStorageOnly    bool
}

// Repositories are the zones' storages, in the zones' order, and the empty "default" on the first zone's
// Gitaly unless WithoutDefaultStorage: what GitLabArgs.GitStorage.Repositories takes.
func (g *Gitaly) Repositories() []gitlab.RepositoryStorage {
	var storages []gitlab.RepositoryStorage
	for _, zone := range g.zones {
		if g.defaultStorageOnly {
			break
		}
		storages = append(storages, gitlab.RepositoryStorage{
			Name: StorageName(zone.Name), Address: g.Addresses.MapIndex(pulumi.String(zone.Name)), Token: g.AuthToken,
		})
	}
	if !g.withoutDefaultStorage {
		storages = append(storages, gitlab.RepositoryStorage{
			Name: gitlab.DefaultStorageName, Address: g.Addresses.MapIndex(pulumi.String(g.zones[0].Name)), Token: g.AuthToken,
			Weight: pulumi.IntRef(0),
		})
	}
	return storages
}

// Resources the caller's migrations wait for: every zone's StatefulSet, rolled out.
func (g *Gitaly) Resources() []pulumi.Resource {
	var out []pulumi.Resource
	for _, zone := range g.zones {
		out = append(out, g.StatefulSets[zone.Name])
	}
	return out
}

func withDefaults(args GitalyArgs) GitalyArgs {
	set := func(field *string, value string) {
		if *field == "" {
			*field = value
		}
	}
	set(&args.Namespace, "gitlab-gitaly")
	set(&args.ClientNamespace, "gitlab")
	set(&args.MonitoringNamespace, "monitoring")
	set(&args.VolumeSize, "100Gi")
	set(&args.Image, gitlab.DefaultImage)
	set(&args.Resources.CPURequest, "1")
	set(&args.Resources.MemoryRequest, "4Gi")
	set(&args.Resources.CPULimit, "2")
	set(&args.Resources.MemoryLimit, "4Gi")
	zones := make([]Zone, len(args.Zones))
	for i, zone := range args.Zones {
		if zone.NodeSelector == nil {
			zone.NodeSelector = map[string]string{gitlab.ZoneLabel: zone.Name}
		}
		zones[i] = zone
	}
	args.Zones = zones
	return args
}

// maxStatefulSetName keeps a StatefulSet's name short enough for its pods' controller-revision-hash label.
const maxStatefulSetName = 52

// Validate reports the first problem with args, as NewGitaly would, without registering anything.
func Validate(name string, args *GitalyArgs) error {
	return validateArgs(name, withDefaults(*args))
}

func validateArgs(name string, a GitalyArgs) error {
	if err := validate.DNSLabel("name", name); err != nil {
		return err
	}
	for _, ns := range []struct{ field, value string }{{"namespace", a.Namespace}, {"clientNamespace", a.ClientNamespace}, {"monitoringNamespace", a.MonitoringNamespace}} {
		if err := validate.DNSLabel(ns.field, ns.value); err != nil {
			return err
		}
	}
	if len(a.Zones) == 0 {
		return validate.Errorf("zones", nil, "needs at least one zone")
	}
	if a.DefaultStorageOnly && len(a.Zones) > 1 {
		return validate.Errorf("zones", nil, "has %d zones, but defaultStorageOnly serves the one storage from one zone", len(a.Zones))
	}
	if a.DefaultStorageOnly && a.WithoutDefaultStorage {
		return validate.Errorf("withoutDefaultStorage", true, "is set with defaultStorageOnly; choose one")
	}
	seen := map[string]int{}
	for i, zone := range a.Zones {
		field := fmt.Sprintf("zones[%d]", i)
		if err := validate.DNSLabel(field+".name", zone.Name); err != nil {
			return err
		}
		if first, dup := seen[zone.Name]; dup {
			return validate.Errorf(field+".name", zone.Name, "repeats zones[%d].name", first)
		}
		seen[zone.Name] = i
		if object := name + "-" + zone.Name; len(object) > maxStatefulSetName {
			return validate.Errorf(field+".name", zone.Name, "makes the StatefulSet name %q, longer than %d characters", object, maxStatefulSetName)
		}
		if len(zone.NodeSelector) == 0 {
			return validate.Errorf(field+".nodeSelector", nil, "is empty; a zone's Gitaly must be pinned to its nodes")
		}
	}
	if a.StorageClass == "" {
		return validate.Missing("storageClass")
	}
	if err := validate.DNSLabel("storageClass", a.StorageClass); err != nil {
		return err
	}
	if err := validate.Quantity("volumeSize", a.VolumeSize); err != nil {
		return err
	}
	if err := validate.RequiredString("gitLabURL", a.GitLabURL); err != nil {
		return err
	}
	if raw, ok := validate.LiteralString(a.GitLabURL); ok {
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return validate.Errorf("gitLabURL", raw, "is not an http:// or https:// URL")
		}
	}
	r := a.Resources
	for _, q := range []struct{ field, value string }{
		{"resources.cpuRequest", r.CPURequest}, {"resources.memoryRequest", r.MemoryRequest},
		{"resources.cpuLimit", r.CPULimit}, {"resources.memoryLimit", r.MemoryLimit},
	} {
		if err := validate.Quantity(q.field, q.value); err != nil {
			return err
		}
	}
	return nil
}

// NewGitaly validates args, then creates each zone's Gitaly. Bad args return one error naming the field, and
// nothing is registered.
func NewGitaly(ctx *pulumi.Context, name string, args *GitalyArgs, opts ...pulumi.ResourceOption) (*Gitaly, error) {
	if args == nil {
		return nil, fmt.Errorf("gitaly %q: args are required", name)
	}
	a := withDefaults(*args)
	if err := validateArgs(name, a); err != nil {
		return nil, fmt.Errorf("gitaly %q: %w", name, err)
	}
	g := &Gitaly{zones: a.Zones, withoutDefaultStorage: a.WithoutDefaultStorage, defaultStorageOnly: a.DefaultStorageOnly,
		StatefulSets: map[string]*appsv1.StatefulSet{}}
	if err := ctx.RegisterComponentResource(TypeToken, name, g, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(g)
	namespace, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(a.Namespace), Labels: labels(name, "")},
	}, parent)
	if err != nil {
		return nil, err
	}
	ns := namespace.Metadata.Name().Elem()
	authToken, err := token(ctx, g, name+"-auth-token", 64)
	if err != nil {
		return nil, err
	}
	var shellSecret pulumi.StringOutput
	if a.ShellSecret != nil {
		shellSecret = pulumi.ToSecret(a.ShellSecret).(pulumi.StringOutput)
	} else if shellSecret, err = token(ctx, g, name+"-shell-secret", 128); err != nil {
		// GitLab generates this secret as 64 hex digits (gitlab/libraries/gitlab_shell.rb); any string will do.
		return nil, err
	}
	secret, err := corev1.NewSecret(ctx, name+"-secrets", &corev1.SecretArgs{
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(name + "-secrets"), Namespace: ns, Labels: labels(name, "")},
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{envAuthToken: authToken, envShellSecret: shellSecret},
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := newNetworkPolicy(ctx, g, name, ns, a.ClientNamespace, a.MonitoringNamespace); err != nil {
		return nil, err
	}
	addresses := pulumi.StringMap{}
	for i, zone := range a.Zones {
		set, service, err := newZoneGitaly(ctx, g, zoneGitalyArgs{
			name: name, namespace: ns, zone: zone, args: a, secret: secret.Metadata.Name().Elem(),
			storages: zoneStorages(zone.Name, i == 0 && !a.WithoutDefaultStorage, a.DefaultStorageOnly),
		})
		if err != nil {
			return nil, err
		}
		g.StatefulSets[zone.Name] = set
		addresses[zone.Name] = pulumi.Sprintf("tcp://%s.%s.svc:%d", service.Metadata.Name().Elem(), ns, Port)
	}
	g.Namespace = ns
	g.Addresses = addresses.ToStringMapOutput()
	g.AuthToken = pulumi.ToSecret(authToken).(pulumi.StringOutput)
	g.ShellSecret = pulumi.ToSecret(shellSecret).(pulumi.StringOutput)
	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{
		"namespace": g.Namespace, "addresses": g.Addresses, "authToken": g.AuthToken, "shellSecret": g.ShellSecret,
	}); err != nil {
		return nil, err
	}
	return g, nil
}

// token generates letters and digits, kept secret.
func token(ctx *pulumi.Context, parent pulumi.Resource, name string, length int) (pulumi.StringOutput, error) {
	generated, err := random.NewRandomPassword(ctx, name, &random.RandomPasswordArgs{
		Length: pulumi.Int(length), Special: pulumi.Bool(false),
	}, pulumi.Parent(parent))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return pulumi.ToSecret(generated.Result).(pulumi.StringOutput), nil
}

// labels go on every object; zone is "" for the shared ones.
func labels(name, zone string) pulumi.StringMap {
	l := pulumi.StringMap{
		"app.kubernetes.io/name": pulumi.String("gitaly"), "app.kubernetes.io/instance": pulumi.String(name),
		"app.kubernetes.io/component": pulumi.String("gitaly"), "app.kubernetes.io/part-of": pulumi.String("gitlab-ha"),
		"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
	}
	if zone != "" {
		l[gitlab.ZoneLabelKey] = pulumi.String(zone)
	}
	return l
}

// selector selects one instance's Gitaly pods, or one zone's.
func selector(name, zone string) pulumi.StringMap {
	s := pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("gitaly"), "app.kubernetes.io/instance": pulumi.String(name)}
	if zone != "" {
		s[gitlab.ZoneLabelKey] = pulumi.String(zone)
	}
	return s
}

// rubyString quotes s as a single-quoted Ruby string.
func rubyString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
