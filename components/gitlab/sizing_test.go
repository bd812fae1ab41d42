package gitlab_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/internal/stackconfig"
)

// stackResources reads the GitLab pod resources a stack file configures (gitlab-ha:gitlab.resources); what
// it leaves out, the component defaults.
func stackResources(t *testing.T, dir, stack string) gitlab.Resources {
	t.Helper()
	config, err := stackconfig.Load(filepath.Join("..", "..", dir), stack)
	require.NoError(t, err)
	var gitlabConfig struct {
		Resources struct {
			CPURequest, MemoryRequest, CPULimit, MemoryLimit string
		} `json:"resources"`
	}
	if raw, ok := config.Config["gitlab-ha:gitlab"]; ok {
		require.NoError(t, json.Unmarshal([]byte(raw), &gitlabConfig))
	}
	r := gitlabConfig.Resources
	return gitlab.Resources{CPURequest: r.CPURequest, MemoryRequest: r.MemoryRequest, CPULimit: r.CPULimit, MemoryLimit: r.MemoryLimit}
}

// omnibusOnTheNode is what Omnibus itself would start, from the node's CPUs and memory (puma.rb,
// Puma.workers): max(2, min(CPUs, (memory - 1.5 GiB) / 1 GiB)).
func omnibusOnTheNode(cpus int, memoryGiB float64) int {
	return max(2, min(cpus, int((memoryGiB*1048576-1572864)/1048576)))
}

func sizingOf(t *testing.T, resources gitlab.Resources) (workers, maxMiB, concurrency int) {
	t.Helper()
	args := threeZones()
	args.Resources = resources
	config := omnibusConfig(t, mustDeploy(t, args))
	number := func(setting string) int {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(setting) + ` = (\d+)$`).FindStringSubmatch(config)
		require.NotNil(t, m, setting)
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		return n
	}
	return number("puma['worker_processes']"), number("puma['per_worker_max_memory_mb']"), number("sidekiq['concurrency']")
}

func TestPumaAndSidekiqAreSizedFromThePodNotTheNode(t *testing.T) {
	cases := []struct {
		stack, dir, file string
		node             string
		nodeCPUs         int
		nodeGiB          float64
		workers, threads int
		workerMaxMiB     int
		limitMiB         int
	}{
		// dev: 1-2 CPUs and 6Gi on a t3.xlarge (4 vCPU, 16 GiB): 2655Mi for Puma, room for GitLab's 1200 each.
		{"dev", ".", "dev", "t3.xlarge", 4, 16, 2, 10, 1200, 6144},
		// prod: the component's 2-4 CPUs and 8Gi on an m6i.xlarge (4 vCPU, 16 GiB): 4703Mi for 4 workers.
		{"prod", ".", "prod", "m6i.xlarge", 4, 16, 4, 20, 1175, 8192},
		// Linode: the component's defaults on a g6-standard-6 (6 vCPU, 16 GB).
		{"linode", "examples/linode", "example", "g6-standard-6", 6, 16e9 / (1 << 30), 4, 20, 1175, 8192},
	}
	for _, tc := range cases {
		t.Run(tc.stack, func(t *testing.T) {
			workers, maxMiB, threads := sizingOf(t, stackResources(t, tc.dir, tc.file))
			assert.Equal(t, tc.workers, workers, "Puma workers")
			assert.Equal(t, tc.threads, threads, "Sidekiq threads")
			assert.Equal(t, tc.workerMaxMiB, maxMiB, "GitLab's 1200 MiB cap, or each worker's share of what the pod leaves Puma")
			assert.LessOrEqual(t, workers*maxMiB+1953+1536, tc.limitMiB, "every worker at its cap, Sidekiq and the rest fit the limit")
			t.Logf("%s: %d Puma workers and %d Sidekiq threads; Omnibus on a %s would start %d workers",
				tc.stack, workers, threads, tc.node, omnibusOnTheNode(tc.nodeCPUs, tc.nodeGiB))
		})
	}
	assert.Equal(t, 6, omnibusOnTheNode(6, 16e9/(1<<30)), "the figure the issue reports for g6-standard-6")
}

func TestTheWorkersFitTheMemoryLimit(t *testing.T) {
	for _, limit := range []struct {
		cpu, memory string
		workers     int
	}{{"8", "8Gi", 4}, {"8", "12Gi", 8}, {"16", "64Gi", 16}, {"1", "6Gi", 2}, {"3.5", "16Gi", 3}} {
		workers, _, _ := sizingOf(t, gitlab.Resources{CPULimit: limit.cpu, MemoryLimit: limit.memory, MemoryRequest: limit.memory})
		assert.Equal(t, limit.workers, workers, "%s CPUs, %s", limit.cpu, limit.memory)
	}
}

func TestAMemoryLimitThatCannotHoldTwoWorkersIsRefused(t *testing.T) {
	componenttest.Rejects(t, func(ctx *pulumi.Context) error {
		args := threeZones()
		args.Resources = gitlab.Resources{MemoryLimit: "5Gi", MemoryRequest: "5Gi"}
		_, err := gitlab.NewGitLab(ctx, "gitlab", args)
		return err
	}, `resources.memoryLimit: "5Gi" cannot hold Sidekiq (1953Mi), GitLab's other processes (1536Mi) and two Puma workers (1024Mi each): give at least 5537Mi`)
}

// mustDeploy deploys and returns what was registered.
func mustDeploy(t *testing.T, args *gitlab.GitLabArgs) *componenttest.Result {
	t.Helper()
	result, _ := deploy(t, args)
	return result
}
