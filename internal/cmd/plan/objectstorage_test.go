package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gitlab-ha/gitlab-ha/stacks"
)

// planned are the stacks the tests plan with object storage off: the directory holding the stack file, and
// the stack.
var planned = []struct{ dir, stack, file string }{
	{"../../..", "dev", "dev"},
	{"../../..", "prod", "prod"},
	{"../../../examples/linode", "example", "linode"},
}

// withObjectStorageOff writes a copy of the stack's project and stack file into a folder of its own, with
// object storage off (and with it the backup and its settings).
func withObjectStorageOff(t *testing.T, dir, stack string) string {
	t.Helper()
	out := t.TempDir()
	project, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "Pulumi.yaml"), project, 0o644))
	body, err := os.ReadFile(filepath.Join(dir, "Pulumi."+stack+".yaml"))
	require.NoError(t, err)
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(body, &file))
	delete(file.Config, stacks.Namespace+":backup")
	file.Config[stacks.Namespace+":objectStorage"] = map[string]any{"enabled": false}
	body, err = yaml.Marshal(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "Pulumi."+stack+".yaml"), body, 0o644))
	return out
}

// Object storage off plans no bucket, key, backup or identity of GitLab's, and the summary says, in one line,
// where GitLab's objects stay. (That the rest is what the stacks planned before object storage existed was
// checked once, against the plans of e305844, resource for resource; a golden copy of those plans would break
// at every later change to a stack file, so the lasting test is stacks/all's TestObjectStorageOffBuildsNoneOfIt,
// which compares on with off.)
func TestWithObjectStorageOffThePlanSaysGitLabsObjectsStayOnTheSharedVolume(t *testing.T) {
	for _, s := range planned {
		t.Run(s.file, func(t *testing.T) {
			out := t.TempDir()
			require.NoError(t, run(withObjectStorageOff(t, s.dir, s.stack), s.stack, out))
			for _, r := range readPlan(t, out).Resources {
				for _, absent := range []string{"objectstorage", "aws:s3/", "linode:index/objectStorage", "CronJob"} {
					assert.NotContains(t, r.URN, absent, "object storage off")
				}
				for _, account := range []string{"ServiceAccount::gitlab", "ServiceAccount::gitlab-backup"} {
					assert.False(t, strings.HasSuffix(r.URN, account), "%s: object storage off", r.URN)
				}
			}
			summary, err := os.ReadFile(filepath.Join(out, "summary.md"))
			require.NoError(t, err)
			assert.Contains(t, string(summary), "\n\n"+stacks.ObjectStorageOff+".\n\n## Per type\n", "the one line, after the count")
			assert.Equal(t, 1, strings.Count(string(summary), "Object storage"), "and no other")
			assert.NotContains(t, string(summary), "Backup:", "nor a backup line")
		})
	}
}

// With object storage on, as the stack files have it, the summary says what holds GitLab's objects and its
// backups.
func TestThePlanSummarySaysWhatHoldsGitLabsObjects(t *testing.T) {
	for stack, holder := range map[string]string{"dev": "Object storage: S3, a bucket per object type", "prod": "Object storage: S3"} {
		summary, err := os.ReadFile(filepath.Join(writePlan(t, stack), "summary.md"))
		require.NoError(t, err)
		assert.Contains(t, string(summary), holder, stack)
		assert.Contains(t, string(summary), "Backup: gitlab-backup of the database and repositories", stack)
	}
}
