package gitlab

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
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

// dataVolume is the zone's claim in the pod; sharedDirs are the directories GitLab's multi-node guide has
// every node share, each a subPath of it. On NFS every zone mounts the same file system, so these are one
// set of directories for all replicas.
const dataVolume = "data"

// configDir holds gitlab-secrets.json (every secret GitLab generates for itself) and the SSH host keys.
// Shared, it gives all replicas one set of each: what GitLab's multi-node guide gets by copying the file,
// and what keeps SSH clients from seeing a new host key when the load balancer picks another zone.
const configDir = "/etc/gitlab"

var sharedDirs = []struct{ subPath, mountPath string }{
	{"config", configDir},
	{"git-data", "/var/opt/gitlab/git-data"},
	{"ssh", "/var/opt/gitlab/.ssh"}, // authorized_keys, written by whichever replica adds a key
	{"uploads", "/var/opt/gitlab/gitlab-rails/uploads"},
	{"shared", "/var/opt/gitlab/gitlab-rails/shared"},
	{"builds", "/var/opt/gitlab/gitlab-ci/builds"},
}

// scratchDirs are per-pod: logs, and runtime state (sockets, caches).
var scratchDirs = []struct{ name, mountPath string }{
	{"logs", "/var/log/gitlab"},
	{"state", "/var/opt/gitlab"},
}

// healthcheck is the check the Omnibus image's own Docker HEALTHCHECK runs: a request through NGINX and
// Workhorse to Rails. It decides liveness: a replica whose chain is broken is restarted.
var healthcheck = pulumi.StringArray{pulumi.String("/opt/gitlab/bin/gitlab-healthcheck"), pulumi.String("--fail"), pulumi.String("--max-time"), pulumi.String("10")}

// readinessCheck asks Puma, on its loopback port (inside GitLab's monitoring allow-list), whether the
// database, Redis and Gitaly answer. It decides readiness: when the database fails over, replicas leave
// the Service until it is back, and are not restarted for it.
var readinessCheck = pulumi.StringArray{pulumi.String("/opt/gitlab/embedded/bin/curl"), pulumi.String("--fail"), pulumi.String("--silent"),
	pulumi.String("--max-time"), pulumi.String("10"), pulumi.String("http://127.0.0.1:8080/-/readiness")}

// helperUser runs the containers that need no privilege at all, above the range images use for their own.
const helperUser = 10001

// capabilities GitLab keeps: Omnibus starts as root and runs its services as several users (runit's chpst),
// owns their directories, binds 22 and 80, and sshd chroots for privilege separation. Everything else in
// Docker's default set (NET_RAW, MKNOD, SETPCAP, SETFCAP) is dropped.
var capabilities = []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE", "SYS_CHROOT", "AUDIT_WRITE"}

// zoneDeploymentArgs is what one zone's Deployment is built from.
type zoneDeploymentArgs struct {
	name           string
	namespace      pulumi.StringInput
	zone           Zone
	args           GitLabArgs // defaulted
	claimName      pulumi.StringInput
	configMapName  pulumi.StringInput
	secretName     pulumi.StringInput
	configChecksum pulumi.StringInput
	// migrate is true for exactly one zone, the first: its pods run database migrations on start, so that
	// an upgrade never has several replicas migrating at once.
	migrate bool
	// waitForFirstZone makes the pods wait until the first zone has written the shared gitlab-secrets.json,
	// so that on a first install every replica adopts one set of secrets instead of racing to write its own.
	waitForFirstZone bool
}

func newZoneDeployment(ctx *pulumi.Context, parent pulumi.Resource, d zoneDeploymentArgs) (*appsv1.Deployment, error) {
	objectName := d.name + "-" + d.zone.Name
	labels := toStringMap(zoneLabels(d.name, WebserviceComponent, d.zone.Name))
	return appsv1.NewDeployment(ctx, objectName, &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: d.namespace, Labels: labels},
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
	}, pulumi.Parent(parent))
}

// deploymentStrategy rolls a shared (ReadWriteMany) zone one new pod at a time, never below the desired
// count; a ReadWriteOnce volume can be attached to one pod only, so its old pod must go first.
func deploymentStrategy(storage Storage) *appsv1.DeploymentStrategyArgs {
	if storage.NFS == nil {
		return &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")}
	}
	return &appsv1.DeploymentStrategyArgs{
		Type:          pulumi.String("RollingUpdate"),
		RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{MaxSurge: pulumi.Int(1), MaxUnavailable: pulumi.Int(0)},
	}
}

func zonePodSpec(d zoneDeploymentArgs) *corev1.PodSpecArgs {
	volumes := corev1.VolumeArray{
		&corev1.VolumeArgs{Name: pulumi.String(dataVolume), PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: d.claimName}},
		// Puma keeps its metrics in /dev/shm; the 64 MiB default is too small (GitLab's Docker guide asks 256m).
		&corev1.VolumeArgs{Name: pulumi.String("shm"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{Medium: pulumi.String("Memory"), SizeLimit: pulumi.String("256Mi")}},
	}
	for _, dir := range scratchDirs {
		volumes = append(volumes, &corev1.VolumeArgs{Name: pulumi.String(dir.name), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}})
	}
	if d.args.TLSSecretName != "" {
		volumes = append(volumes, &corev1.VolumeArgs{Name: pulumi.String("tls"), Secret: &corev1.SecretVolumeSourceArgs{SecretName: pulumi.String(d.args.TLSSecretName)}})
	}
	return &corev1.PodSpecArgs{
		NodeSelector:                  toStringMap(d.zone.NodeSelector),
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
		InitContainers: initContainers(d),
		Containers:     corev1.ContainerArray{gitlabContainer(d)},
		Volumes:        volumes,
	}
}

// secretsFile is the file the first zone's GitLab writes on its first start.
const secretsFile = configDir + "/gitlab-secrets.json"

func initContainers(d zoneDeploymentArgs) corev1.ContainerArray {
	if !d.waitForFirstZone {
		return nil
	}
	return corev1.ContainerArray{&corev1.ContainerArgs{
		Name:            pulumi.String("wait-for-first-zone"),
		Image:           pulumi.String(d.args.Image), // already pulled for the main container
		ImagePullPolicy: pulumi.String("Always"),     // layers are cached; Always re-checks the registry's credentials
		Command: pulumi.ToStringArray([]string{"sh", "-c",
			"until [ -s " + secretsFile + " ]; do echo waiting for the first zone to write " + secretsFile + "; sleep 10; done"}),
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("10m"), "memory": pulumi.String("32Mi"), "ephemeral-storage": pulumi.String("16Mi")},
			Limits:   pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("64Mi"), "ephemeral-storage": pulumi.String("64Mi")},
		},
		// Testing for a file needs no privilege: search permission on /etc/gitlab, which Omnibus gives all.
		SecurityContext: &corev1.SecurityContextArgs{
			RunAsNonRoot:             pulumi.Bool(true),
			RunAsUser:                pulumi.Int(helperUser),
			RunAsGroup:               pulumi.Int(helperUser),
			AllowPrivilegeEscalation: pulumi.Bool(false),
			ReadOnlyRootFilesystem:   pulumi.Bool(true),
			Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		},
		VolumeMounts: corev1.VolumeMountArray{&corev1.VolumeMountArgs{
			Name: pulumi.String(dataVolume), MountPath: pulumi.String(configDir), SubPath: pulumi.String("config"), ReadOnly: pulumi.Bool(true),
		}},
	}}
}

func gitlabContainer(d zoneDeploymentArgs) *corev1.ContainerArgs {
	ports := corev1.ContainerPortArray{
		&corev1.ContainerPortArgs{Name: pulumi.String("http"), ContainerPort: pulumi.Int(httpPort), Protocol: pulumi.String("TCP")},
		&corev1.ContainerPortArgs{Name: pulumi.String("ssh"), ContainerPort: pulumi.Int(sshPort), Protocol: pulumi.String("TCP")},
	}
	mounts := corev1.VolumeMountArray{&corev1.VolumeMountArgs{Name: pulumi.String("shm"), MountPath: pulumi.String("/dev/shm")}}
	for _, dir := range scratchDirs {
		mounts = append(mounts, &corev1.VolumeMountArgs{Name: pulumi.String(dir.name), MountPath: pulumi.String(dir.mountPath)})
	}
	for _, dir := range sharedDirs {
		mounts = append(mounts, &corev1.VolumeMountArgs{Name: pulumi.String(dataVolume), MountPath: pulumi.String(dir.mountPath), SubPath: pulumi.String(dir.subPath)})
	}
	if d.args.TLSSecretName != "" {
		ports = append(ports, &corev1.ContainerPortArgs{Name: pulumi.String("https"), ContainerPort: pulumi.Int(httpsPort), Protocol: pulumi.String("TCP")})
		mounts = append(mounts, &corev1.VolumeMountArgs{Name: pulumi.String("tls"), MountPath: pulumi.String(tlsDir), ReadOnly: pulumi.Bool(true)})
	}
	migrate := "false"
	if d.migrate {
		migrate = "true"
	}
	r := d.args.Resources
	return &corev1.ContainerArgs{
		Name:            pulumi.String("gitlab"),
		Image:           pulumi.String(d.args.Image),
		ImagePullPolicy: pulumi.String("Always"), // layers are cached; Always re-checks the registry's credentials
		Ports:           ports,
		EnvFrom: corev1.EnvFromSourceArray{
			&corev1.EnvFromSourceArgs{ConfigMapRef: &corev1.ConfigMapEnvSourceArgs{Name: d.configMapName}},
			&corev1.EnvFromSourceArgs{SecretRef: &corev1.SecretEnvSourceArgs{Name: d.secretName}},
		},
		Env: corev1.EnvVarArray{&corev1.EnvVarArgs{Name: pulumi.String(envAutoMigrate), Value: pulumi.String(migrate)}},
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String(r.CPURequest), "memory": pulumi.String(r.MemoryRequest),
				"ephemeral-storage": pulumi.String(r.EphemeralStorageRequest)},
			Limits: pulumi.StringMap{"cpu": pulumi.String(r.CPULimit), "memory": pulumi.String(r.MemoryLimit),
				"ephemeral-storage": pulumi.String(r.EphemeralStorageLimit)},
		},
		// The first start reconfigures and may migrate the database: allow it 15 minutes before liveness
		// takes over. Readiness then takes a replica out of the Service within 30 s of failing.
		StartupProbe:   execProbe(healthcheck, 10, 10, 90),
		ReadinessProbe: execProbe(readinessCheck, 10, 10, 3),
		LivenessProbe:  execProbe(healthcheck, 30, 10, 6),
		SecurityContext: &corev1.SecurityContextArgs{
			AllowPrivilegeEscalation: pulumi.Bool(false),
			Capabilities: &corev1.CapabilitiesArgs{
				Drop: pulumi.StringArray{pulumi.String("ALL")},
				Add:  pulumi.ToStringArray(capabilities),
			},
		},
		VolumeMounts: mounts,
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
