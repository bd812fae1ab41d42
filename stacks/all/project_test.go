package all_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/stacks"
)

func TestPulumiYAMLDocumentsEveryKeyTheProgramReadsAndNoOther(t *testing.T) {
	project, err := workspace.LoadProject("../../Pulumi.yaml") // validates against Pulumi's own project schema
	require.NoError(t, err)
	assert.Equal(t, "gitlab-ha", project.Name.String())
	assert.Equal(t, "go", project.Runtime.Name())
	require.NotNil(t, project.Main)
	_, err = os.Stat("../../" + project.Main + "/main.go")
	assert.NoError(t, err, "main points at the program")

	var declared []string
	for key, decl := range project.Config {
		declared = append(declared, key)
		assert.NotEmpty(t, decl.Type, key)
		assert.NotEmpty(t, decl.Description, key)
		if !decl.Secret {
			assert.NotNil(t, decl.Default, "%s documents its default", key)
		}
	}
	read := append([]string(nil), stacks.ConfigKeys...)
	sort.Strings(declared)
	sort.Strings(read)
	assert.Equal(t, read, declared)
	assert.True(t, project.Config["kubeconfig"].Secret && project.Config["databasePassword"].Secret,
		"Pulumi itself refuses these in plain text")
}

func TestTheStackFilesHoldNoSecret(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		s := load(t, name)
		assert.Empty(t, s.secretKeys, name)
		for key, value := range s.config {
			for _, credential := range []string{"password", "token", "kubeconfig", "secretkey", "accesskey"} {
				assert.NotContains(t, strings.ToLower(key), credential, "%s sets %s", name, key)
				assert.NotContains(t, strings.ToLower(value), `"`+credential, "%s: %s holds a %s field", name, key, credential)
			}
		}
	}
}
