package gitlab

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Container ports of the Omnibus image.
const (
	httpPort  = 80
	httpsPort = 443
	sshPort   = 22
)

// The checks the probes run, inside the container: GitLab's health endpoints answer only clients in
// gitlab_rails['monitoring_whitelist'], 127.0.0.0/8 and ::1 by default (gitlab/attributes/default.rb), and
// a kubelet's HTTP probe would come from the node's address. An exec probe's curl comes from loopback.
func curlProbe(url string, insecure bool) pulumi.StringArray {
	command := []string{"/opt/gitlab/embedded/bin/curl", "--fail", "--silent", "--output", "/dev/null", "--max-time", "10"}
	if insecure {
		command = append(command, "--insecure") // NGINX serves the Secret's certificate, issued for the external name
	}
	return pulumi.ToStringArray(append(command, url))
}

// livenessCheck asks Puma, on its loopback port, whether the application server is alive (/-/liveness
// checks no dependency). It decides liveness: a database or Redis outage must not restart every replica.
var livenessCheck = curlProbe("http://127.0.0.1:8080/-/liveness", false)

// readinessCheck asks through NGINX, Workhorse and Puma whether this replica can serve a request, and nothing
// more: plain /-/readiness checks Puma's master, not the database, Redis or Gitaly, as GitLab's Helm chart
// and its zero-downtime guide probe it (doc/update/zero_downtime.md: load balancers check /-/readiness). Those
// dependencies are shared by every zone, so ?all=1 would take every replica out of the Service together in
// one database failover and refuse every request, where a replica left in it still serves what needs no
// database and answers the rest the moment the database is back. A replica whose NGINX, Workhorse or Puma is
// stuck still leaves the Service within 30 s. Dependencies are for alerts to watch, not for traffic.
func readinessCheck(serveTLS bool) pulumi.StringArray {
	if serveTLS {
		return curlProbe("https://127.0.0.1:443/-/readiness", true)
	}
	return curlProbe("http://127.0.0.1:80/-/readiness", false)
}

// zoneDeploymentArgs is what one zone's Deployment is built from.
type zoneDeploymentArgs struct {
	name           string
	namespace      pulumi.StringInput
	zone           Zone
	args           GitLabArgs // defaulted
	pod            omnibusPod
	hostKeysSecret pulumi.StringInput
	configChecksum pulumi.StringInput
	// migrations is the Job that migrates the database for this release: the Deployment waits for it.
	migrations *batchv1.Job
}

func newZoneDeployment(ctx *pulumi.Context, parent pulumi.Resource, d zoneDeploymentArgs) (*appsv1.Deployment, error) {
	objectName := d.name + "-" + d.zone.Name
	labels := toStringMap(zoneLabels(d.name, WebserviceComponent, d.zone.Name))
	return appsv1.NewDeployment(ctx, objectName, &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: d.namespace, Labels: labels,
			// On the Deployment, not its pods: a new Job alone rolls nothing.
			Annotations: after(jobRef(d.migrations))},
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas:             pulumi.Int(*d.args.ReplicasPerZone),
			RevisionHistoryLimit: pulumi.Int(5),
			Selector:             &metav1.LabelSelectorArgs{MatchLabels: toStringMap(zoneSelector(d.name, WebserviceComponent, d.zone.Name))},
			Strategy:             deploymentStrategy(d.zone.Storage),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels:      labels,
					Annotations: pulumi.StringMap{"checksum/config": d.configChecksum},
				},
				Spec: zonePodSpec(d),
			},
		},
	}, pulumi.Parent(parent), waitFor(zoneRolloutWait(*d.args.ReplicasPerZone)))
}

// deploymentStrategy rolls a shared (ReadWriteMany) zone, or one without a volume, one new pod at a time,
// never below the desired count; a ReadWriteOnce volume can be attached to one pod only, so its old pod must go first.
func deploymentStrategy(storage Storage) *appsv1.DeploymentStrategyArgs {
	if storage.StorageClass != "" {
		return &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")}
	}
	return &appsv1.DeploymentStrategyArgs{
		Type:          pulumi.String("RollingUpdate"),
		RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{MaxSurge: pulumi.Int(1), MaxUnavailable: pulumi.Int(0)},
	}
}

func zonePodSpec(d zoneDeploymentArgs) *corev1.PodSpecArgs {
	volumes := append(d.pod.volumes(),
		// Puma keeps its metrics in /dev/shm; the 64 MiB default is too small (GitLab's Docker guide asks 256m).
		&corev1.VolumeArgs{Name: pulumi.String("shm"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{Medium: pulumi.String("Memory"), SizeLimit: pulumi.String("256Mi")}},
		&corev1.VolumeArgs{Name: pulumi.String("ssh-host-keys"), Secret: &corev1.SecretVolumeSourceArgs{
			SecretName: d.hostKeysSecret, DefaultMode: pulumi.Int(0o400),
		}},
	)
	if d.args.TLSSecretName != "" {
		volumes = append(volumes, &corev1.VolumeArgs{Name: pulumi.String("tls"), Secret: &corev1.SecretVolumeSourceArgs{SecretName: pulumi.String(d.args.TLSSecretName)}})
	}
	return &corev1.PodSpecArgs{
		NodeSelector:                  toStringMap(d.zone.NodeSelector),
		ServiceAccountName:            d.pod.serviceAccountName(),
		AutomountServiceAccountToken:  pulumi.Bool(false), // GitLab never talks to the Kubernetes API
		EnableServiceLinks:            pulumi.Bool(false),
		TerminationGracePeriodSeconds: pulumi.Int(120), // Puma drains requests before it stops
		SecurityContext: &corev1.PodSecurityContextArgs{
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		// Several replicas in a zone spread over its nodes where they can.
		TopologySpreadConstraints: corev1.TopologySpreadConstraintArray{&corev1.TopologySpreadConstraintArgs{
			MaxSkew:           pulumi.Int(1),
			TopologyKey:       pulumi.String("kubernetes.io/hostname"),
			WhenUnsatisfiable: pulumi.String("ScheduleAnyway"),
			LabelSelector:     &metav1.LabelSelectorArgs{MatchLabels: toStringMap(zoneSelector(d.name, WebserviceComponent, d.zone.Name))},
		}},
		Containers: corev1.ContainerArray{gitlabContainer(d)},
		Volumes:    volumes,
	}
}

func gitlabContainer(d zoneDeploymentArgs) *corev1.ContainerArgs {
	ports := zoneContainerPorts(d.args)
	mounts := append(d.pod.mounts(),
		&corev1.VolumeMountArgs{Name: pulumi.String("shm"), MountPath: pulumi.String("/dev/shm")},
		&corev1.VolumeMountArgs{Name: pulumi.String("ssh-host-keys"), MountPath: pulumi.String(hostKeyDir), ReadOnly: pulumi.Bool(true)},
	)
	serveTLS := d.args.TLSSecretName != ""
	if serveTLS {
		mounts = append(mounts, &corev1.VolumeMountArgs{Name: pulumi.String("tls"), MountPath: pulumi.String(tlsDir), ReadOnly: pulumi.Bool(true)})
	}
	preReconfigure := preReconfigureScript(true, d.zone.Storage)
	if d.args.Service.ProxyProtocol != nil {
		preReconfigure += kubeletEscape(gitlabSSHDHostKeyScript())
	}
	env := append(corev1.EnvVarArray{&corev1.EnvVarArgs{
		Name: pulumi.String(envPreReconfigureScript), Value: pulumi.String(preReconfigure),
	}}, d.pod.nfsEnv()...)
	env = append(env, sshdEnv(d.args)...)
	r := d.args.Resources
	return &corev1.ContainerArgs{
		Name:            pulumi.String("gitlab"),
		Image:           pulumi.String(d.args.Image),
		ImagePullPolicy: pulumi.String("Always"), // layers are cached; Always re-checks the registry's credentials
		Ports:           ports,
		EnvFrom:         d.pod.envFrom(),
		Env:             env,
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String(r.CPURequest), "memory": pulumi.String(r.MemoryRequest),
				"ephemeral-storage": pulumi.String(r.EphemeralStorageRequest)},
			Limits: pulumi.StringMap{"cpu": pulumi.String(r.CPULimit), "memory": pulumi.String(r.MemoryLimit),
				"ephemeral-storage": pulumi.String(r.EphemeralStorageLimit)},
		},
		// Start-up reconfigures (migrations ran before, in the Job): allow it 15 minutes on a slow file
		// system before liveness takes over. Readiness then takes a replica out of the Service within 30 s
		// of failing; liveness restarts it after 3 minutes without Puma.
		StartupProbe:             execProbe(livenessCheck, startupPeriodSeconds, 10, startupFailures),
		ReadinessProbe:           execProbe(readinessCheck(serveTLS), 10, 10, 3),
		LivenessProbe:            execProbe(livenessCheck, 30, 10, 6),
		TerminationMessagePolicy: pulumi.String("FallbackToLogsOnError"),
		SecurityContext:          omnibusSecurityContext(),
		VolumeMounts:             mounts,
	}
}

func execProbe(command pulumi.StringArray, periodSeconds, timeoutSeconds, failureThreshold int) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		Exec:             &corev1.ExecActionArgs{Command: command},
		PeriodSeconds:    pulumi.Int(periodSeconds),
		TimeoutSeconds:   pulumi.Int(timeoutSeconds + 5), // the check's own --max-time, plus start-up
		FailureThreshold: pulumi.Int(failureThreshold),
	}
}
