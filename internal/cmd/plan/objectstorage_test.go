package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gitlab-ha/gitlab-ha/internal/plan"
	"github.com/gitlab-ha/gitlab-ha/stacks"
)

// The plans before object storage: what `go run ./internal/cmd/plan` wrote at e305844, the commit before any
// of it, for each stack this test plans. Each resource is a line, its URN and a digest of everything
// resources.json holds of it, so that a change to any input, dependency or option shows.
const beforeObjectStorage = "testdata/before-object-storage"

// planned are the stacks the comparison covers: the directory holding the stack file, and the stack.
var planned = []struct{ dir, stack, file string }{
	{"../../..", "dev", "dev"},
	{"../../..", "prod", "prod"},
	{"../../../examples/linode", "example", "linode"},
}

// addedSince are the resources the plans gained between e305844 and object storage that belong to no
// object storage: the EKS cluster's IAM OIDC provider (components/cluster, 8b5ab19), which every IAM role
// for a service account trusts, built whether or not a stack has one yet.
var addedSince = map[string][]string{
	"dev":  {"urn:pulumi:dev::gitlab-ha::gitlab-ha:cluster:EKS$aws:iam/openIdConnectProvider:OpenIdConnectProvider::gitlab"},
	"prod": {"urn:pulumi:prod::gitlab-ha::gitlab-ha:cluster:EKS$aws:iam/openIdConnectProvider:OpenIdConnectProvider::gitlab"},
}

// digest is a resource as resources.json records it, hashed.
func digest(r plan.Resource) string {
	body, err := json.Marshal(r) // maps marshal with sorted keys: the same resource, the same bytes
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:12])
}

func digests(p plan.Plan) map[string]string {
	out := map[string]string{}
	for _, r := range p.Resources {
		out[r.URN] = digest(r)
	}
	return out
}

func readDigests(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(beforeObjectStorage, file+".txt"))
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		urn, sum, ok := strings.Cut(line, " ")
		require.True(t, ok, line)
		out[urn] = sum
	}
	require.NoError(t, scanner.Err())
	return out
}

// TestWriteDigestsOfThePlansBeforeObjectStorage wrote testdata from plans of e305844; it runs only when asked:
//
//	git archive e305844 | tar -x -C /tmp/before
//	(cd /tmp/before && go run ./internal/cmd/plan -stack dev -out /tmp/plans/dev && …prod… &&
//	 go run ./internal/cmd/plan -dir examples/linode -stack example -out /tmp/plans/linode)
//	PLANS_BEFORE_OBJECT_STORAGE=/tmp/plans go test ./internal/cmd/plan -run TestWriteDigests
func TestWriteDigestsOfThePlansBeforeObjectStorage(t *testing.T) {
	from := os.Getenv("PLANS_BEFORE_OBJECT_STORAGE")
	if from == "" {
		t.Skip("PLANS_BEFORE_OBJECT_STORAGE names no plans to digest")
	}
	require.NoError(t, os.MkdirAll(beforeObjectStorage, 0o755))
	for _, s := range planned {
		p := readPlan(t, filepath.Join(from, s.file))
		sums := digests(p)
		urns := make([]string, 0, len(sums))
		for urn := range sums {
			urns = append(urns, urn)
		}
		sort.Strings(urns)
		var b strings.Builder
		fmt.Fprintf(&b, "# Plan of stack %s at e305844, before object storage: a resource a line, its URN and a digest of its\n"+
			"# resources.json entry. Written by TestWriteDigestsOfThePlansBeforeObjectStorage; never edit by hand.\n", s.stack)
		for _, urn := range urns {
			fmt.Fprintf(&b, "%s %s\n", urn, sums[urn])
		}
		require.NoError(t, os.WriteFile(filepath.Join(beforeObjectStorage, s.file+".txt"), []byte(b.String()), 0o644))
	}
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

// Object storage off plans what each stack planned before object storage existed, resource for resource and
// input for input, and the summary says where GitLab's objects stay.
func TestObjectStorageOffPlansWhatTheStacksPlannedBeforeIt(t *testing.T) {
	for _, s := range planned {
		t.Run(s.file, func(t *testing.T) {
			out := t.TempDir()
			require.NoError(t, run(withObjectStorageOff(t, s.dir, s.stack), s.stack, out))
			before, after := readDigests(t, s.file), digests(readPlan(t, out))
			for _, urn := range addedSince[s.stack] {
				_, ok := after[urn]
				assert.True(t, ok, "%s is in the plan", urn)
				delete(after, urn)
			}
			for urn, sum := range before {
				now, ok := after[urn]
				if assert.True(t, ok, "%s is gone", urn) {
					assert.Equal(t, sum, now, "%s changed", urn)
				}
			}
			for urn := range after {
				_, ok := before[urn]
				assert.True(t, ok, "%s is new", urn)
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
