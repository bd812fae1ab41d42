package gitlab

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"sort"
	"strconv"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// GitLab's own Helm chart migrates the database in a Job per release, named after the release and a hash of
// its values, before the new pods roll out; post-deployment migrations run once every pod is on the new
// version (GitLab's zero-downtime upgrade: SKIP_POST_DEPLOYMENT_MIGRATIONS=true first, then db:migrate).
// Here the same two Jobs run the Omnibus image's own entrypoint with every service but Gitaly off and
// gitlab_rails['auto_migrate'] on, so that its reconfigure runs gitlab-rake gitlab:db:configure exactly as
// it would on a single node (gitlab/recipes/database_migrations.rb), then stops.
//
//	regular Job  ->  every zone's Deployment  ->  post-deployment Job  ->  version record
//
// The version record is a ConfigMap holding the version whose migrations last completed. Omnibus checks the
// upgrade path against the version its last reconfigure wrote to /var/opt/gitlab/gitlab-rails/VERSION
// (docker/assets/init-container), a file on a per-pod emptyDir here that no start ever finds; the regular
// Job runs the same check, gitlab-ctl upgrade-check, against the record, which outlives every pod.

// versionPattern is a GitLab version; imageVersion reads one from an Omnibus image tag such as
// 18.11.11-ce.0.
var (
	versionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	omnibusTag     = regexp.MustCompile(`^([0-9]+\.[0-9]+\.[0-9]+)-(ce|ee)\.[0-9]+$`)
)

// imageVersion is the GitLab version an Omnibus image's tag names, or "" when the tag names none (a digest, a
// custom tag).
func imageVersion(image string) string {
	if strings.Contains(image, "@") {
		return ""
	}
	tag := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(tag, ":")
	if i < 0 {
		return ""
	}
	if m := omnibusTag.FindStringSubmatch(tag[i+1:]); m != nil {
		return m[1]
	}
	return ""
}

// migrationPhase is one of the two Jobs of a release.
type migrationPhase struct {
	suffix string // of the Job's names: <name>-<suffix>-<version>-<hash>
	// postDeployment runs the migrations GitLab defers until every pod runs the new code.
	postDeployment bool
}

var (
	regularMigrations        = migrationPhase{suffix: "migrations"}
	postDeploymentMigrations = migrationPhase{suffix: "post-migrations", postDeployment: true}
)

// jobRetentionSeconds is how long a finished Job is kept for its logs: a week.
const jobRetentionSeconds = 7 * 24 * 3600

// jobHashLength is how much of the hash of a Job's spec its name carries.
const jobHashLength = 8

// maxJobNameLength keeps a Job's name a valid label value, which its pods carry.
const maxJobNameLength = 63

// jobName is the name of a release's Job: the version for people, a hash of everything the Job is built from
// for Kubernetes, whose Jobs cannot change their pods' spec. Any change to the image, the configuration or
// the script names a new Job, which Pulumi creates in place of the old one, so a release's migrations run
// exactly once and again whenever what they run changes.
func jobName(name string, phase migrationPhase, version string, inputs ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(append([]string{phase.suffix, version}, inputs...), "\x00")))
	return name + "-" + phase.suffix + "-" + strings.ReplaceAll(version, ".", "-") + "-" + hex.EncodeToString(sum[:])[:jobHashLength]
}

// longestJobName is the longer of a release's two Job names, for validation: the post-deployment Job's.
func longestJobName(name, version string) string {
	return jobName(name, postDeploymentMigrations, version)
}

// versionRecordName is the ConfigMap that records the last version whose migrations completed.
func versionRecordName(name string) string { return name + "-migrated-version" }

// Variables the migration script reads.
const (
	envVersion         = "GITLAB_HA_VERSION"
	envMigratedVersion = "GITLAB_HA_MIGRATED_VERSION"
	// upgradeRefusedExitCode ends a Job at once (its pod failure policy) when retrying cannot help: the image
	// is not the version it was declared as, or the upgrade skips a required stop or goes backwards.
	upgradeRefusedExitCode = 3
)

// migrationScript checks the version, then hands over to the image's entrypoint, which reconfigures and, with
// GITLAB_POST_RECONFIGURE_SCRIPT set to exit, stops instead of supervising services.
func migrationScript(phase migrationPhase, g GitStorage) string {
	script := `set -eu
refuse() {
  echo "$1" > /dev/termination-log 2>/dev/null || true
  echo "$1" >&2
  exit ` + strconv.Itoa(upgradeRefusedExitCode) + `
}
# The image's own version, read where the image's init-container reads it.
running=$(awk '/^gitlab-(ce|ee|jh)/ {print $NF}' /opt/gitlab/version-manifest.txt)
case "$running" in
  "$` + envVersion + `"|"$` + envVersion + `"[-+~]*) ;;
  *) refuse "The image runs GitLab $running, but the component was told $` + envVersion + `: set GitLabArgs.Version, or an image tag that names its version." ;;
esac
`
	if !phase.postDeployment {
		script += upgradePathCheck + adoptedKeysCheck()
	}
	return kubeletEscape(script + storageDatabasesScript(g, phase) + "exec /assets/init-container\n")
}

// upgradePathCheck refuses, before anything migrates, an upgrade from the recorded version that the rolling
// path cannot carry: one that skips a required stop (Omnibus's own upgrade-check), goes backwards, or skips a
// minor release. The zones roll one pod at a time while pods of the recorded version still serve, which GitLab
// supports one minor release at a time only (doc/update/zero_downtime.md: "You can only upgrade one minor
// release at a time"; doc/update/downtime_options: across several minors, "you must take your GitLab instance
// offline"). The first release of the next major, X+1.0, follows the last minor of X, which upgrade-check
// makes the required stop. Without a record (a first install) nothing is checked.
const upgradePathCheck = `migrated="${` + envMigratedVersion + `:-}"
if [ -n "$migrated" ]; then
  if ! verdict=$(/opt/gitlab/bin/gitlab-ctl upgrade-check "$migrated" "$running" 2>&1); then
    refuse "Upgrade refused: the database was last migrated by GitLab $migrated. $verdict"
  fi
  newest=$(printf '%s\n%s\n' "$migrated" "$` + envVersion + `" | sort -V | tail -n 1)
  if [ "$newest" != "$` + envVersion + `" ]; then
    refuse "Downgrade refused: the database was last migrated by GitLab $migrated, newer than $` + envVersion + `. GitLab cannot run on a newer schema: restore a backup taken before that upgrade instead."
  fi
  from_major=${migrated%%.*}; from_minor=${migrated#*.}; from_minor=${from_minor%%.*}
  to_major=${` + envVersion + `%%.*}; to_minor=${` + envVersion + `#*.}; to_minor=${to_minor%%.*}
  next="$from_major.$((from_minor + 1))"
  if [ "$to_major" -eq "$from_major" ] && [ "$to_minor" -gt $((from_minor + 1)) ]; then
    refuse "Upgrade refused: the database was last migrated by GitLab $migrated, and $` + envVersion + ` is more than one minor release later. The zones roll while pods of $migrated still serve, which GitLab supports one minor release at a time: upgrade to the latest $next patch first, then to each minor release up to $to_major.$to_minor, one pulumi up each."
  fi
  if [ "$to_major" -gt "$from_major" ] && { [ "$to_major" -gt $((from_major + 1)) ] || [ "$to_minor" -ne 0 ]; }; then
    refuse "Upgrade refused: the database was last migrated by GitLab $migrated, and $` + envVersion + ` is more than one release later. The zones roll while pods of $migrated still serve, which GitLab supports one release at a time: upgrade to the last $from_major.x minor release first, then to $((from_major + 1)).0, then to each minor release up to $to_major.$to_minor, one pulumi up each."
  fi
fi
`

// Variables the adopted-keys check reads.
const (
	// envSavedKeys names the keys the stack was given (GitLabArgs.Keys), never their values.
	envSavedKeys = "GITLAB_HA_SAVED_KEYS"
)

// adoptedKeysCheck refuses to migrate an installation whose volume still holds the gitlab-secrets.json an
// earlier version shared, until the keys in it that encrypt and sign (previousKeys) have been given to the
// stack: until then they would live on that volume alone, in no Secret and no state, and a restore without
// the volume would lose every column they encrypt. The values are compared too (the file flattened, the
// Secret's without line breaks): a key given with another value than the file's is refused as well.
func adoptedKeysCheck() string {
	var settings []string
	for _, setting := range previousKeys {
		settings = append(settings, setting+":"+adoptedKeyNames[setting])
	}
	return `previous=` + previousConfigDir + `/gitlab-secrets.json
if [ -s "$previous" ]; then
  flat=$(tr -d ' \t\r\n' < "$previous")
  missing=""; differing=""
  for pair in ` + strings.Join(settings, " ") + `; do
    setting=${pair%%:*}; key=${pair#*:}
    case "$flat" in *"\"$setting\":"*) ;; *) continue ;; esac
    case ",${` + envSavedKeys + `:-}," in
      *",$key,"*) ;;
      *) missing="$missing $key"; continue ;;
    esac
    # The file's value without JSON's \n escapes, and the Secret's without its line breaks: a PEM key compares
    # whole, and letters and digits as they are.
    value=$(printf '%s' "$flat" | sed -n -e 's/.*"'"$setting"'":\["\([^"]*\)"\].*/\1/p' -e 's/.*"'"$setting"'":"\([^"]*\)".*/\1/p' | head -n 1 | sed 's/\\n//g')
    given=$(printf '%s' "${!key:-}" | tr -d ' \t\r\n')
    if [ -z "$value" ] || [ "$value" != "$given" ]; then differing="$differing $key"; fi
  done
  if [ -n "$missing" ]; then
    refuse "Keys not adopted: ` + previousConfigSubPath + `/gitlab-secrets.json on the shared volume holds keys that an earlier version generated, which encrypt and sign data and are in no Secret and no Pulumi state:$missing. Carry them into the stack once (README, \"Keys\": gitlabkeys adopt), then pulumi up again."
  fi
  if [ -n "$differing" ]; then
    refuse "Keys differ: the stack was given$differing, but ` + previousConfigSubPath + `/gitlab-secrets.json on the shared volume holds other values (or more than one key), and data encrypted with the file's would become unreadable. Adopt them again from that file (README, \"Keys\")."
  fi
fi
`
}

// migrationJobArgs is what a release's Job is built from.
type migrationJobArgs struct {
	name      string
	namespace pulumi.StringInput
	args      GitLabArgs // defaulted
	version   string
	// zone is the first zone: the Job mounts its volume, for files a migration touches, Gitaly, and the
	// previous /etc/gitlab.
	zone           Zone
	pod            omnibusPod
	configChecksum pulumi.StringInput
	// rootPasswordSecret holds the initial root password, which only the regular Job, the one that seeds an
	// empty database, is given.
	rootPasswordSecret pulumi.StringInput
}

// newMigrationJob creates one of a release's Jobs, after the objects follows names. Pulumi waits for a Job to
// complete before anything that depends on it proceeds, and fails the update when it fails.
func newMigrationJob(ctx *pulumi.Context, parent pulumi.Resource, m migrationJobArgs, phase migrationPhase,
	follows []pulumi.StringOutput) (*batchv1.Job, error) {
	script := migrationScript(phase, m.args.GitStorage)
	// A secret among the inputs (a database host a provider marks secret) would make the name secret, and
	// with it the Job's labels and every reference to it; eight hex digits of a hash reveal none of it.
	name := pulumi.Unsecret(pulumi.All(m.configChecksum, nfsServer(m.zone.Storage)).ApplyT(func(v []any) string {
		return jobName(m.name, phase, m.version, append(m.specInputs(phase, script), v[0].(string), v[1].(string))...)
	})).(pulumi.StringOutput)
	labels := toStringMap(zoneLabels(m.name, MigrationsComponent, m.zone.Name))
	return batchv1.NewJob(ctx, m.name+"-"+phase.suffix, &batchv1.JobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: name, Namespace: m.namespace, Labels: labels, Annotations: after(follows...)},
		Spec: &batchv1.JobSpecArgs{
			// Transient failures (the database failing over) are retried twice; a refused upgrade is not.
			BackoffLimit:          pulumi.Int(2),
			ActiveDeadlineSeconds: pulumi.Int(migrationDeadlineSeconds),
			// A finished Job and its pod's log stay a week, then Kubernetes deletes them. The state still names
			// the Job: a later update leaves it be, and after a refresh recreates it, which migrates nothing.
			TtlSecondsAfterFinished: pulumi.Int(jobRetentionSeconds),
			PodFailurePolicy: &batchv1.PodFailurePolicyArgs{Rules: batchv1.PodFailurePolicyRuleArray{
				&batchv1.PodFailurePolicyRuleArgs{
					Action: pulumi.String("FailJob"),
					OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirementArgs{
						ContainerName: pulumi.String("migrations"), Operator: pulumi.String("In"),
						Values: pulumi.IntArray{pulumi.Int(upgradeRefusedExitCode)},
					},
				},
			}},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec:     migrationPodSpec(m, phase, script),
			},
		},
	}, append([]pulumi.ResourceOption{pulumi.Parent(parent), waitFor(migrationWait)}, gitStorageWaits(m.args, phase)...)...)
}

// specInputs are the known values a Job's pod spec is built from, for its name's hash; the configuration's
// checksum and the NFS server, known only at deployment, are added to them there.
func (m migrationJobArgs) specInputs(phase migrationPhase, script string) []string {
	selector := make([]string, 0, len(m.zone.NodeSelector))
	for key, value := range m.zone.NodeSelector {
		selector = append(selector, key+"="+value)
	}
	sort.Strings(selector)
	storage := m.zone.Storage.StorageClass
	if m.zone.Storage.NFS != nil {
		storage = "nfs:" + m.zone.Storage.NFS.Path
	}
	inputs := []string{m.args.Image, script, preReconfigureScript(false, m.zone.Storage), postReconfigureScript(phase), m.zone.Name,
		strings.Join(selector, ","), storage, "saved:" + savedKeyList(m.args.Keys)}
	if m.pod.serviceAccount != nil {
		inputs = append(inputs, "serviceAccount:"+ServiceAccountName(m.name))
	}
	return append(inputs, gitStorageJobInputs(m.args.GitStorage)...)
}

// nfsServer is the zone's NFS server, or "" for a zone with its own volume.
func nfsServer(storage Storage) pulumi.StringOutput {
	if storage.NFS == nil {
		return pulumi.String("").ToStringOutput()
	}
	return storage.NFS.Server.ToStringOutput()
}

// authorizedKeysOff turns off GitLab's writes to the authorized_keys file, as its guide to fast SSH key lookup
// has them turned off (doc/administration/operations/fast_ssh_key_lookup.md, "Use authorized_keys file"): sshd
// looks keys up in the database (sshdKeysFromGitLabOnly), and otherwise every zone's Sidekiq would rewrite the
// shared file on NFS whenever a key changes. It is an application setting, not a gitlab.rb key, so the regular
// Job sets it in the database each release, once migrated; an administrator who turns it back on sees it off
// again after the next release.
const authorizedKeysOff = `/opt/gitlab/bin/gitlab-rails runner 'settings = ApplicationSetting.current_without_cache || ApplicationSetting.create_from_defaults; settings.update!(authorized_keys_enabled: false) if settings.authorized_keys_enabled'
`

// postReconfigureScript is what a Job runs once reconfigure has migrated, ending with the exit that stops it.
func postReconfigureScript(phase migrationPhase) string {
	if phase.postDeployment {
		return "exit 0\n"
	}
	return authorizedKeysOff + "exit 0\n"
}

func migrationPodSpec(m migrationJobArgs, phase migrationPhase, script string) *corev1.PodSpecArgs {
	env := append(corev1.EnvVarArray{
		&corev1.EnvVarArgs{Name: pulumi.String(envMigrations), Value: pulumi.String("true")},
		&corev1.EnvVarArgs{Name: pulumi.String(envVersion), Value: pulumi.String(m.version)},
	}, entrypointEnv(preReconfigureScript(false, m.zone.Storage), storagePostReconfigure(m.args.GitStorage, phase)+postReconfigureScript(phase))...)
	env = append(env, storageDatabasesEnv(m.name, m.args, phase)...)
	storageEnv := gitStorageEnv(m.args.GitStorage, phase)
	for _, key := range sortedKeys(storageEnv) {
		env = append(env, &corev1.EnvVarArgs{Name: pulumi.String(key), Value: pulumi.String(storageEnv[key])})
	}
	if !phase.postDeployment {
		env = append(env,
			&corev1.EnvVarArgs{Name: pulumi.String("SKIP_POST_DEPLOYMENT_MIGRATIONS"), Value: pulumi.String("true")},
			&corev1.EnvVarArgs{Name: pulumi.String(envSavedKeys), Value: pulumi.String(savedKeyList(m.args.Keys))},
			// Omnibus seeds the root user with it on an empty database (database_migrations.rb), and only then.
			&corev1.EnvVarArgs{Name: pulumi.String(envRootPassword), ValueFrom: &corev1.EnvVarSourceArgs{
				SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: m.rootPasswordSecret, Key: pulumi.String(envRootPassword)},
			}},
			&corev1.EnvVarArgs{Name: pulumi.String(envMigratedVersion), ValueFrom: &corev1.EnvVarSourceArgs{
				ConfigMapKeyRef: &corev1.ConfigMapKeySelectorArgs{
					Name: pulumi.String(versionRecordName(m.name)), Key: pulumi.String("version"), Optional: pulumi.Bool(true),
				},
			}},
		)
	}
	return m.pod.runOncePodSpec(runOnce{
		name: m.name, zone: m.zone, holders: []string{WebserviceComponent, MigrationsComponent},
		container: "migrations", image: m.args.Image, command: []string{"/bin/bash", "-c", script},
		env: append(env, m.pod.nfsEnv()...), envFrom: m.pod.envFrom(), serviceAccount: m.pod.serviceAccountName(),
		// Rails' rake tasks and Gitaly, nothing that serves: GitLab's chart asks 250m and 200Mi for its Job
		// but runs no Gitaly in it.
		resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("500m"), "memory": pulumi.String("2Gi"), "ephemeral-storage": pulumi.String("1Gi")},
			Limits:   pulumi.StringMap{"cpu": pulumi.String("2"), "memory": pulumi.String("4Gi"), "ephemeral-storage": pulumi.String("10Gi")},
		},
	})
}

// volumeHolderAffinity places a pod that mounts the zone's volume, when that volume is ReadWriteOnce, on the
// node where the zone's pod holds it: the volume can be attached to one node only. The term matches the zone's
// pods of the given components, the pod's own among them, so that on a first install, with no GitLab pod yet,
// a migration Job may go anywhere in the zone. A shared (NFS) volume needs no such placement.
func volumeHolderAffinity(name string, zone Zone, components ...string) *corev1.AffinityArgs {
	if zone.Storage.StorageClass == "" { // NFS, or no volume at all
		return nil
	}
	return &corev1.AffinityArgs{PodAffinity: &corev1.PodAffinityArgs{
		RequiredDuringSchedulingIgnoredDuringExecution: corev1.PodAffinityTermArray{&corev1.PodAffinityTermArgs{
			TopologyKey: pulumi.String("kubernetes.io/hostname"),
			LabelSelector: &metav1.LabelSelectorArgs{
				MatchLabels: pulumi.StringMap{
					"app.kubernetes.io/instance": pulumi.String(name), ZoneLabelKey: pulumi.String(zone.Name),
				},
				MatchExpressions: metav1.LabelSelectorRequirementArray{&metav1.LabelSelectorRequirementArgs{
					Key: pulumi.String("app.kubernetes.io/component"), Operator: pulumi.String("In"),
					Values: pulumi.ToStringArray(components),
				}},
			},
		}},
	}}
}

// newVersionRecord records the version once its post-deployment migrations completed: the next release's
// regular Job checks its upgrade path against it.
func newVersionRecord(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	version string, postDeployment *batchv1.Job) (*corev1.ConfigMap, error) {
	return corev1.NewConfigMap(ctx, versionRecordName(name), &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(versionRecordName(name)),
			Namespace:   namespace,
			Labels:      toStringMap(standardLabels(name, MigrationsComponent)),
			Annotations: after(jobRef(postDeployment)),
		},
		Data: pulumi.StringMap{"version": pulumi.String(version)},
	}, pulumi.Parent(parent))
}

// afterAnnotation names the objects a Job, Deployment or the version record follows. A name resolves only
// once Pulumi has created or updated its object and found it ready (a Job complete, a Deployment rolled out),
// so the annotation orders the update through the data itself, and tells whoever reads the object what it
// waited for.
const afterAnnotation = "gitlab-ha.io/after"

func after(refs ...pulumi.StringOutput) pulumi.StringMap {
	if len(refs) == 0 {
		return nil
	}
	inputs := make([]any, len(refs))
	for i, ref := range refs {
		inputs[i] = ref
	}
	return pulumi.StringMap{afterAnnotation: pulumi.All(inputs...).ApplyT(func(names []any) string {
		joined := make([]string, len(names))
		for i, name := range names {
			joined[i] = name.(string)
		}
		return strings.Join(joined, ",")
	}).(pulumi.StringOutput)}
}

func jobRef(job *batchv1.Job) pulumi.StringOutput {
	return pulumi.Sprintf("job/%s", job.Metadata.Name().Elem())
}

func deploymentRef(deployment *appsv1.Deployment) pulumi.StringOutput {
	return pulumi.Sprintf("deployment/%s", deployment.Metadata.Name().Elem())
}
