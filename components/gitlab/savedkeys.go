package gitlab

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Saved keys: the values of generated keys that a stack is given back, so that what they encrypt or sign
// stays readable. Two things need them:
//   - a restore into a new stack, whose random resources would otherwise generate new keys that cannot read
//     the restored database (gitlab-backup does not carry the keys);
//   - an installation made before the component generated every key, whose Active Record encryption keys
//     and OpenID Connect key exist only in the gitlab-secrets.json its first replica wrote to the shared
//     volume (adopted once into the stack, see the README).
// A saved key is given by the name it has in the Secrets: the value is used as it is, byte for byte, where
// the generated one would be, so that a stack built from a saved copy of its Secrets renders the same
// Secrets. The generated value stays in the state, unused, so that taking a saved key out again never
// regenerates one.

// KeyNames are the names GitLabArgs.Keys takes: every generated key, by its name in Secret <name>-secrets
// (the key bases, the Omnibus secrets), Secret <name>-initial-root-password and Secret <name>-ssh-host-keys
// (the host keys' files).
func KeyNames() []string {
	names := []string{envRootPassword}
	for _, key := range keyBases {
		names = append(names, key.env)
	}
	for _, s := range omnibusSecrets {
		names = append(names, s.env)
	}
	for _, key := range sshHostKeys {
		names = append(names, key.file())
	}
	slices.Sort(names)
	return names
}

// adoptedKeyNames are the saved keys that an installation with an earlier version's gitlab-secrets.json on
// its volume must have been given, by the name of the setting the file holds: previousKeys, by their names in
// the Secret.
var adoptedKeyNames = map[string]string{
	"active_record_encryption_primary_key":         "GITLAB_ACTIVE_RECORD_PRIMARY_KEY",
	"active_record_encryption_deterministic_key":   "GITLAB_ACTIVE_RECORD_DETERMINISTIC_KEY",
	"active_record_encryption_key_derivation_salt": "GITLAB_ACTIVE_RECORD_KEY_DERIVATION_SALT",
	"openid_connect_signing_key":                   "GITLAB_OPENID_CONNECT_SIGNING_KEY",
}

// savedOr is the saved value of the key, kept secret, or the generated one.
func savedOr(saved pulumi.StringMap, name string, generated pulumi.StringOutput) pulumi.StringOutput {
	if value, ok := saved[name]; ok {
		return pulumi.ToSecret(value).(pulumi.StringOutput)
	}
	return generated
}

// savedKeyList names the saved keys, sorted, for the migration Job: the names only, never a value.
func savedKeyList(saved pulumi.StringMap) string {
	return strings.Join(slices.Sorted(maps.Keys(saved)), ",")
}

// base64Lengths are the keys that Omnibus wants as base64 of an exact number of bytes (gitlab_workhorse.rb
// and gitlab_kas.rb validate_secrets), which reconfigure refuses otherwise.
func base64Lengths() map[string]int {
	lengths := map[string]int{}
	for _, s := range omnibusSecrets {
		if s.form == asBase64 {
			lengths[s.env] = s.length
		}
	}
	return lengths
}

// validateKeys refuses a name that is no key, and a value that could not be one: empty, or, for the keys
// Omnibus wants base64 of an exact length, a value of another length, which is what base64-encoding a saved
// value a second time gives.
func validateKeys(keys pulumi.StringMap) error {
	known := KeyNames()
	lengths := base64Lengths()
	for _, name := range slices.Sorted(maps.Keys(keys)) {
		field := fmt.Sprintf("keys[%q]", name)
		if !slices.Contains(known, name) {
			return validate.Errorf(field, nil, "is not a key the component generates; keys are named as in its Secrets: %s",
				strings.Join(known, ", "))
		}
		if err := validate.RequiredString(field, keys[name]); err != nil {
			return err
		}
		value, literal := validate.LiteralString(keys[name])
		if !literal {
			continue
		}
		if bytes, ok := lengths[name]; ok {
			decoded, err := base64.StdEncoding.DecodeString(value)
			if err != nil || len(decoded) != bytes {
				return validate.Errorf(field, nil, "is not base64 of %d bytes, as Omnibus requires (it decodes to %d): pass the value the Secret holds, not base64 of it",
					bytes, len(decoded))
			}
		}
		if (strings.HasPrefix(name, "ssh_host_") || name == "GITLAB_OPENID_CONNECT_SIGNING_KEY") &&
			!(strings.Contains(value, "-----BEGIN ") && strings.Contains(value, " PRIVATE KEY-----")) {
			return validate.Errorf(field, nil, "is not a PEM-encoded private key, as the Secret holds it")
		}
	}
	return nil
}

// KeysFromSecrets reads the keys out of saved copies of the component's Secrets, as
// `kubectl get secret <name>-secrets <name>-ssh-host-keys <name>-initial-root-password -o json` prints them (a
// List, or one Secret): each key by its name, decoded, ready for GitLabArgs.Keys. The credentials the Secrets
// also hold (the database's, Redis's, object storage's) are the stack's own and are left out; left lists
// them. Every key must be there: a restore that lacked one would generate it anew.
func KeysFromSecrets(saved []byte) (keys map[string]string, left []string, err error) {
	var document struct {
		Kind  string `json:"kind"`
		Items []struct {
			Data map[string]string `json:"data"`
		} `json:"items"`
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(saved, &document); err != nil {
		return nil, nil, fmt.Errorf("not the JSON of kubectl get secret -o json: %w", err)
	}
	data := []map[string]string{document.Data}
	for _, item := range document.Items {
		data = append(data, item.Data)
	}
	known := KeyNames()
	keys = map[string]string{}
	for _, entries := range data {
		for name, encoded := range entries {
			value, err := base64.StdEncoding.DecodeString(encoded)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: the Secret's data is not base64: %w", name, err)
			}
			if !slices.Contains(known, name) {
				left = append(left, name)
				continue
			}
			keys[name] = string(value)
		}
	}
	var missing []string
	for _, name := range known {
		if _, ok := keys[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("the saved Secrets lack %s: save <name>-secrets, <name>-ssh-host-keys and <name>-initial-root-password together",
			strings.Join(missing, ", "))
	}
	slices.Sort(left)
	return keys, left, nil
}

// KeysFromOmnibusSecrets adopts the keys an earlier version's gitlab-secrets.json holds (previousKeys) into
// keys a stack was already given, if any: the result is what GitLabArgs.Keys must hold from then on. It is
// idempotent: adopting the same file again gives the same keys. A key the stack holds with another value is
// refused, as is an Active Record key list of more than one key (a rotation in progress), which a saved key
// cannot carry.
func KeysFromOmnibusSecrets(gitlabSecrets []byte, given map[string]string) (map[string]string, error) {
	var file struct {
		GitLabRails map[string]any `json:"gitlab_rails"`
	}
	if err := json.Unmarshal(gitlabSecrets, &file); err != nil {
		return nil, fmt.Errorf("not a gitlab-secrets.json: %w", err)
	}
	keys := maps.Clone(given)
	if keys == nil {
		keys = map[string]string{}
	}
	adopted := 0
	for _, setting := range previousKeys {
		raw, ok := file.GitLabRails[setting]
		if !ok || raw == nil {
			continue
		}
		value, ok := raw.(string)
		if list, isList := raw.([]any); isList {
			if len(list) != 1 {
				return nil, fmt.Errorf("gitlab_rails.%s holds %d keys; a saved key carries exactly one", setting, len(list))
			}
			value, ok = list[0].(string)
		}
		if !ok || value == "" {
			return nil, fmt.Errorf("gitlab_rails.%s is not a string or a list of one string", setting)
		}
		name := adoptedKeyNames[setting]
		if held, exists := keys[name]; exists && held != value {
			return nil, fmt.Errorf("%s is already given with another value than gitlab_rails.%s in the file", name, setting)
		}
		keys[name] = value
		adopted++
	}
	if adopted == 0 {
		return nil, fmt.Errorf("gitlab_rails holds none of %s: nothing to adopt", strings.Join(previousKeys, ", "))
	}
	return keys, nil
}
