package gitlab_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

const (
	gitalyToken   = "gitaly-auth-token-from-the-gitaly-component"
	praefectToken = "praefect-external-token-from-the-cluster"
	shellSecret   = "shell-secret-from-the-gitaly-component"
)

// onGitaly is the AWS layout with Git data in Gitaly outside the pods: a storage per zone and the "default"
// GitLab requires, object storage for everything else, and no zone volume.
func onGitaly() *gitlab.GitLabArgs {
	args := onS3()
	for i := range args.Zones {
		args.Zones[i].Storage = gitlab.Storage{}
	}
	for _, zone := range zoneNames {
		args.GitStorage.Repositories = append(args.GitStorage.Repositories, gitlab.RepositoryStorage{
			Name: "gitaly-" + zone, Address: pulumi.String("tcp://gitaly-" + zone + ".gitlab-gitaly.svc:8075"),
			Token: pulumi.String(gitalyToken),
		})
	}
	args.GitStorage.Repositories = append(args.GitStorage.Repositories, gitlab.RepositoryStorage{
		Name: gitlab.DefaultStorageName, Address: pulumi.String("tcp://gitaly-eu-west-1a.gitlab-gitaly.svc:8075"),
		Token: pulumi.String(gitalyToken), Weight: pulumi.IntRef(0),
	})
	args.GitStorage.ShellSecret = pulumi.String(shellSecret)
	return args
}

func TestWithGitalyTheZonesPodsMountNoVolumeAndRunNoGitaly(t *testing.T) {
	result, component := deploy(t, onGitaly())

	assert.Empty(t, result.OfType(pvType), "no zone volume")
	assert.Empty(t, result.OfType(pvcType), "no zone claim")
	for name, spec := range podSpecs(result) {
		volumes, _ := spec.MustInput(t, "spec.template.spec.volumes").([]any)
		for _, v := range volumes {
			volume := v.(map[string]any)
			assert.NotContains(t, volume, "persistentVolumeClaim", "%s mounts a claim", name)
			assert.NotContains(t, volume, "nfs", "%s mounts NFS", name)
		}
		containers := spec.MustInput(t, "spec.template.spec.containers").([]any)
		for _, m := range containers[0].(map[string]any)["volumeMounts"].([]any) {
			path := m.(map[string]any)["mountPath"].(string)
			assert.False(t, strings.HasPrefix(path, "/var/opt/gitlab/git-data") || strings.HasPrefix(path, "/var/opt/gitlab/gitlab-rails/uploads") ||
				path == "/var/opt/gitlab/.ssh" || path == "/etc/gitlab-previous", "%s mounts %s from a volume it has not", name, path)
		}
	}
	for _, zone := range zoneNames {
		deployment, ok := result.Find(deploymentType, "gitlab-"+zone)
		require.True(t, ok)
		assert.Equal(t, "RollingUpdate", deployment.InputString("spec.strategy.type"), "a zone without a volume rolls without downtime")
		_, hasAffinity := deployment.Input("spec.template.spec.affinity")
		assert.False(t, hasAffinity, "nothing holds a volume to follow")
	}
	assert.Empty(t, componenttest.MustAwait(t, component.Claims.ToStringMapOutput()).Value)

	config := omnibusConfig(t, result)
	assert.Contains(t, config, "gitaly['enable'] = false")
	assert.Contains(t, config, "gitlab_rails['repositories_storages'] = {")
	assert.Contains(t, config, "'gitaly-eu-west-1b' => { 'gitaly_address' => 'tcp://gitaly-eu-west-1b.gitlab-gitaly.svc:8075', 'gitaly_token' => ENV.fetch('GITLAB_GITALY_TOKEN_GITALY_EU_WEST_1B') },")
	assert.Contains(t, config, "'default' => { 'gitaly_address' => 'tcp://gitaly-eu-west-1a.gitlab-gitaly.svc:8075', 'gitaly_token' => ENV.fetch('GITLAB_GITALY_TOKEN_DEFAULT') },")
	assert.NotContains(t, config, "git_data_dirs", "removed in 18.0")
	assert.NotContains(t, config, "unix:", "no local Gitaly")

	assert.Empty(t, result.PlaintextLeaks(gitalyToken, shellSecret), "tokens travel only in the Secret, as secrets")
	secret, ok := result.Find(secretType, "gitlab-secrets")
	require.True(t, ok)
	assert.True(t, secret.InputIsSecret(`stringData["GITLAB_GITALY_TOKEN_GITALY_EU_WEST_1A"]`))
	assert.True(t, secret.InputIsSecret(`stringData["GITLAB_SHELL_SECRET_TOKEN"]`), "the Gitaly servers' shell secret replaces the generated one")
}

func TestThePostDeploymentJobWeighsTheStoragesAndTurnsOnIncrementalLogging(t *testing.T) {
	args := onGitaly()
	args.GitStorage.Repositories[1].Weight = pulumi.IntRef(50)
	result, _ := deploy(t, args)

	post := storageJobEnv(t, result, "gitlab-post-migrations")
	assert.JSONEq(t, `{"default":0,"gitaly-eu-west-1a":100,"gitaly-eu-west-1b":50,"gitaly-eu-west-1c":100}`, post["GITLAB_HA_STORAGE_WEIGHTS"])
	assert.Equal(t, "true", post["GITLAB_HA_STORAGE_STATELESS"])
	assert.Contains(t, post["GITLAB_HA_STORAGE_SCRIPT"], "update!(repository_storages_weighted: weights)")
	assert.Contains(t, post["GITLAB_HA_STORAGE_SCRIPT"], "Feature.enable(:ci_enable_live_trace)")
	assert.Contains(t, post["GITLAB_POST_RECONFIGURE_SCRIPT"], `gitlab-rails runner "$GITLAB_HA_STORAGE_SCRIPT"`)

	regular := storageJobEnv(t, result, "gitlab-migrations")
	assert.NotContains(t, regular, "GITLAB_HA_STORAGE_WEIGHTS", "only the post-deployment Job runs the new release's Rails against the migrated schema")
	assert.NotContains(t, regular["GITLAB_POST_RECONFIGURE_SCRIPT"], "GITLAB_HA_STORAGE_SCRIPT")

	before := jobName(t, result, "gitlab-post-migrations")
	args.GitStorage.Repositories[1].Weight = pulumi.IntRef(100)
	again, _ := deploy(t, args)
	assert.NotEqual(t, before, jobName(t, again, "gitlab-post-migrations"), "a change of weights runs the Job that sets them")
}

func storageJobEnv(t *testing.T, result *componenttest.Result, name string) map[string]string {
	t.Helper()
	job, ok := result.Find(jobType, name)
	require.True(t, ok, name)
	env := map[string]string{}
	containers := job.MustInput(t, "spec.template.spec.containers").([]any)
	for _, e := range containers[0].(map[string]any)["env"].([]any) {
		variable := e.(map[string]any)
		if value, ok := variable["value"].(string); ok {
			env[variable["name"].(string)] = value
		}
	}
	return env
}

func jobName(t *testing.T, result *componenttest.Result, name string) string {
	t.Helper()
	job, ok := result.Find(jobType, name)
	require.True(t, ok, name)
	return job.InputString("metadata.name")
}

func TestTheMigrationsWaitForTheGitStoragesServers(t *testing.T) {
	var result *componenttest.Result
	result = componenttest.Run(func(ctx *pulumi.Context) error {
		server, err := random.NewRandomPet(ctx, "praefect", &random.RandomPetArgs{})
		if err != nil {
			return err
		}
		args := onGitaly()
		args.GitStorage.DependsOn = []pulumi.Resource{server}
		_, err = gitlab.NewGitLab(ctx, "gitlab", args)
		return err
	})
	require.NoError(t, result.Err)
	server, ok := result.Find("random:index/randomPet:RandomPet", "praefect")
	require.True(t, ok)
	regular, _ := result.Find(jobType, "gitlab-migrations")
	assert.Contains(t, regular.Dependencies, server.URN, "Rails migrates once Gitaly and Praefect are upgraded")
}

func TestKeepingNFSServesItAsDefaultBesideTheNewStorages(t *testing.T) {
	args := onS3()
	args.GitStorage = gitlab.GitStorage{KeepNFS: true, ShellSecret: pulumi.String(shellSecret), Repositories: []gitlab.RepositoryStorage{
		{Name: "cluster", Address: pulumi.String("tcp://praefect.internal:2305"), Token: pulumi.String(praefectToken)},
	}}
	result, _ := deploy(t, args)

	assert.Len(t, result.OfType(pvcType), 3, "the zones keep their NFS claims while repositories move")
	config := omnibusConfig(t, result)
	assert.Contains(t, config, "'default' => { 'gitaly_address' => 'unix:/var/opt/gitlab/gitaly/gitaly.socket' },")
	assert.Contains(t, config, "'cluster' => { 'gitaly_address' => 'tcp://praefect.internal:2305', 'gitaly_token' => ENV.fetch('GITLAB_GITALY_TOKEN_CLUSTER') },")
	assert.Contains(t, config, "gitaly['configuration'] = { storage: [{ name: 'default', path: '/var/opt/gitlab/git-data/repositories' }] }")
	assert.NotContains(t, config, "gitaly['enable'] = false")
	post := storageJobEnv(t, result, "gitlab-post-migrations")
	assert.JSONEq(t, `{"default":0,"cluster":100}`, post["GITLAB_HA_STORAGE_WEIGHTS"], "new repositories go to the new storage")
	assert.Equal(t, "false", post["GITLAB_HA_STORAGE_STATELESS"])
	assert.Empty(t, result.PlaintextLeaks(praefectToken, shellSecret))
}

func TestBadGitStorageIsRefusedNamingTheField(t *testing.T) {
	cases := map[string]struct {
		edit func(*gitlab.GitLabArgs)
		want string
	}{
		"no default": {func(a *gitlab.GitLabArgs) { a.GitStorage.Repositories = a.GitStorage.Repositories[:3] },
			`gitStorage.repositories: has no storage named "default"`},
		"default while NFS holds it": {func(a *gitlab.GitLabArgs) {
			a.GitStorage.KeepNFS = true
			for i := range a.Zones {
				a.Zones[i].Storage = gitlab.Storage{NFS: &gitlab.NFS{Server: pulumi.String("10.0.0.10")}}
			}
		}, `gitStorage.repositories[3].name: "default" is the NFS storage's name`},
		"a zone volume nothing uses": {func(a *gitlab.GitLabArgs) { a.Zones[1].Storage.StorageClass = "gp3" },
			"zones[1].storage: is set, but gitStorage.repositories holds Git data outside the zones' pods"},
		"no object storage": {func(a *gitlab.GitLabArgs) { a.ObjectStorage, a.Backup = nil, nil },
			"objectStorage: is required with gitStorage.repositories"},
		"bad address": {func(a *gitlab.GitLabArgs) { a.GitStorage.Repositories[0].Address = pulumi.String("gitaly:8075") },
			`gitStorage.repositories[0].address: "gitaly:8075" is not a Gitaly address`},
		"bad name": {func(a *gitlab.GitLabArgs) { a.GitStorage.Repositories[0].Name = "gitaly a" },
			`gitStorage.repositories[0].name: "gitaly a" is not a storage name`},
		"no token":        {func(a *gitlab.GitLabArgs) { a.GitStorage.Repositories[2].Token = nil }, "gitStorage.repositories[2].token"},
		"no shell secret": {func(a *gitlab.GitLabArgs) { a.GitStorage.ShellSecret = nil }, "gitStorage.shellSecret"},
		"weight": {func(a *gitlab.GitLabArgs) { a.GitStorage.Repositories[0].Weight = pulumi.IntRef(101) },
			"gitStorage.repositories[0].weight: 101 is not a weight from 0 to 100"},
		"all zero": {func(a *gitlab.GitLabArgs) {
			for i := range a.GitStorage.Repositories {
				a.GitStorage.Repositories[i].Weight = pulumi.IntRef(0)
			}
		}, "weigh 0 in all"},
		"keepNFS alone": {func(a *gitlab.GitLabArgs) { *a = *onS3(); a.GitStorage = gitlab.GitStorage{KeepNFS: true} },
			"gitStorage.keepNFS: true is set, but gitStorage.repositories is empty"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := onGitaly()
			c.edit(args)
			err := gitlab.Validate("gitlab", args)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := gitlab.NewGitLab(ctx, "gitlab", args)
				return err
			}, c.want)
		})
	}
}

func TestWithoutGitStorageTheZonesKeepTheirGitalyOnNFS(t *testing.T) {
	result, _ := deploy(t, threeZones())
	config := omnibusConfig(t, result)
	assert.NotContains(t, config, "repositories_storages", "Omnibus's own 'default', on the zone's volume")
	assert.False(t, strings.Contains(config, "gitaly['enable'] = false"))
	assert.Len(t, result.OfType(pvcType), 3)
}
