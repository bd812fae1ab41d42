package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProdPlansOnGitalyClusterWithOneValueChanged plans prod as the README's command does, with -set, and
// checks what the plan writes for the judges: the instances' user data, and a critical path through the
// instances and Praefect's start.
func TestProdPlansOnGitalyClusterWithOneValueChanged(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, run("../../..", "prod", dir, `gitlab-ha:gitStorage={"kind":"gitaly-cluster"}`))
	files, err := filepath.Glob(filepath.Join(dir, "userdata", "*.yaml"))
	require.NoError(t, err)
	assert.Len(t, files, 6, "a Gitaly and a Praefect in each of prod's three zones")
	for _, file := range files {
		body, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(body), "#cloud-config\n"), file)
	}

	p := readPlan(t, dir)
	path := p.CriticalPath()
	var types []string
	for _, r := range path.Resources {
		types = append(types, r.Type)
	}
	assert.Contains(t, types, "aws:ec2/instance:Instance", "the instances are on the critical path")
	assert.Contains(t, types, "aws:lb/targetGroupAttachment:TargetGroupAttachment", "so is Praefect's start")
	assert.Contains(t, types, "kubernetes:batch/v1:Job", "which GitLab's migrations wait for")

	nfs := writePlan(t, "prod")
	assert.NoDirExists(t, filepath.Join(nfs, "userdata"), "prod on NFS renders no user data")
}
