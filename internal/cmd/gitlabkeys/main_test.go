package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

func gitlabkeys(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(args, strings.NewReader(stdin), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

const gitlabSecrets = `{"gitlab_rails": {"db_key_base": "x",
  "openid_connect_signing_key": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
  "active_record_encryption_primary_key": ["P0o9I8u7Y6t5R4e3W2q1A2s3D4f5G6h7"],
  "active_record_encryption_deterministic_key": ["Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6"],
  "active_record_encryption_key_derivation_salt": "Z9x8C7v6B5n4M3l2K1j0H9g8F7d6S5a4"}}`

func TestAdoptingTwicePrintsTheSameKeys(t *testing.T) {
	first, _, err := gitlabkeys(t, gitlabSecrets, "adopt")
	require.NoError(t, err)
	current := filepath.Join(t.TempDir(), "current.json")
	require.NoError(t, os.WriteFile(current, []byte(first), 0o600))
	second, _, err := gitlabkeys(t, gitlabSecrets, "adopt", "-with", current)
	require.NoError(t, err)
	assert.Equal(t, first, second, "the config value a second adoption sets is the same bytes: pulumi up changes nothing")
	var keys map[string]string
	require.NoError(t, json.Unmarshal([]byte(first), &keys))
	assert.Equal(t, "P0o9I8u7Y6t5R4e3W2q1A2s3D4f5G6h7", keys["GITLAB_ACTIVE_RECORD_PRIMARY_KEY"])
	assert.Len(t, keys, 4)
}

func TestSaveReadsKubectlsSecretsAndLeavesTheCredentialsOut(t *testing.T) {
	data := map[string]string{"GITLAB_DB_PASSWORD": base64.StdEncoding.EncodeToString([]byte("db"))}
	for _, name := range gitlab.KeyNames() {
		data[name] = base64.StdEncoding.EncodeToString([]byte("value of " + name))
	}
	list, err := json.Marshal(map[string]any{"kind": "List", "items": []any{map[string]any{"kind": "Secret", "data": data}}})
	require.NoError(t, err)
	out, stderr, err := gitlabkeys(t, string(list), "save")
	require.NoError(t, err)
	assert.Contains(t, stderr, "left out, the stack's own credentials: GITLAB_DB_PASSWORD")
	var keys map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &keys))
	assert.Equal(t, "value of GITLAB_DB_KEY_BASE", keys["GITLAB_DB_KEY_BASE"], "decoded: the value the stack is given is the Secret's")
	assert.NotContains(t, keys, "GITLAB_DB_PASSWORD")

	delete(data, "ssh_host_rsa_key")
	list, _ = json.Marshal(map[string]any{"kind": "Secret", "data": data})
	_, _, err = gitlabkeys(t, string(list), "save")
	assert.ErrorContains(t, err, "the saved Secrets lack ssh_host_rsa_key")
}
