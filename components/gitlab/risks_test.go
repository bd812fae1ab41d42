package gitlab_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

func TestExtraConfigThatTurnsOnAServiceWithoutItsSecretsIsRefused(t *testing.T) {
	for setting, service := range map[string]string{
		"registry_external_url 'https://registry.example.com'":                 "turns on the Container Registry",
		"pages_external_url 'https://pages.example.com'":                       "turns on GitLab Pages",
		"mattermost_external_url 'https://chat.example.com'":                   "turns on Mattermost",
		"gitlab_rails['incoming_email_delivery_method'] = 'webhook'":           "turns on mail room's webhook delivery",
		"gitlab_rails['service_desk_email_delivery_method'] = \"webhook\"":     "turns on mail room's webhook delivery",
		"gitlab_rails['time_zone'] = 'UTC'\nregistry_external_url 'https://r'": "(line 2) turns on the Container Registry",
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			args := threeZones()
			args.ExtraConfig = setting
			_, err := gitlab.NewGitLab(ctx, "gitlab", args)
			return err
		}, "extraConfig: ")
		err := gitlab.Validate("gitlab", &gitlab.GitLabArgs{ExtraConfig: setting, Zones: threeZones().Zones,
			ExternalURL: threeZones().ExternalURL, Database: threeZones().Database})
		assert.ErrorContains(t, err, service, setting)
		assert.ErrorContains(t, err, "it would run with empty secrets", setting)
	}
	args := threeZones()
	args.ExtraConfig = "# registry_external_url 'https://registry.example.com'\ngitlab_rails['incoming_email_delivery_method'] = 'sidekiq'\n"
	deploy(t, args) // a comment, and mail delivered through Sidekiq, which needs no token
}

func TestSSHKeysAreLookedUpInGitLabOnlyAndTheAuthorizedKeysFileIsNotWritten(t *testing.T) {
	result, _ := deploy(t, threeZones())
	for _, zone := range zoneNames {
		deployment, _ := result.Find(deploymentType, "gitlab-"+zone)
		assert.Contains(t, env(deployment, "GITLAB_PRE_RECONFIGURE_SCRIPT"),
			"sed -i 's|^AuthorizedKeysFile .*|AuthorizedKeysFile none|' /assets/sshd_config",
			"sshd in zone %s reads no authorized_keys file, shared or not: a stale one would admit deleted keys", zone)
	}
	regular, post := jobs(t, result)
	assert.Contains(t, env(regular, "GITLAB_POST_RECONFIGURE_SCRIPT"), "update!(authorized_keys_enabled: false)",
		"GitLab stops rewriting the file on the shared volume (fast SSH key lookup)")
	assert.Equal(t, "exit 0\n", env(post, "GITLAB_POST_RECONFIGURE_SCRIPT"))
	assert.NotContains(t, env(regular, "GITLAB_PRE_RECONFIGURE_SCRIPT"), "sshd_config", "a Job runs no sshd")
}

func TestWithObjectStorageOutdatedMergeRequestDiffsGoToTheirBucket(t *testing.T) {
	config := omnibusConfig(t, mustDeploy(t, onS3()))
	assert.Contains(t, config, "gitlab_rails['object_store']['objects']['external_diffs']['bucket'] = ")
	assert.Contains(t, config, "gitlab_rails['external_diffs_enabled'] = true\ngitlab_rails['external_diffs_when'] = 'outdated'\n",
		"the bucket is used; current diffs stay in the database")
	assert.NotContains(t, omnibusConfig(t, deployResult(t)), "external_diffs_enabled", "without object storage, diffs stay in the database")
}
