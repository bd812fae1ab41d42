package gitlab

import (
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// What every pod that runs the Omnibus image shares, the zones' replicas and the migration Jobs alike: the
// configuration and secrets, the zone's volume and the per-pod scratch directories.

// dataVolume is the zone's claim in the pod; sharedDirs are the directories GitLab's guide to NFS has every
// node share, each a subPath of it, with authorized_keys beside them. On NFS every zone mounts the same file
// system, so these are one set of directories for all replicas. /etc/gitlab is not among them: every secret
// comes from the Secrets, and each pod keeps its own /etc/gitlab.
const dataVolume = "data"

var sharedDirs = []struct{ subPath, mountPath string }{
	{"git-data", "/var/opt/gitlab/git-data"},
	{"ssh", "/var/opt/gitlab/.ssh"}, // authorized_keys, written by whichever replica adds a key
	{"uploads", "/var/opt/gitlab/gitlab-rails/uploads"},
	{"shared", "/var/opt/gitlab/gitlab-rails/shared"},
	{"builds", "/var/opt/gitlab/gitlab-ci/builds"},
}

// previousConfigSubPath is the volume's directory that an earlier version of the component mounted at
// /etc/gitlab in every replica. It is mounted read-only at previousConfigDir: nothing writes it any more, and
// its gitlab-secrets.json and SSH host keys, where they exist, are adopted (see renderSecrets and
// hostKeyScript).
const previousConfigSubPath = "config"

// scratchDirs are per-pod: configuration, logs, and runtime state (sockets, caches).
var scratchDirs = []struct{ name, mountPath string }{
	{"etc", "/etc/gitlab"},
	{"logs", "/var/log/gitlab"},
	{"state", "/var/opt/gitlab"},
}

// gitUser is the git account's name in the image (docker/assets/setup: useradd -u 998 git).
const gitUser = "git"

// capabilities GitLab keeps: Omnibus starts as root and runs its services as several users (runit's chpst),
// owns their directories, binds 22 and 80, and sshd chroots for privilege separation. Everything else in
// Docker's default set (NET_RAW, MKNOD, SETPCAP, SETFCAP) is dropped.
var capabilities = []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE", "SYS_CHROOT", "AUDIT_WRITE"}

// omnibusSecurityContext lets the image's root start what it must and nothing more.
func omnibusSecurityContext() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false),
		Capabilities: &corev1.CapabilitiesArgs{
			Drop: pulumi.StringArray{pulumi.String("ALL")},
			Add:  pulumi.ToStringArray(capabilities),
		},
	}
}

// omnibusPod is what a pod that runs the image is built from.
type omnibusPod struct {
	// claimName is the zone's claim; nil for a zone without a volume (GitStorage.stateless).
	claimName     pulumi.StringInput
	configMapName pulumi.StringInput
	secretName    pulumi.StringInput
	storage       Storage
	// serviceAccount is the workload identity GitLab reaches object storage with; nil for none, when the
	// pod runs as the namespace's default account.
	serviceAccount pulumi.StringInput
}

// serviceAccountName is the pod's service account, or nil to leave the default.
func (p omnibusPod) serviceAccountName() pulumi.StringPtrInput {
	if p.serviceAccount == nil {
		return nil
	}
	return p.serviceAccount.ToStringOutput().ToStringPtrOutput()
}

// volumes are the zone's claim and the scratch directories.
func (p omnibusPod) volumes() corev1.VolumeArray {
	volumes := corev1.VolumeArray{}
	if p.claimName != nil {
		volumes = append(volumes, &corev1.VolumeArgs{Name: pulumi.String(dataVolume),
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: p.claimName}})
	}
	for _, dir := range scratchDirs {
		volumes = append(volumes, &corev1.VolumeArgs{Name: pulumi.String(dir.name), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}})
	}
	return volumes
}

// mounts put the shared directories where Omnibus keeps them, the previous /etc/gitlab read-only beside its
// own, and the scratch directories.
func (p omnibusPod) mounts() corev1.VolumeMountArray {
	var mounts corev1.VolumeMountArray
	for _, dir := range scratchDirs {
		mounts = append(mounts, &corev1.VolumeMountArgs{Name: pulumi.String(dir.name), MountPath: pulumi.String(dir.mountPath)})
	}
	if p.claimName == nil {
		return mounts
	}
	for _, dir := range sharedDirs {
		mounts = append(mounts, &corev1.VolumeMountArgs{Name: pulumi.String(dataVolume), MountPath: pulumi.String(dir.mountPath), SubPath: pulumi.String(dir.subPath)})
	}
	return append(mounts, &corev1.VolumeMountArgs{
		Name: pulumi.String(dataVolume), MountPath: pulumi.String(previousConfigDir), SubPath: pulumi.String(previousConfigSubPath),
		ReadOnly: pulumi.Bool(true),
	})
}

// envFrom is the configuration and the secrets.
func (p omnibusPod) envFrom() corev1.EnvFromSourceArray {
	return corev1.EnvFromSourceArray{
		&corev1.EnvFromSourceArgs{ConfigMapRef: &corev1.ConfigMapEnvSourceArgs{Name: p.configMapName}},
		&corev1.EnvFromSourceArgs{SecretRef: &corev1.SecretEnvSourceArgs{Name: p.secretName}},
	}
}

// Variables the image's init-container (docker/assets/init-container) reads.
const (
	// envPreReconfigureScript is evaluated by the init-container before it starts runit and reconfigures.
	envPreReconfigureScript = "GITLAB_PRE_RECONFIGURE_SCRIPT"
	// envNFSServer and envNFSPath name a zone's export in the root-squash check's message.
	envNFSServer = "GITLAB_HA_NFS_SERVER"
	envNFSPath   = "GITLAB_HA_NFS_PATH"
)

// nfsEnv tells the start-up check which export the zone mounts; nil for a zone with its own volume.
func (p omnibusPod) nfsEnv() corev1.EnvVarArray {
	if p.storage.NFS == nil {
		return nil
	}
	return corev1.EnvVarArray{
		&corev1.EnvVarArgs{Name: pulumi.String(envNFSServer), Value: p.storage.NFS.Server},
		&corev1.EnvVarArgs{Name: pulumi.String(envNFSPath), Value: pulumi.String(p.storage.NFS.Path)},
	}
}

// rootSquashCheck fails the start, before reconfigure, when root in the container cannot give a file on the
// shared volume to the git user: reconfigure must chown the repositories and uploads it creates, which an
// NFS export with root_squash (or all_squash) forbids, and Chef's error would not say why.
const rootSquashCheck = `probe=/var/opt/gitlab/git-data/.gitlab-ha-root-squash-check-$HOSTNAME
if ! { touch "$probe" && chown ` + gitUser + `:` + gitUser + ` "$probe" && [ "$(stat -c %U "$probe")" = ` + gitUser + ` ]; } 2>/dev/null; then
  rm -f "$probe" 2>/dev/null || true
  message="NFS server ${` + envNFSServer + `} squashes root on ${` + envNFSPath + `}: root in the GitLab container cannot chown files on the shared volume, and reconfigure must. Export ${` + envNFSPath + `} with no_root_squash (for example in /etc/exports: ${` + envNFSPath + `} <client networks>(rw,sync,no_root_squash)), run exportfs -ra on the server, then restart this pod."
  echo "$message" > /dev/termination-log 2>/dev/null || true
  echo "$message" >&2
  exit 1
fi
rm -f "$probe"
`

// hostKeyDir is where the host keys Secret is mounted.
const hostKeyDir = "/etc/gitlab-ha/ssh-host-keys"

// hostKeyScript installs the SSH host keys sshd loads from /etc/gitlab (docker/assets/sshd_config) before
// runit starts it: the keys an earlier version of the component left in the shared /etc/gitlab where they
// exist, so that clients keep trusting the host, else the Secret's. The init-container has by then made a
// throwaway set of its own, which this replaces.
func hostKeyScript() string {
	var b strings.Builder
	for _, key := range sshHostKeys {
		file := key.file()
		b.WriteString(`key=` + file + `; source=` + hostKeyDir + `/$key
if [ -s ` + previousConfigDir + `/$key ]; then source=` + previousConfigDir + `/$key; fi
install -o root -g root -m 0600 "$source" /etc/gitlab/$key
ssh-keygen -y -f /etc/gitlab/$key > /etc/gitlab/$key.pub
`)
	}
	return b.String()
}

// sshdKeysFromGitLabOnly makes sshd find users' keys only through GitLab, never in an authorized_keys file.
// The image's sshd (docker/assets/sshd_config, which runit starts with -f /assets/sshd_config) reads both
// AuthorizedKeysFile and AuthorizedKeysCommand, gitlab-shell's lookup in the database; GitLab's guide to fast
// SSH key lookup has the file's writes turned off (authorized_keys_enabled, which the migration Job turns off),
// after which a file left behind would still admit a key deleted since. With the file not read at all, that
// holds on any volume: the shared one's old file, or a file of a pod's own were the .ssh directory ever not
// shared.
const sshdKeysFromGitLabOnly = `sed -i 's|^AuthorizedKeysFile .*|AuthorizedKeysFile none|' /assets/sshd_config
`

// preReconfigureScript is what the pod's Omnibus container runs before reconfigure: the host keys and sshd's
// key lookup in a pod that serves SSH, and the root-squash check on an NFS zone.
func preReconfigureScript(sshd bool, storage Storage) string {
	script := "set -e\n"
	if sshd {
		script += hostKeyScript() + sshdKeysFromGitLabOnly
	}
	if storage.NFS != nil {
		script += rootSquashCheck
	}
	return kubeletEscape(script)
}

// kubeletEscape keeps the kubelet from reading a shell's command substitution, $(...), as a reference to an
// environment variable in a container's command, arguments or environment: it turns $$ into $.
func kubeletEscape(script string) string { return strings.ReplaceAll(script, "$(", "$$(") }

// entrypointEnv makes the image's entrypoint (docker/assets/init-container) run once and stop: no sshd, no
// PostgreSQL upgrade (the database is external), no log tailing; preReconfigure runs before reconfigure and
// postReconfigure after it, under set -e, ending with the exit that stops the container.
func entrypointEnv(preReconfigure, postReconfigure string) corev1.EnvVarArray {
	return corev1.EnvVarArray{
		&corev1.EnvVarArgs{Name: pulumi.String("GITLAB_DISABLE_OPENSSH"), Value: pulumi.String("true")},
		&corev1.EnvVarArgs{Name: pulumi.String("GITLAB_SKIP_PG_UPGRADE"), Value: pulumi.String("true")},
		&corev1.EnvVarArgs{Name: pulumi.String("GITLAB_SKIP_TAIL_LOGS"), Value: pulumi.String("true")},
		&corev1.EnvVarArgs{Name: pulumi.String("GITLAB_POST_RECONFIGURE_SCRIPT"), Value: pulumi.String(postReconfigure)},
		&corev1.EnvVarArgs{Name: pulumi.String(envPreReconfigureScript), Value: pulumi.String(preReconfigure)},
	}
}

// runOnce is a pod that runs the image once, with every service but Gitaly off, on a zone's volume, and
// stops: a migration Job's, the backup's.
type runOnce struct {
	name string // the component's
	zone Zone
	// holders are the components whose pods may hold the zone's volume, the pod's own among them: on a
	// ReadWriteOnce volume the pod joins their node.
	holders        []string
	container      string
	image          string
	command        []string
	env            corev1.EnvVarArray
	envFrom        corev1.EnvFromSourceArray
	serviceAccount pulumi.StringPtrInput
	resources      *corev1.ResourceRequirementsArgs
}

// runOncePodSpec is the pod spec of r, with p's volumes.
func (p omnibusPod) runOncePodSpec(r runOnce) *corev1.PodSpecArgs {
	return &corev1.PodSpecArgs{
		RestartPolicy:                pulumi.String("Never"), // the Job makes a new pod per attempt, which a failure policy needs
		NodeSelector:                 toStringMap(r.zone.NodeSelector),
		ServiceAccountName:           r.serviceAccount,
		Affinity:                     volumeHolderAffinity(r.name, r.zone, r.holders...),
		AutomountServiceAccountToken: pulumi.Bool(false), // a workload identity projects a token of its own
		EnableServiceLinks:           pulumi.Bool(false),
		SecurityContext: &corev1.PodSecurityContextArgs{
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		Containers: corev1.ContainerArray{&corev1.ContainerArgs{
			Name:                     pulumi.String(r.container),
			Image:                    pulumi.String(r.image),
			ImagePullPolicy:          pulumi.String("Always"),
			Command:                  pulumi.ToStringArray(r.command),
			EnvFrom:                  r.envFrom,
			Env:                      r.env,
			Resources:                r.resources,
			TerminationMessagePolicy: pulumi.String("FallbackToLogsOnError"),
			SecurityContext:          omnibusSecurityContext(),
			VolumeMounts:             p.mounts(),
		}},
		Volumes: p.volumes(),
	}
}
