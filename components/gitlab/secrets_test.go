package gitlab_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
)

// omnibusGeneratedSecrets are the secrets Omnibus 18.11 generates on a node when gitlab.rb leaves them unset,
// for the services a replica runs (the parse_secrets of gitlab/libraries/gitlab_rails.rb, gitlab_shell.rb,
// gitlab_workhorse.rb, gitaly/libraries/gitaly.rb and gitlab-kas/libraries/gitlab_kas.rb, gathered by
// package/libraries/helpers/secrets_helper.rb). Pages, the registry, Mattermost, mail room and the bundled
// PostgreSQL generate theirs too; a replica runs none of them. The three FIPS-only secrets of gitlab_rails.rb
// are generated only when OpenSSL is in FIPS mode, which the CE image is not.
var omnibusGeneratedSecrets = []string{
	"gitlab_rails['db_key_base']", "gitlab_rails['secret_key_base']", "gitlab_rails['otp_key_base']",
	"gitlab_rails['encrypted_settings_key_base']", "gitlab_rails['openid_connect_signing_key']",
	"gitlab_rails['active_record_encryption_primary_key']", "gitlab_rails['active_record_encryption_deterministic_key']",
	"gitlab_rails['active_record_encryption_key_derivation_salt']",
	"gitlab_shell['secret_token']", "gitaly['gitlab_secret']", "gitlab_workhorse['secret_token']",
	"gitlab_kas['api_secret_key']", "gitlab_kas['private_api_secret_key']", "gitlab_kas['websocket_token_secret_key']",
}

func TestNoSecretOmnibusWouldGenerateIsLeftToAReplica(t *testing.T) {
	config := omnibusConfig(t, deployResult(t))
	for _, setting := range omnibusGeneratedSecrets {
		assert.Regexp(t, `(?m)^`+regexpQuote(setting)+` = \[?ENV\.fetch\('GITLAB_[A-Z_]+'\)\]?$`, config, "%s comes from the Secret", setting)
	}
	assert.Contains(t, config, "package['generate_default_secrets'] = false", "Omnibus generates nothing a replica would keep to itself")
	assert.Contains(t, config, "package['generate_secrets_json_file'] = false", "no replica writes gitlab-secrets.json for another to read")
	assert.Contains(t, config, "gitaly['gitlab_secret'] = ENV.fetch('GITLAB_SHELL_SECRET_TOKEN')",
		"Gitaly authenticates to Rails with GitLab Shell's token, a copy Omnibus no longer makes")
	assert.Contains(t, config, "gitlab_rails['initial_root_password'] = ENV['GITLAB_ROOT_PASSWORD']",
		"the initial root password is read where it is given, and is nil, not an error, everywhere else")
}

func TestOnlyTheJobThatSeedsTheDatabaseIsGivenTheInitialRootPassword(t *testing.T) {
	result, component := deploy(t, threeZones())
	environment, _ := result.Find(secretType, "gitlab-secrets")
	assert.NotContains(t, environment.InputMap("stringData"), "GITLAB_ROOT_PASSWORD",
		"not in the Secret every pod loads with envFrom")
	root, ok := result.Find(secretType, "gitlab-initial-root-password")
	require.True(t, ok)
	assert.True(t, root.InputIsSecret("stringData"))
	assert.Equal(t, componenttest.MustAwait(t, component.RootPassword).Value, root.InputString(`stringData["GITLAB_ROOT_PASSWORD"]`))

	regular, post := jobs(t, result)
	assert.Contains(t, envList(t, regular), map[string]any{"name": "GITLAB_ROOT_PASSWORD", "valueFrom": map[string]any{
		"secretKeyRef": map[string]any{"name": "gitlab-initial-root-password", "key": "GITLAB_ROOT_PASSWORD"}}},
		"the regular Job seeds an empty database with it (database_migrations.rb)")
	workloads := append(result.OfType(deploymentType), post)
	workloads = append(workloads, result.OfType("kubernetes:batch/v1:CronJob")...)
	for _, workload := range workloads {
		for _, e := range envList(t, workload) {
			assert.NotEqual(t, "GITLAB_ROOT_PASSWORD", e.(map[string]any)["name"], workload.Name)
		}
	}
}

// envList is the env list of a Deployment's or Job's first container.
func envList(t *testing.T, workload componenttest.Resource) []any {
	t.Helper()
	list, _ := workload.Input("spec.template.spec.containers[0].env")
	items, _ := list.([]any)
	return items
}

func TestSecretsHaveTheFormOmnibusValidates(t *testing.T) {
	result := deployResult(t)
	secret, ok := result.Find(secretType, "gitlab-secrets")
	require.True(t, ok)
	value := func(key string) string { return secret.InputString(`stringData["` + key + `"]`) }

	for key, bytes := range map[string]int{ // gitlab_workhorse.rb and gitlab_kas.rb validate_secrets
		"GITLAB_WORKHORSE_SECRET_TOKEN": 32, "GITLAB_KAS_API_SECRET_KEY": 32,
		"GITLAB_KAS_PRIVATE_API_SECRET_KEY": 32, "GITLAB_KAS_WEBSOCKET_TOKEN_SECRET_KEY": 72,
	} {
		decoded, err := base64.StdEncoding.DecodeString(value(key))
		require.NoError(t, err, key)
		assert.Len(t, decoded, bytes, key)
	}
	for _, key := range []string{"GITLAB_ACTIVE_RECORD_PRIMARY_KEY", "GITLAB_ACTIVE_RECORD_DETERMINISTIC_KEY", "GITLAB_ACTIVE_RECORD_KEY_DERIVATION_SALT"} {
		assert.Regexp(t, `^[A-Za-z0-9]{32}$`, value(key), "generate_alphanumeric(32), as gitlab_rails.rb makes it")
	}
	block, _ := pem.Decode([]byte(value("GITLAB_OPENID_CONNECT_SIGNING_KEY")))
	require.NotNil(t, block, "the OpenID Connect signing key is PEM")
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	require.NoError(t, err)
	assert.Equal(t, 4096, key.N.BitLen(), "generate_rsa(4096), as gitlab_rails.rb makes it")
	assert.NoError(t, key.Validate())
	assert.True(t, secret.InputIsSecret("stringData"))
}

func TestEveryReplicaAnswersSSHWithTheSameHostKeys(t *testing.T) {
	result := deployResult(t)
	hostKeys, ok := result.Find(secretType, "gitlab-ssh-host-keys")
	require.True(t, ok)
	assert.True(t, hostKeys.InputIsSecret("stringData"), "private keys stay secret")
	for kind, algorithm := range map[string]string{"rsa": ssh.KeyAlgoRSA, "ecdsa": ssh.KeyAlgoECDSA256, "ed25519": ssh.KeyAlgoED25519} {
		file := "ssh_host_" + kind + "_key"
		signer, err := ssh.ParsePrivateKey([]byte(hostKeys.InputString(`stringData["` + file + `"]`)))
		require.NoError(t, err, "%s is an OpenSSH private key", file)
		assert.Equal(t, algorithm, signer.PublicKey().Type(), file)
		if kind == "rsa" {
			rsaKey := signer.PublicKey().(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey)
			assert.Equal(t, 3072, rsaKey.N.BitLen(), "ssh-keygen's default")
		}
	}

	for _, zone := range zoneNames {
		deployment, _ := result.Find(deploymentType, "gitlab-"+zone)
		volumes, _ := deployment.Input("spec.template.spec.volumes")
		assert.Contains(t, volumes, map[string]any{"name": "ssh-host-keys",
			"secret": map[string]any{"secretName": "gitlab-ssh-host-keys", "defaultMode": float64(0o400)}}, zone)
		script := env(deployment, "GITLAB_PRE_RECONFIGURE_SCRIPT")
		for _, kind := range []string{"rsa", "ecdsa", "ed25519"} {
			assert.Contains(t, script, "key=ssh_host_"+kind+"_key; source=/etc/gitlab-ha/ssh-host-keys/$key", zone)
		}
		assert.Contains(t, script, `install -o root -g root -m 0600 "$source" /etc/gitlab/$key`,
			"sshd loads its keys from /etc/gitlab, before which the script puts the shared ones there")
	}
}

func TestEtcGitLabIsPerPodAndOnlyDataIsShared(t *testing.T) {
	result := deployResult(t)
	deployment, _ := result.Find(deploymentType, "gitlab-eu-west-1c")
	mounts, _ := deployment.Input("spec.template.spec.containers[0].volumeMounts")
	assert.Contains(t, mounts, map[string]any{"name": "etc", "mountPath": "/etc/gitlab"}, "each replica keeps its own /etc/gitlab")
	assert.Contains(t, mounts, map[string]any{"name": "data", "mountPath": "/etc/gitlab-previous", "subPath": "config", "readOnly": true},
		"the /etc/gitlab an earlier version shared is only read, for the keys it holds")
	shared := map[string]string{}
	for _, m := range mounts.([]any) {
		mount := m.(map[string]any)
		if mount["name"] == "data" && mount["readOnly"] != true {
			shared[mount["subPath"].(string)] = mount["mountPath"].(string)
		}
	}
	assert.Equal(t, map[string]string{
		"git-data": "/var/opt/gitlab/git-data", "ssh": "/var/opt/gitlab/.ssh", "uploads": "/var/opt/gitlab/gitlab-rails/uploads",
		"shared": "/var/opt/gitlab/gitlab-rails/shared", "builds": "/var/opt/gitlab/gitlab-ci/builds",
	}, shared, "GitLab's NFS guide's data directories, and authorized_keys")
}

func TestKeysAnEarlierVersionGeneratedOnTheVolumeAreKept(t *testing.T) {
	config := omnibusConfig(t, deployResult(t))
	assert.Contains(t, config, "previous_secrets_file = ['/etc/gitlab-previous/gitlab-secrets.json', '/etc/gitlab/gitlab-secrets.json']",
		"the new pods' read-only mount, or, in a pod of the earlier version restarting mid-upgrade, the shared /etc/gitlab")
	for _, key := range []string{"active_record_encryption_primary_key", "active_record_encryption_deterministic_key",
		"active_record_encryption_key_derivation_salt", "openid_connect_signing_key"} {
		assert.Contains(t, config, "'"+key+"'", "data encrypted or signed with the previous %s stays readable", key)
	}
	adoption := strings.Index(config, "previous_secrets_file =")
	assert.Greater(t, adoption, strings.Index(config, "gitlab_rails['active_record_encryption_primary_key'] = [ENV.fetch"),
		"the previous file's keys override the generated ones, so they come after")
}

func TestKASIsOff(t *testing.T) {
	assert.Contains(t, omnibusConfig(t, deployResult(t)), "gitlab_kas['enable'] = false")
}

func regexpQuote(s string) string {
	return strings.NewReplacer(`[`, `\[`, `]`, `\]`, `'`, `'`).Replace(s)
}

// deployResult deploys the three-zone layout and returns what it registered.
func deployResult(t *testing.T) *componenttest.Result {
	result, _ := deploy(t, threeZones())
	return result
}

// env returns the value of a variable of a Deployment's or Job's first container.
func env(workload componenttest.Resource, name string) string {
	list, _ := workload.Input("spec.template.spec.containers[0].env")
	for _, e := range list.([]any) {
		variable := e.(map[string]any)
		if variable["name"] == name {
			value, _ := variable["value"].(string)
			return value
		}
	}
	return ""
}
