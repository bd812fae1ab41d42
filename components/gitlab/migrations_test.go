package gitlab_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

func jobs(t *testing.T, result *componenttest.Result) (regular, post componenttest.Resource) {
	t.Helper()
	regular, ok := result.Find(jobType, "gitlab-migrations")
	require.True(t, ok, "the release's migration Job")
	post, ok = result.Find(jobType, "gitlab-post-migrations")
	require.True(t, ok, "the release's post-deployment migration Job")
	return regular, post
}

func TestEachReleaseMigratesInAJobNamedAfterItsVersion(t *testing.T) {
	result, component := deploy(t, threeZones())
	regular, post := jobs(t, result)
	assert.Regexp(t, `^gitlab-migrations-18-11-11-[0-9a-f]{8}$`, regular.InputString("metadata.name"))
	assert.Regexp(t, `^gitlab-post-migrations-18-11-11-[0-9a-f]{8}$`, post.InputString("metadata.name"))
	assert.Equal(t, regular.InputString("metadata.name"), componenttest.MustAwait(t, component.MigrationJob).Value)
	assert.Equal(t, post.InputString("metadata.name"), componenttest.MustAwait(t, component.PostMigrationJob).Value)
	for _, job := range []componenttest.Resource{regular, post} {
		assert.Equal(t, gitlab.DefaultImage, job.InputString("spec.template.spec.containers[0].image"))
		assert.Equal(t, "true", env(job, "GITLAB_HA_MIGRATIONS"), "the configuration's migration switch")
		assert.Equal(t, "18.11.11", env(job, "GITLAB_HA_VERSION"))
		assert.Equal(t, "Never", job.InputString("spec.template.spec.restartPolicy"))
		assert.Equal(t, gitlab.MigrationsComponent, job.InputMap("spec.template.metadata.labels")["app.kubernetes.io/component"],
			"not a webservice pod: the Service and the disruption budget leave it alone")
	}
	assert.Equal(t, "true", env(regular, "SKIP_POST_DEPLOYMENT_MIGRATIONS"), "post-deployment migrations wait for every zone")
	assert.Empty(t, env(post, "SKIP_POST_DEPLOYMENT_MIGRATIONS"))
}

func TestANewImageNamesNewJobsAndTheSameInputsTheSameJobs(t *testing.T) {
	names := func(args *gitlab.GitLabArgs) (string, string) {
		regular, post := jobs(t, mustDeploy(t, args))
		return regular.InputString("metadata.name"), post.InputString("metadata.name")
	}
	before, beforePost := names(threeZones())
	again, againPost := names(threeZones())
	assert.Equal(t, before, again, "an unchanged release keeps its Jobs: nothing migrates twice")
	assert.Equal(t, beforePost, againPost)

	upgrade := threeZones()
	upgrade.Image = "gitlab/gitlab-ce:18.11.12-ce.0"
	after, afterPost := names(upgrade)
	assert.True(t, strings.HasPrefix(after, "gitlab-migrations-18-11-12-"), after)
	assert.True(t, strings.HasPrefix(afterPost, "gitlab-post-migrations-18-11-12-"), afterPost)

	reconfigured := threeZones()
	reconfigured.ExtraConfig = "gitlab_rails['time_zone'] = 'UTC'\n"
	changed, _ := names(reconfigured)
	assert.NotEqual(t, before, changed, "a Job's pods cannot change: a new configuration is a new Job, which Pulumi replaces the old with")
	assert.True(t, strings.HasPrefix(changed, "gitlab-migrations-18-11-11-"))

	moved := threeZones()
	moved.Zones[0].NodeSelector = map[string]string{"pool": "a"}
	relocated, _ := names(moved)
	assert.NotEqual(t, before, relocated, "so is any other change to the Job's pod")
}

func TestAJobsNameIsNeverSecretEvenWhenWhatItHashesIs(t *testing.T) {
	args := threeZones()
	args.Database.Host = pulumi.ToSecret(pulumi.String("db.internal")).(pulumi.StringOutput) // as Linode's database host is
	args.Zones[0].Storage.NFS.Server = pulumi.ToSecret(pulumi.String("10.0.0.10")).(pulumi.StringOutput)
	result, component := deploy(t, args)
	regular, post := jobs(t, result)
	for _, job := range []componenttest.Resource{regular, post} {
		assert.False(t, job.InputIsSecret("metadata.name"), job.Name)
		assert.Regexp(t, `-18-11-11-[0-9a-f]{8}$`, job.InputString("metadata.name"))
	}
	assert.False(t, componenttest.MustAwait(t, component.MigrationJob).Secret)
}

func TestEveryZoneWaitsForTheMigrationsAndThePostDeploymentMigrationsWaitForEveryZone(t *testing.T) {
	result, _ := deploy(t, threeZones())
	regular, post := jobs(t, result)
	for _, zone := range zoneNames {
		deployment, ok := result.Find(deploymentType, "gitlab-"+zone)
		require.True(t, ok)
		// Data, not an explicit DependsOn: the Job's name resolves only once it completed, and the plan's
		// critical path counts the wait.
		assert.Contains(t, deployment.DataDependencies, regular.URN, "zone %s rolls out after the migrations", zone)
		assert.Equal(t, "job/"+regular.InputString("metadata.name"), deployment.InputMap("metadata.annotations")["gitlab-ha.io/after"])
		assert.Contains(t, post.DataDependencies, deployment.URN, "the post-deployment migrations wait for zone %s", zone)
		assert.Contains(t, post.InputMap("metadata.annotations")["gitlab-ha.io/after"], "deployment/gitlab-"+zone)
	}
	redis, _ := result.Find(deploymentType, "gitlab-redis")
	assert.Contains(t, regular.DataDependencies, redis.URN, "migrations and seeds need Redis running")

	record, ok := result.Find(configMapType, "gitlab-migrated-version")
	require.True(t, ok)
	assert.Equal(t, "18.11.11", record.InputString(`data["version"]`))
	assert.Contains(t, record.DataDependencies, post.URN, "the version is recorded once all its migrations completed")
}

func TestNoReplicaMigrates(t *testing.T) {
	result, _ := deploy(t, threeZones())
	config := omnibusConfig(t, result)
	assert.Regexp(t, regexp.MustCompile(`(?s)if ENV\['GITLAB_HA_MIGRATIONS'\] == 'true'\n  gitlab_rails\['auto_migrate'\] = true\n.*else\n  gitlab_rails\['auto_migrate'\] = false\nend`), config)
	for _, deployment := range result.OfType(deploymentType) {
		assert.Empty(t, env(deployment, "GITLAB_HA_MIGRATIONS"), deployment.Name)
	}
	migrationsConfig := config[strings.Index(config, "if ENV['GITLAB_HA_MIGRATIONS']"):]
	for _, service := range []string{"puma", "sidekiq", "gitlab_workhorse", "nginx"} {
		assert.Contains(t, migrationsConfig, "  "+service+"['enable'] = false", "the Jobs serve nothing")
	}
	assert.NotContains(t, migrationsConfig, "gitaly['enable'] = false", "Omnibus starts Gitaly before it migrates")
}

func TestTheMigrationJobChecksTheUpgradePathAgainstTheRecordedVersion(t *testing.T) {
	result, _ := deploy(t, threeZones())
	regular, post := jobs(t, result)
	script := regular.MustInput(t, "spec.template.spec.containers[0].command").([]any)
	require.Len(t, script, 3)
	body := script[2].(string)
	assert.Contains(t, body, `/opt/gitlab/bin/gitlab-ctl upgrade-check "$migrated" "$running"`, "Omnibus's own check")
	assert.Contains(t, body, "awk '/^gitlab-(ce|ee|jh)/ {print $NF}' /opt/gitlab/version-manifest.txt",
		"the running version, read as the image's init-container reads it")
	assert.Contains(t, body, "$$(awk", "the kubelet must not read $(...) as a variable reference")
	assert.Contains(t, body, "Downgrade refused")
	assert.True(t, strings.HasSuffix(body, "exec /assets/init-container\n"), "then the image's own entrypoint migrates")
	assert.NotContains(t, post.MustInput(t, "spec.template.spec.containers[0].command").([]any)[2], "upgrade-check")

	list, _ := regular.Input("spec.template.spec.containers[0].env")
	var recorded map[string]any
	for _, e := range list.([]any) {
		if e.(map[string]any)["name"] == "GITLAB_HA_MIGRATED_VERSION" {
			recorded = e.(map[string]any)
		}
	}
	require.NotNil(t, recorded)
	assert.Equal(t, map[string]any{"configMapKeyRef": map[string]any{"name": "gitlab-migrated-version", "key": "version", "optional": true}},
		recorded["valueFrom"], "the record outlives every pod; absent on a first install")

	rules, _ := regular.Input("spec.podFailurePolicy.rules")
	assert.Equal(t, []any{map[string]any{"action": "FailJob",
		"onExitCodes": map[string]any{"containerName": "migrations", "operator": "In", "values": []any{float64(3)}}}}, rules,
		"a refused upgrade fails at once instead of retrying")
	assert.Equal(t, "FallbackToLogsOnError", regular.InputString("spec.template.spec.containers[0].terminationMessagePolicy"))
}

func TestTheJobRunsInTheFirstZoneOnItsVolume(t *testing.T) {
	result, _ := deploy(t, threeZones())
	regular, _ := jobs(t, result)
	assert.Equal(t, map[string]string{gitlab.ZoneLabel: "eu-west-1a"}, regular.InputMap("spec.template.spec.nodeSelector"))
	assert.Equal(t, objectName(t, result, pvcType, "eu-west-1a"), regular.InputString("spec.template.spec.volumes[0].persistentVolumeClaim.claimName"))
	mounts, _ := regular.Input("spec.template.spec.containers[0].volumeMounts")
	assert.Contains(t, mounts, map[string]any{"name": "data", "mountPath": "/etc/gitlab-previous", "subPath": "config", "readOnly": true},
		"the same keys as the replicas")
	_, placed := regular.Input("spec.template.spec.affinity")
	assert.False(t, placed, "a shared volume can be mounted from any node of the zone")
}

func TestOnAReadWriteOnceVolumeTheJobJoinsThePodThatHoldsIt(t *testing.T) {
	args := threeZones()
	args.Zones = args.Zones[:1]
	args.Zones[0].Storage = gitlab.Storage{StorageClass: "linode-block-storage-retain"}
	result, _ := deploy(t, args)
	regular, _ := jobs(t, result)
	term := "spec.template.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]."
	assert.Equal(t, "kubernetes.io/hostname", regular.InputString(term+"topologyKey"))
	assert.Equal(t, map[string]string{"app.kubernetes.io/instance": "gitlab", gitlab.ZoneLabelKey: "eu-west-1a"}, regular.InputMap(term+"labelSelector.matchLabels"))
	values := regular.MustInput(t, term+"labelSelector.matchExpressions[0].values").([]any)
	assert.True(t, slices.Contains(values, any(gitlab.WebserviceComponent)) && slices.Contains(values, any(gitlab.MigrationsComponent)),
		"the zone's GitLab pod where there is one, and the Job's own pod, so that a first install can start")
}

func TestTheVersionComesFromTheImageTagOrIsRequired(t *testing.T) {
	custom := threeZones()
	custom.Image = "registry.example.com/gitlab/gitlab-ee@sha256:" + strings.Repeat("a", 64)
	custom.Version = "18.11.11"
	result, _ := deploy(t, custom)
	regular, _ := jobs(t, result)
	assert.True(t, strings.HasPrefix(regular.InputString("metadata.name"), "gitlab-migrations-18-11-11-"))

	for _, tc := range []struct {
		edit func(*gitlab.GitLabArgs)
		want string
	}{
		{func(a *gitlab.GitLabArgs) { a.Image = "registry.example.com/gitlab:latest" },
			`version: is required: image "registry.example.com/gitlab:latest" has no tag that names a GitLab version`},
		{func(a *gitlab.GitLabArgs) { a.Version = "18.11" }, `version: "18.11" is not a GitLab version such as 18.11.11`},
		{func(a *gitlab.GitLabArgs) { a.Version = "18.11.10" },
			`version: "18.11.10" differs from 18.11.11, the version image "gitlab/gitlab-ce:18.11.11-ce.0" names`},
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			args := threeZones()
			tc.edit(args)
			_, err := gitlab.NewGitLab(ctx, "gitlab", args)
			return err
		}, tc.want)
	}
	componenttest.Rejects(t, func(ctx *pulumi.Context) error {
		_, err := gitlab.NewGitLab(ctx, "gitlab-with-a-name-long-enough-for-its-jobs", threeZones())
		return err
	}, `name: "gitlab-with-a-name-long-enough-for-its-jobs" makes the migration Job name`)
}
