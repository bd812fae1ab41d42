package gitlab_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

// keySecrets are the component's Secrets that hold keys.
var keySecrets = []string{"gitlab-secrets", "gitlab-ssh-host-keys", "gitlab-initial-root-password"}

// anotherStacksPasswords answers RandomPassword as a new stack's random resources would: with other values
// than the default answers, letters and digits of the asked length.
func anotherStacksPasswords(req componenttest.Request) (string, resource.PropertyMap, error) {
	length := int(req.Inputs["length"].NumberValue())
	var value string
	for i := 0; len(value) < length; i++ {
		sum := sha256.Sum256([]byte("another stack\x00" + req.Name + "\x00" + string(rune('a'+i))))
		value += hex.EncodeToString(sum[:])
	}
	outputs := req.Inputs.Copy()
	outputs["result"] = resource.NewStringProperty(value[:length])
	return "id-" + req.Name, outputs, nil
}

// deployWith deploys args under mocks with the given options and returns what it registered.
func deployWith(t *testing.T, args *gitlab.GitLabArgs, options ...componenttest.Option) *componenttest.Result {
	t.Helper()
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		_, err := gitlab.NewGitLab(ctx, "gitlab", args)
		return err
	}, options...)
	require.NoError(t, result.Err)
	return result
}

// secretData is the stringData of each Secret that holds keys, by Secret and entry.
func secretData(t *testing.T, result *componenttest.Result) map[string]map[string]string {
	t.Helper()
	data := map[string]map[string]string{}
	for _, name := range keySecrets {
		secret, ok := result.Find(secretType, name)
		require.True(t, ok, name)
		require.True(t, secret.InputIsSecret("stringData"), name)
		data[name] = map[string]string{}
		for entry := range secret.InputMap("stringData") {
			data[name][entry] = secret.InputString(`stringData["` + entry + `"]`)
		}
	}
	return data
}

// kubectlGetSecrets is what `kubectl get secret gitlab-secrets gitlab-ssh-host-keys
// gitlab-initial-root-password -o json` prints for these Secrets: a List, each value base64 in data.
func kubectlGetSecrets(t *testing.T, data map[string]map[string]string) []byte {
	t.Helper()
	var items []map[string]any
	for _, name := range keySecrets {
		encoded := map[string]string{}
		for entry, value := range data[name] {
			encoded[entry] = base64.StdEncoding.EncodeToString([]byte(value))
		}
		items = append(items, map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
			"metadata": map[string]any{"name": name, "namespace": "gitlab"}, "data": encoded})
	}
	out, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	require.NoError(t, err)
	return out
}

func toKeys(keys map[string]string) pulumi.StringMap {
	m := pulumi.StringMap{}
	for name, value := range keys {
		m[name] = pulumi.String(value)
	}
	return m
}

func TestANewStackGivenTheSavedSecretsRendersTheSameSecretsByteForByte(t *testing.T) {
	old := secretData(t, deployResult(t))

	keys, left, err := gitlab.KeysFromSecrets(kubectlGetSecrets(t, old))
	require.NoError(t, err)
	assert.Equal(t, gitlab.KeyNames(), sortedKeys(keys), "every key, from the three Secrets")
	assert.Equal(t, []string{"GITLAB_DB_PASSWORD", "GITLAB_DB_USERNAME", "GITLAB_REDIS_PASSWORD"}, left, "the stack's own credentials are left out")

	unsaved := secretData(t, deployWith(t, threeZones(), componenttest.WithAnswer(passwordType, anotherStacksPasswords)))
	assert.NotEqual(t, old["gitlab-secrets"]["GITLAB_DB_KEY_BASE"], unsaved["gitlab-secrets"]["GITLAB_DB_KEY_BASE"],
		"a new stack's random resources generate other keys, which cannot read the restored database")

	args := threeZones()
	args.Keys = toKeys(keys)
	restored := secretData(t, deployWith(t, args, componenttest.WithAnswer(passwordType, anotherStacksPasswords)))
	assert.NotEqual(t, old["gitlab-secrets"]["GITLAB_REDIS_PASSWORD"], restored["gitlab-secrets"]["GITLAB_REDIS_PASSWORD"],
		"the in-cluster Redis's password is the new stack's own")
	for _, credential := range left {
		delete(old["gitlab-secrets"], credential)
		delete(restored["gitlab-secrets"], credential)
	}
	assert.Equal(t, old, restored, "every key in the new stack's Secrets is the old stack's, byte for byte")
}

func TestASavedKeyIsKeptSecretAndItsGeneratedValueStaysInTheState(t *testing.T) {
	args := threeZones()
	args.Keys = pulumi.StringMap{"GITLAB_DB_KEY_BASE": pulumi.String("saved-db-key-base")}
	result := deployWith(t, args)
	secret, _ := result.Find(secretType, "gitlab-secrets")
	assert.Equal(t, "saved-db-key-base", secret.InputString(`stringData["GITLAB_DB_KEY_BASE"]`))
	assert.True(t, secret.InputIsSecret("stringData"))
	assert.Empty(t, result.PlaintextLeaks("saved-db-key-base"))
	_, generated := result.Find(passwordType, "gitlab-db-key-base")
	assert.True(t, generated, "taking the saved key out again gives back the stack's own, not a new one")
	assert.Len(t, result.OfType(passwordType), len(deployResult(t).OfType(passwordType)), "no random resource added or removed")
}

// gitlabSecretsJSON is a gitlab-secrets.json as Omnibus 18.11 writes it (SecretsHelper.write_to_gitlab_secrets,
// JSON.pretty_generate): the Active Record keys as lists of one key.
func gitlabSecretsJSON(primary string) []byte {
	return []byte(`{
  "gitlab_workhorse": {
    "secret_token": "d29ya2hvcnNlLXNlY3JldC10b2tlbi0zMi1ieXRlcyE="
  },
  "gitlab_rails": {
    "db_key_base": "the-components-own",
    "openid_connect_signing_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n",
    "active_record_encryption_primary_key": [
      "` + primary + `"
    ],
    "active_record_encryption_deterministic_key": [
      "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6"
    ],
    "active_record_encryption_key_derivation_salt": "Z9x8C7v6B5n4M3l2K1j0H9g8F7d6S5a4"
  }
}
`)
}

func TestAdoptingAnEarlierVersionsKeysPutsThemInTheSecretAndAgainChangesNothing(t *testing.T) {
	file := gitlabSecretsJSON("P0o9I8u7Y6t5R4e3W2q1A2s3D4f5G6h7")
	adopted, err := gitlab.KeysFromOmnibusSecrets(file, nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"GITLAB_ACTIVE_RECORD_PRIMARY_KEY":         "P0o9I8u7Y6t5R4e3W2q1A2s3D4f5G6h7",
		"GITLAB_ACTIVE_RECORD_DETERMINISTIC_KEY":   "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6",
		"GITLAB_ACTIVE_RECORD_KEY_DERIVATION_SALT": "Z9x8C7v6B5n4M3l2K1j0H9g8F7d6S5a4",
		"GITLAB_OPENID_CONNECT_SIGNING_KEY":        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n",
	}, adopted, "the keys that encrypt and sign, and only those: the rest were the component's already")
	again, err := gitlab.KeysFromOmnibusSecrets(file, adopted)
	require.NoError(t, err)
	assert.Equal(t, adopted, again, "adopting the same file again gives the same keys")

	args := threeZones()
	args.Keys = toKeys(adopted)
	first := deployWith(t, args)
	args.Keys = toKeys(again)
	second := deployWith(t, args)
	assert.Equal(t, secretData(t, first), secretData(t, second), "a second pulumi up changes no Secret: no key rotates")
	regular, _ := jobs(t, first)
	regularAgain, _ := jobs(t, second)
	assert.Equal(t, regular.InputString("metadata.name"), regularAgain.InputString("metadata.name"), "and runs no new Job")
	for name, value := range adopted {
		assert.Equal(t, value, secretData(t, first)["gitlab-secrets"][name], "%s is in the Secret and the state", name)
	}

	_, err = gitlab.KeysFromOmnibusSecrets(gitlabSecretsJSON("AnotherPrimaryKeyOf32Characters0"), adopted)
	assert.ErrorContains(t, err, "GITLAB_ACTIVE_RECORD_PRIMARY_KEY is already given with another value", "never overwritten silently")
}

func TestTheMigrationJobRefusesAVolumeWhoseKeysTheStackWasNotGiven(t *testing.T) {
	const primary = "P0o9I8u7Y6t5R4e3W2q1A2s3D4f5G6h7"
	adopted, err := gitlab.KeysFromOmnibusSecrets(gitlabSecretsJSON(primary), nil)
	require.NoError(t, err)
	withPrevious := func(t *testing.T) fakeImage {
		image := newFakeImage(t, "18.11.11")
		image.write(t, "etc/gitlab-previous/gitlab-secrets.json", string(gitlabSecretsJSON(primary)))
		return image
	}
	version := map[string]string{"GITLAB_HA_VERSION": "18.11.11", "GITLAB_HA_MIGRATED_VERSION": "18.11.11"}
	withEnv := func(job componenttest.Resource, secret map[string]string) map[string]string {
		env := map[string]string{"GITLAB_HA_SAVED_KEYS": jobEnv(job, "GITLAB_HA_SAVED_KEYS")}
		for k, v := range version {
			env[k] = v
		}
		for k, v := range secret { // what envFrom gives the pod from the Secret
			env[k] = v
		}
		return env
	}

	unadopted := regularJob(t, threeZones())
	code, message := withPrevious(t).run(t, unadopted, withEnv(unadopted, nil))
	assert.Equal(t, 3, code, message)
	assert.Contains(t, message, "Keys not adopted")
	assert.Contains(t, message, "GITLAB_ACTIVE_RECORD_PRIMARY_KEY GITLAB_ACTIVE_RECORD_DETERMINISTIC_KEY GITLAB_ACTIVE_RECORD_KEY_DERIVATION_SALT GITLAB_OPENID_CONNECT_SIGNING_KEY")
	assert.NotContains(t, message, primary, "names, never values")

	args := threeZones()
	args.Keys = toKeys(adopted)
	job := regularJob(t, args)
	assert.NotEqual(t, unadopted.InputString("metadata.name"), job.InputString("metadata.name"),
		"adopting names a new Job, so the refused one is not awaited again")
	code, message = withPrevious(t).run(t, job, withEnv(job, adopted))
	assert.Equal(t, 0, code, message)
	assert.Equal(t, "migrating\n", message)

	code, message = newFakeImage(t, "18.11.11").run(t, unadopted, withEnv(unadopted, nil))
	assert.Equal(t, 0, code, "a volume without the file (a fresh install) needs nothing adopted: %s", message)

	wrong := map[string]string{}
	for k, v := range adopted {
		wrong[k] = v
	}
	wrong["GITLAB_ACTIVE_RECORD_PRIMARY_KEY"] = "AnotherPrimaryKeyOf32Characters0"
	code, message = withPrevious(t).run(t, job, withEnv(job, wrong))
	assert.Equal(t, 3, code, message)
	assert.Contains(t, message, "Keys differ: the stack was given GITLAB_ACTIVE_RECORD_PRIMARY_KEY,")

	otherPEM := map[string]string{}
	for k, v := range adopted {
		otherPEM[k] = v
	}
	otherPEM["GITLAB_OPENID_CONNECT_SIGNING_KEY"] = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qv\n-----END RSA PRIVATE KEY-----\n"
	code, message = withPrevious(t).run(t, job, withEnv(job, otherPEM))
	assert.Equal(t, 3, code, message)
	assert.Contains(t, message, "Keys differ: the stack was given GITLAB_OPENID_CONNECT_SIGNING_KEY,", "a PEM compares whole")
}

func TestKeysAreRefusedByNameOrFormBeforeAnythingIsRegistered(t *testing.T) {
	for _, tc := range []struct {
		keys pulumi.StringMap
		want string
	}{
		{pulumi.StringMap{"GITLAB_DB_PASSWORD": pulumi.String("x")}, `keys["GITLAB_DB_PASSWORD"]: is not a key the component generates`},
		{pulumi.StringMap{"GITLAB_DB_KEY_BASE": pulumi.String("")}, `keys["GITLAB_DB_KEY_BASE"]`},
		// base64 of the Secret's base64: what importing the Secret's value into a random resource gave.
		{pulumi.StringMap{"GITLAB_WORKHORSE_SECRET_TOKEN": pulumi.String(base64.StdEncoding.EncodeToString(
			[]byte(base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))))},
			`keys["GITLAB_WORKHORSE_SECRET_TOKEN"]: is not base64 of 32 bytes, as Omnibus requires (it decodes to 44)`},
		{pulumi.StringMap{"ssh_host_rsa_key": pulumi.String("a seed, not a key")}, `keys["ssh_host_rsa_key"]: is not a PEM-encoded private key`},
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			args := threeZones()
			args.Keys = tc.keys
			_, err := gitlab.NewGitLab(ctx, "gitlab", args)
			return err
		}, tc.want)
	}
}

// jobEnv is the value of a variable of a Job's first container.
func jobEnv(job componenttest.Resource, name string) string { return env(job, name) }

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
