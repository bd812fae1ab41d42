package gitlab

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Where GitLab keeps Git repositories. By default every zone's pod runs a Gitaly of its own on the zones' shared
// NFS volume, the repository storage "default": the design this library was first asked for, which GitLab has
// not supported since 15.0. With GitStorage.Repositories, Git data lives in Gitaly servers outside the pods
// (Gitaly StatefulSets, a Gitaly Cluster behind Praefect), which GitLab reaches over TCP with a token; the
// zones' pods then run no Gitaly and mount no volume, as the pods of GitLab's Helm chart do: everything else
// GitLab keeps goes to object storage (required then), and CI job logs are kept incrementally, in Redis and
// then object storage, rather than in files on a shared volume.

// DefaultStorageName is the repository storage GitLab requires to exist (gitlab-org/gitlab#237861): the
// zones' NFS volume while they keep one, else one of GitStorage.Repositories.
const DefaultStorageName = "default"

// GitStorage says where GitLab keeps Git repositories.
type GitStorage struct {
	// Repositories are Gitaly (or Praefect) storages outside the zones' pods, each one of GitLab's repository
	// storages. Default none: every zone's pod runs Gitaly on the zones' NFS volume, as the storage "default".
	Repositories []RepositoryStorage
	// KeepNFS keeps the zones' NFS volume, and a Gitaly in every zone's pod that serves it as the storage
	// "default", beside Repositories: for moving a running stack off NFS (the README's "A way off NFS"), with
	// new repositories weighted to Repositories and the existing ones moved by GitLab's repository storage
	// moves. Default false: with Repositories, the zones' pods mount no volume and run no Gitaly, and one of
	// Repositories must be named "default".
	KeepNFS bool
	// NFSWeight is the share of new repositories the NFS storage takes while KeepNFS holds it. Default 0:
	// every new repository goes to Repositories.
	NFSWeight *int
	// ShellSecret is the secret Gitaly's hooks authenticate to GitLab's internal API with
	// (gitlab_shell['secret_token']); the Git storage's servers hold the same. Required with Repositories;
	// kept secret.
	ShellSecret pulumi.StringInput
	// Databases are databases the Git storage keeps on GitLab's PostgreSQL server (Praefect's): the release's
	// regular migration Job makes each, with its role, as GitLab's database user, before it migrates, and sets
	// the role's password again at every release. Their passwords join GitLab's Secret: GitLab's own database
	// user, in the same pods, may already do anything to them. Default none.
	Databases []StorageDatabase
	// DependsOn are what the release's migration Job waits for besides the database: the Git storage's
	// servers, so that an upgrade reaches Gitaly and Praefect before Rails migrates (GitLab's order: Gitaly,
	// Praefect, Rails). Default none.
	DependsOn []pulumi.Resource
}

// RepositoryStorage is one of GitLab's repository storages on a Gitaly or Praefect server.
type RepositoryStorage struct {
	// Name is GitLab's name for the storage, letters, digits, '-' and '_' (config/initializers/6_validations.rb):
	// for Praefect, its virtual storage's name. It is recorded in every project that lives there: never rename
	// it. Required.
	Name string
	// Address is the server, tcp://host:port. Required.
	Address pulumi.StringInput
	// Token authenticates GitLab to the server: Gitaly's auth token, or Praefect's external token. Required;
	// kept secret.
	Token pulumi.StringInput
	// Weight is the share, 0 to 100, of new repositories the storage takes (GitLab's
	// repository_storages_weighted, which the post-deployment Job sets at every release). Default 100.
	Weight *int
}

// external says whether Git data lives outside the zones' pods.
func (g GitStorage) external() bool { return len(g.Repositories) > 0 }

// stateless says whether the zones' pods hold no Git data: Repositories without KeepNFS. Such a zone has no
// volume at all.
func (g GitStorage) stateless() bool { return g.external() && !g.KeepNFS }

// storageNamePattern is what GitLab accepts as a storage name.
var storageNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// tokenEnv is the variable that carries a storage's token into the pods; gitlab.rb reads it with ENV.fetch.
func tokenEnv(storage string) string {
	return "GITLAB_GITALY_TOKEN_" + strings.ToUpper(strings.ReplaceAll(storage, "-", "_"))
}

// envStorageWeights carries the storages' weights, as JSON, to the post-deployment Job; envStorageScript its
// Ruby, which the Job hands to gitlab-rails runner unquoted by the shell.
const (
	envStorageWeights = "GITLAB_HA_STORAGE_WEIGHTS"
	envStorageScript  = "GITLAB_HA_STORAGE_SCRIPT"
)

// localGitalySocket is where the zones' own Gitaly listens, Omnibus's default (gitaly/attributes/default.rb).
const localGitalySocket = "unix:/var/opt/gitlab/gitaly/gitaly.socket"

// localRepositories is the NFS storage's path, where the zones mount the volume's git-data directory.
const localRepositories = "/var/opt/gitlab/git-data/repositories"

// defaultWeight is a storage's weight unless told otherwise.
const defaultWeight = 100

func weightOf(w *int, fallback int) int {
	if w == nil {
		return fallback
	}
	return *w
}

// weights are the storages' weights by name, as the post-deployment Job sets them.
func (g GitStorage) weights() map[string]int {
	weights := map[string]int{}
	if g.KeepNFS {
		weights[DefaultStorageName] = weightOf(g.NFSWeight, 0)
	}
	for _, r := range g.Repositories {
		weights[r.Name] = weightOf(r.Weight, defaultWeight)
	}
	return weights
}

// gitStorageSecrets is the Secret's share of the Git storage: each storage's token, and the shell secret,
// which replaces the one the component would generate.
func gitStorageSecrets(g GitStorage) pulumi.StringMap {
	if !g.external() {
		return nil
	}
	data := pulumi.StringMap{}
	for _, r := range g.Repositories {
		data[tokenEnv(r.Name)] = pulumi.ToSecret(r.Token).(pulumi.StringOutput)
	}
	data[envShellSecretToken] = pulumi.ToSecret(g.ShellSecret).(pulumi.StringOutput)
	for i, d := range g.Databases {
		data[storageDatabasePasswordEnv(i)] = pulumi.ToSecret(d.Password).(pulumi.StringOutput)
	}
	return data
}

// envShellSecretToken is the variable gitlab.rb reads gitlab_shell['secret_token'] from (see omnibusSecrets).
const envShellSecretToken = "GITLAB_SHELL_SECRET_TOKEN"

// gitStorageInputs gathers what the rendered configuration needs from GitStorage: each storage's address.
func gitStorageInputs(g GitStorage) []any {
	inputs := make([]any, len(g.Repositories))
	for i, r := range g.Repositories {
		inputs[i] = r.Address
	}
	return inputs
}

// gitStorageSettings is GitStorage, resolved.
type gitStorageSettings struct {
	KeepNFS bool
	// Addresses by storage, in GitStorage's order.
	Names, Addresses []string
}

func resolveGitStorage(g GitStorage, values []any) *gitStorageSettings {
	if !g.external() {
		return nil
	}
	s := &gitStorageSettings{KeepNFS: g.KeepNFS}
	for i, r := range g.Repositories {
		s.Names = append(s.Names, r.Name)
		s.Addresses = append(s.Addresses, values[i].(string))
	}
	return s
}

// renderGitStorage writes the repository storages (18.x's gitlab_rails['repositories_storages']; git_data_dirs
// was removed in 18.0, package/libraries/deprecations.rb) and, where the zones keep NFS, the storage their own
// Gitaly serves; else it turns the zones' Gitaly off.
func renderGitStorage(line func(string, ...any), s *gitStorageSettings) {
	line("gitlab_rails['repositories_storages'] = {")
	if s.KeepNFS {
		line("  %s => { 'gitaly_address' => %s },", rubyString(DefaultStorageName), rubyString(localGitalySocket))
	}
	for i, name := range s.Names {
		line("  %s => { 'gitaly_address' => %s, 'gitaly_token' => ENV.fetch(%s) },", rubyString(name), rubyString(s.Addresses[i]),
			rubyString(tokenEnv(name)))
	}
	line("}")
	if s.KeepNFS {
		// Explicit storages leave Omnibus nothing to derive the local Gitaly's own from (gitaly/libraries/gitaly.rb,
		// parse_gitaly_storages): it serves the NFS volume alone.
		line("gitaly['configuration'] = { storage: [{ name: %s, path: %s }] }", rubyString(DefaultStorageName), rubyString(localRepositories))
		return
	}
	line("gitaly['enable'] = false")
}

// storageScript is what the post-deployment Job runs once the release is migrated: the storages' weights
// (an application setting in the database, not gitlab.rb) and, for stateless zones, incremental logging, so
// that a running job's log is kept in Redis and object storage rather than in files on one pod's disk
// (doc/administration/cicd/job_logs.md, "Incremental logging").
const storageScript = `weights = JSON.parse(ENV.fetch('` + envStorageWeights + `'))
setting = ApplicationSetting.current_without_cache || ApplicationSetting.create_from_defaults
setting.update!(repository_storages_weighted: weights)
puts "Repository storage weights: #{setting.repository_storages_weighted}"
if ENV['` + envStorageStateless + `'] == 'true'
  Feature.enable(:ci_enable_live_trace)
  puts 'Incremental logging on: job logs are kept in Redis and object storage'
end
`

// envStorageStateless tells storageScript that the zones keep no files.
const envStorageStateless = "GITLAB_HA_STORAGE_STATELESS"

// gitStorageEnv is the post-deployment Job's share of the Git storage: the weights and the script; nil for the
// regular Job and without Repositories.
func gitStorageEnv(g GitStorage, phase migrationPhase) map[string]string {
	if !g.external() || !phase.postDeployment {
		return nil
	}
	weights, _ := json.Marshal(g.weights()) // a map of strings to ints always marshals, its keys sorted
	return map[string]string{
		envStorageWeights:   string(weights),
		envStorageScript:    kubeletEscape(storageScript),
		envStorageStateless: fmt.Sprint(g.stateless()),
	}
}

// gitStorageJobInputs are what the Jobs' names hash from the Git storage: a change of weights runs the
// release's Jobs again, which set them.
func gitStorageJobInputs(g GitStorage) []string {
	if !g.external() {
		return nil
	}
	weights, _ := json.Marshal(g.weights())
	return []string{"git-storage", string(weights), fmt.Sprint(g.KeepNFS)}
}

// storagePostReconfigure is the post-deployment Job's storage step, once reconfigure has migrated: gitlab-rails
// runner with the storage script; "" where there is none. What follows it ends the Job.
func storagePostReconfigure(g GitStorage, phase migrationPhase) string {
	if gitStorageEnv(g, phase) == nil {
		return ""
	}
	return kubeletEscape(`/opt/gitlab/bin/gitlab-rails runner "$` + envStorageScript + `"` + "\n")
}

// validateGitStorage checks GitStorage against the rest of args: names, addresses, tokens, weights, and
// what stateless zones need.
func validateGitStorage(args GitLabArgs) error {
	g := args.GitStorage
	if !g.external() {
		switch {
		case g.KeepNFS:
			return validate.Errorf("gitStorage.keepNFS", true, "is set, but gitStorage.repositories is empty: there is no other storage to keep NFS beside")
		case g.ShellSecret != nil:
			return validate.Errorf("gitStorage.shellSecret", nil, "is set, but gitStorage.repositories is empty")
		case g.NFSWeight != nil:
			return validate.Errorf("gitStorage.nfsWeight", *g.NFSWeight, "is set, but gitStorage.repositories is empty")
		}
		return nil
	}
	if g.NFSWeight != nil && !g.KeepNFS {
		return validate.Errorf("gitStorage.nfsWeight", *g.NFSWeight, "is set, but gitStorage.keepNFS is false: there is no NFS storage")
	}
	if err := validateWeight("gitStorage.nfsWeight", g.NFSWeight); err != nil {
		return err
	}
	if err := validate.RequiredString("gitStorage.shellSecret", g.ShellSecret); err != nil {
		return err
	}
	seen, envs := map[string]int{}, map[string]int{}
	for i, r := range g.Repositories {
		field := fmt.Sprintf("gitStorage.repositories[%d]", i)
		if !storageNamePattern.MatchString(r.Name) {
			return validate.Errorf(field+".name", r.Name, "is not a storage name: letters, digits, '-' and '_'")
		}
		if first, dup := seen[r.Name]; dup {
			return validate.Errorf(field+".name", r.Name, "repeats gitStorage.repositories[%d].name", first)
		}
		if first, dup := envs[tokenEnv(r.Name)]; dup {
			return validate.Errorf(field+".name", r.Name, "differs from gitStorage.repositories[%d].name only in '-' and '_'; their tokens would share a variable", first)
		}
		seen[r.Name], envs[tokenEnv(r.Name)] = i, i
		if r.Name == DefaultStorageName && g.KeepNFS {
			return validate.Errorf(field+".name", r.Name, "is the NFS storage's name while gitStorage.keepNFS holds it; name the new storage otherwise")
		}
		if err := validate.RequiredString(field+".address", r.Address); err != nil {
			return err
		}
		if address, ok := validate.LiteralString(r.Address); ok && !strings.HasPrefix(address, "tcp://") && !strings.HasPrefix(address, "tls://") {
			return validate.Errorf(field+".address", address, "is not a Gitaly address, tcp://host:port or tls://host:port")
		}
		if err := validate.RequiredString(field+".token", r.Token); err != nil {
			return err
		}
		if err := validateWeight(field+".weight", r.Weight); err != nil {
			return err
		}
	}
	if err := validateStorageDatabases(g.Databases); err != nil {
		return err
	}
	if !g.KeepNFS {
		if _, ok := seen[DefaultStorageName]; !ok {
			return validate.Errorf("gitStorage.repositories", nil, "has no storage named %q, which GitLab requires (gitlab-org/gitlab#237861)", DefaultStorageName)
		}
		if args.ObjectStorage == nil {
			return validate.Errorf("objectStorage", nil, "is required with gitStorage.repositories: the zones' pods keep no volume, so uploads, artifacts and GitLab's other objects must live in object storage")
		}
	}
	total := 0
	for _, w := range g.weights() {
		total += w
	}
	if total == 0 {
		return validate.Errorf("gitStorage.repositories", nil, "weigh 0 in all: no storage would take a new repository")
	}
	return nil
}

func validateWeight(field string, w *int) error {
	if w != nil && (*w < 0 || *w > 100) {
		return validate.Errorf(field, *w, "is not a weight from 0 to 100")
	}
	return nil
}

// validateStatelessZone refuses a zone volume the zones would not use.
func validateStatelessZone(field string, zone Zone) error {
	if zone.Storage.NFS != nil || zone.Storage.StorageClass != "" {
		return validate.Errorf(field+".storage", nil, "is set, but gitStorage.repositories holds Git data outside the zones' pods and gitStorage.keepNFS is false: the zones mount no volume; remove it")
	}
	return nil
}

// gitStorageWaits makes the release's regular migration Job wait for the Git storage's servers.
func gitStorageWaits(args GitLabArgs, phase migrationPhase) []pulumi.ResourceOption {
	if phase.postDeployment || len(args.GitStorage.DependsOn) == 0 {
		return nil
	}
	return []pulumi.ResourceOption{pulumi.DependsOn(args.GitStorage.DependsOn)}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}
