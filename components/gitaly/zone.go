package gitaly

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

// Variables that carry the secrets into the container; gitlab.rb reads them with ENV.fetch, so the ConfigMap
// holds none.
const (
	envAuthToken   = "GITALY_AUTH_TOKEN"
	envShellSecret = "GITLAB_SHELL_SECRET_TOKEN"
	// omnibusConfigKey is the ConfigMap key and the variable the image reads its configuration from.
	omnibusConfigKey = "GITLAB_OMNIBUS_CONFIG"
)

// gitData is where a zone's volume is mounted: Omnibus's git-data directory, each storage a directory of it.
const gitData = "/var/opt/gitlab/git-data"

// storage is one storage a zone's Gitaly serves.
type storage struct{ name, path string }

// zoneStorages are what a zone's Gitaly serves: its own, and on the first zone the empty "default" GitLab
// requires, each in a directory of the volume (Omnibus refuses two storages on one path, gitaly/libraries/
// gitaly.rb, check_duplicate_storage_paths).
func zoneStorages(zone string, withDefault, defaultOnly bool) []storage {
	if defaultOnly {
		return []storage{{gitlab.DefaultStorageName, gitData + "/default"}}
	}
	storages := []storage{{StorageName(zone), gitData + "/repositories"}}
	if withDefault {
		storages = append(storages, storage{gitlab.DefaultStorageName, gitData + "/default"})
	}
	return storages
}

// renderConfig writes a zone's gitlab.rb: Omnibus's Gitaly role (gitaly and the system services; no Rails,
// package/libraries/config/roles/gitaly.rb), listening on TCP with the auth token, its storages, and GitLab's
// internal API for the hooks a push runs. It holds no secret.
func renderConfig(gitLabURL string, storages []storage) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("gitaly_role['enable'] = true")
	// The node's metrics are the cluster's to collect, not a pod's.
	line("node_exporter['enable'] = false")
	line("gitlab_rails['internal_api_url'] = %s", rubyString(gitLabURL))
	line("gitlab_shell['secret_token'] = ENV.fetch(%s)", rubyString(envShellSecret))
	line("gitaly['gitlab_secret'] = ENV.fetch(%s)", rubyString(envShellSecret))
	line("gitaly['configuration'] = {")
	line("  listen_addr: '0.0.0.0:%d',", Port)
	// Metrics for the cluster's Prometheus; the gRPC handling-time histogram exists only with buckets.
	line("  prometheus_listen_addr: '0.0.0.0:%d',", MetricsPort)
	line("  prometheus: %s,", gitlab.GitalyPrometheusSettings())
	line("  auth: { token: ENV.fetch(%s) },", rubyString(envAuthToken))
	line("  storage: [")
	for _, s := range storages {
		line("    { name: %s, path: %s },", rubyString(s.name), rubyString(s.path))
	}
	line("  ],")
	line("}")
	return b.String()
}

// capabilities Omnibus needs to start Gitaly as root and run it as git: owning its directories, switching
// users, signalling its processes. Nothing binds a low port, and there is no sshd.
var capabilities = []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID"}

// scratchDirs are per-pod: configuration, logs, runtime state; the volume is mounted inside the last.
var scratchDirs = []struct{ name, mountPath string }{
	{"etc", "/etc/gitlab"}, {"logs", "/var/log/gitlab"}, {"state", "/var/opt/gitlab"},
}

// repositoriesClaim names the StatefulSet's volume claim template: the zone's claim is
// repositories-<name>-<zone>-0.
const repositoriesClaim = "repositories"

// startupFailures at 10 s each give a first start (a reconfigure) 15 minutes.
const startupFailures = 90

type zoneGitalyArgs struct {
	name      string
	namespace pulumi.StringInput
	zone      Zone
	args      GitalyArgs
	secret    pulumi.StringInput
	storages  []storage
}

// newZoneGitaly creates a zone's configuration, Service and StatefulSet.
func newZoneGitaly(ctx *pulumi.Context, parent pulumi.Resource, z zoneGitalyArgs) (*appsv1.StatefulSet, *corev1.Service, error) {
	objectName := z.name + "-" + z.zone.Name
	meta := &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: z.namespace, Labels: labels(z.name, z.zone.Name)}
	config := z.args.GitLabURL.ToStringOutput().ApplyT(func(u string) string { return renderConfig(u, z.storages) }).(pulumi.StringOutput)
	configMap, err := corev1.NewConfigMap(ctx, objectName, &corev1.ConfigMapArgs{
		Metadata: meta, Data: pulumi.StringMap{omnibusConfigKey: config},
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, nil, err
	}
	service, err := corev1.NewService(ctx, objectName, &corev1.ServiceArgs{
		Metadata: meta,
		Spec: &corev1.ServiceSpecArgs{
			// Headless, as GitLab's chart makes Gitaly's: the StatefulSet's governing Service, whose name resolves
			// to the zone's pod itself.
			Type: pulumi.String("ClusterIP"), ClusterIP: pulumi.String("None"),
			Selector: selector(z.name, z.zone.Name),
			Ports: corev1.ServicePortArray{&corev1.ServicePortArgs{
				Name: pulumi.String("gitaly"), Port: pulumi.Int(Port), TargetPort: pulumi.String("gitaly"), Protocol: pulumi.String("TCP"),
			}},
		},
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, nil, err
	}
	checksum := config.ApplyT(func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}).(pulumi.StringOutput)
	set, err := appsv1.NewStatefulSet(ctx, objectName, &appsv1.StatefulSetArgs{
		Metadata: meta,
		Spec: &appsv1.StatefulSetSpecArgs{
			Replicas:    pulumi.Int(1),
			ServiceName: service.Metadata.Name().Elem(),
			Selector:    &metav1.LabelSelectorArgs{MatchLabels: selector(z.name, z.zone.Name)},
			// Deleting or scaling the StatefulSet keeps the zone's claim, and so its repositories.
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
				WhenDeleted: pulumi.String("Retain"), WhenScaled: pulumi.String("Retain"),
			},
			UpdateStrategy: &appsv1.StatefulSetUpdateStrategyArgs{Type: pulumi.String("RollingUpdate")},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels:      labels(z.name, z.zone.Name),
					Annotations: pulumi.StringMap{"checksum/config": checksum},
				},
				Spec: podSpec(z, configMap.Metadata.Name().Elem()),
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{&corev1.PersistentVolumeClaimTypeArgs{
				Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(repositoriesClaim), Labels: labels(z.name, z.zone.Name)},
				Spec: &corev1.PersistentVolumeClaimSpecArgs{
					AccessModes:      pulumi.StringArray{pulumi.String("ReadWriteOnce")},
					StorageClassName: pulumi.String(z.args.StorageClass),
					Resources:        &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(z.args.VolumeSize)}},
				},
			}},
		},
	}, pulumi.Parent(parent), pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "25m", Update: "25m"}))
	return set, service, err
}

func podSpec(z zoneGitalyArgs, configMap pulumi.StringInput) *corev1.PodSpecArgs {
	volumes := corev1.VolumeArray{}
	mounts := corev1.VolumeMountArray{}
	for _, dir := range scratchDirs {
		volumes = append(volumes, &corev1.VolumeArgs{Name: pulumi.String(dir.name), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}})
		mounts = append(mounts, &corev1.VolumeMountArgs{Name: pulumi.String(dir.name), MountPath: pulumi.String(dir.mountPath)})
	}
	mounts = append(mounts, &corev1.VolumeMountArgs{Name: pulumi.String(repositoriesClaim), MountPath: pulumi.String(gitData)})
	r := z.args.Resources
	port := func() *corev1.TCPSocketActionArgs { return &corev1.TCPSocketActionArgs{Port: pulumi.String("gitaly")} }
	return &corev1.PodSpecArgs{
		NodeSelector:                  toStringMap(z.zone.NodeSelector),
		AutomountServiceAccountToken:  pulumi.Bool(false), // Gitaly never talks to the Kubernetes API
		EnableServiceLinks:            pulumi.Bool(false),
		TerminationGracePeriodSeconds: pulumi.Int(60), // Gitaly finishes the RPCs in flight
		SecurityContext: &corev1.PodSecurityContextArgs{
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		Containers: corev1.ContainerArray{&corev1.ContainerArgs{
			Name:            pulumi.String("gitaly"),
			Image:           pulumi.String(z.args.Image),
			ImagePullPolicy: pulumi.String("Always"), // layers are cached; Always re-checks the registry's credentials
			Ports: corev1.ContainerPortArray{
				&corev1.ContainerPortArgs{Name: pulumi.String("gitaly"), ContainerPort: pulumi.Int(Port), Protocol: pulumi.String("TCP")},
				&corev1.ContainerPortArgs{Name: pulumi.String(MetricsPortName), ContainerPort: pulumi.Int(MetricsPort), Protocol: pulumi.String("TCP")},
			},
			EnvFrom: corev1.EnvFromSourceArray{
				&corev1.EnvFromSourceArgs{ConfigMapRef: &corev1.ConfigMapEnvSourceArgs{Name: configMap}},
				&corev1.EnvFromSourceArgs{SecretRef: &corev1.SecretEnvSourceArgs{Name: z.secret}},
			},
			// The image's entrypoint (docker/assets/init-container) reconfigures, starts runit and tails the logs;
			// no sshd, and no PostgreSQL to upgrade.
			Env: corev1.EnvVarArray{
				&corev1.EnvVarArgs{Name: pulumi.String("GITLAB_DISABLE_OPENSSH"), Value: pulumi.String("true")},
				&corev1.EnvVarArgs{Name: pulumi.String("GITLAB_SKIP_PG_UPGRADE"), Value: pulumi.String("true")},
			},
			Resources: &corev1.ResourceRequirementsArgs{
				Requests: pulumi.StringMap{"cpu": pulumi.String(r.CPURequest), "memory": pulumi.String(r.MemoryRequest), "ephemeral-storage": pulumi.String("1Gi")},
				Limits:   pulumi.StringMap{"cpu": pulumi.String(r.CPULimit), "memory": pulumi.String(r.MemoryLimit), "ephemeral-storage": pulumi.String("10Gi")},
			},
			// Ready once Gitaly accepts connections on its port; alive while runit keeps Gitaly running. A
			// reconfigure (the first start) may take the startup probe's 15 minutes.
			StartupProbe:   &corev1.ProbeArgs{TcpSocket: port(), PeriodSeconds: pulumi.Int(10), FailureThreshold: pulumi.Int(startupFailures)},
			ReadinessProbe: &corev1.ProbeArgs{TcpSocket: port(), PeriodSeconds: pulumi.Int(10), FailureThreshold: pulumi.Int(3)},
			LivenessProbe: &corev1.ProbeArgs{Exec: &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{
				"/bin/sh", "-c", "/opt/gitlab/embedded/bin/sv status /opt/gitlab/service/gitaly | grep -q '^run:'",
			})}, PeriodSeconds: pulumi.Int(30), TimeoutSeconds: pulumi.Int(10), FailureThreshold: pulumi.Int(6)},
			TerminationMessagePolicy: pulumi.String("FallbackToLogsOnError"),
			SecurityContext: &corev1.SecurityContextArgs{
				AllowPrivilegeEscalation: pulumi.Bool(false),
				Capabilities: &corev1.CapabilitiesArgs{
					Drop: pulumi.StringArray{pulumi.String("ALL")}, Add: pulumi.ToStringArray(capabilities),
				},
			},
			VolumeMounts: mounts,
		}},
		Volumes: volumes,
	}
}

func toStringMap(m map[string]string) pulumi.StringMap {
	out := pulumi.StringMap{}
	for k, v := range m {
		out[k] = pulumi.String(v)
	}
	return out
}
