package objectstore_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/internal/objectstore"
)

func TestTheTypesAreOmnibus18_11sInItsSpellingAndOnlyTheCacheIsUnversioned(t *testing.T) {
	var names []string
	for _, typ := range objectstore.Types {
		names = append(names, typ.Name)
		assert.Equal(t, typ.Name != "dependency_proxy", typ.Versioned, typ.Name)
	}
	assert.Equal(t, []string{"artifacts", "external_diffs", "lfs", "uploads", "packages", "dependency_proxy",
		"terraform_state", "ci_secure_files", "pages"}, names)
	assert.Equal(t, "ci-secure-files", objectstore.Kind("ci_secure_files"))
}

func TestEveryBucketNameFitsWithTheLongestPrefix(t *testing.T) {
	assert.Equal(t, 37, objectstore.MaxPrefix)
	prefix := strings.Repeat("p", objectstore.MaxPrefix)
	require.NoError(t, objectstore.ValidatePrefix("namePrefix", prefix))
	for _, typ := range objectstore.Types {
		assert.LessOrEqual(t, len(objectstore.BucketName(prefix, objectstore.Kind(typ.Name), "0123abcd")), objectstore.MaxBucketName)
	}
	assert.Len(t, objectstore.BucketName(prefix, "dependency-proxy", "0123abcd"), objectstore.MaxBucketName, "the longest is exactly at the limit")
	assert.Error(t, objectstore.ValidatePrefix("namePrefix", prefix+"p"))
}

func TestTheDefaultPrefixIsAValidNameFromProjectAndStack(t *testing.T) {
	for project, want := range map[string]string{
		"gitlab-ha":                   "gitlab-ha-prod",
		"GitLab_HA":                   "gitlab-ha-prod",
		"--Team..Infra--":             "team-infra-prod",
		"xn--idn":                     "gitlab-xn-idn-prod",
		"sthree":                      "gitlab-sthree-prod",
		strings.Repeat("a", 40):       strings.Repeat("a", 32) + "-prod",
		strings.Repeat("a", 31) + "_": strings.Repeat("a", 31) + "-prod",
	} {
		got := objectstore.DefaultPrefix(project, "prod")
		assert.Equal(t, want, got, project)
		assert.NoError(t, objectstore.ValidatePrefix("namePrefix", got), project)
	}
	long := strings.Repeat("project", 10)
	assert.NotEqual(t, objectstore.DefaultPrefix(long, "dev"), objectstore.DefaultPrefix(long, "prod"), "the stack survives a cut")
	assert.Equal(t, strings.Repeat("s", 37), objectstore.DefaultPrefix("gitlab-ha", strings.Repeat("s", 50)))
	assert.Equal(t, "gitlab", objectstore.DefaultPrefix("", ""))
}

func TestReservedAndMalformedPrefixesAreRefused(t *testing.T) {
	for _, prefix := range []string{"", "-gitlab", "gitlab-", "GitLab", "git_lab", "git.lab", "xn--gitlab", "sthree-gitlab", "amzn-s3-demo-x"} {
		assert.Error(t, objectstore.ValidatePrefix("namePrefix", prefix), prefix)
	}
}
