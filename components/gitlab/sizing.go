package gitlab

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
)

// Omnibus sizes Puma from the machine it runs on (gitlab/libraries/puma.rb, Puma.workers): as many workers
// as CPUs, at most one per GiB of memory left after 1.5 GiB for everything else, at least two. In a pod, Ohai
// reads the node's CPUs and memory, so a replica on a 16 GiB, 6-CPU node starts six workers whatever its
// memory limit, and the kernel kills it when they grow. This file is the one place that sizes a replica from
// its own resources instead; the figures are Omnibus's own.
const (
	// pumaWorkerMiB is what Omnibus budgets per Puma worker (puma.rb: "Puma workers can use 1GB per
	// process", per_worker_ram = 1048576 KiB): it decides how many workers fit.
	pumaWorkerMiB = 1024
	// gitlabWorkerMaxMiB is the resident size at which GitLab's memory watchdog restarts a Puma worker unless
	// puma['per_worker_max_memory_mb'] says otherwise (gitlabhq lib/gitlab/memory/watchdog/configurator.rb:
	// DEFAULT_PUMA_WORKER_RSS_LIMIT_MB = 1200; Omnibus leaves the setting nil). A worker may grow to it where
	// the pod holds every worker at that size; where it does not, the cap is the pod's share per worker, so
	// that the watchdog restarts a worker gracefully before the kernel's OOM killer stops the container.
	gitlabWorkerMaxMiB = 1200
	// otherProcessesMiB is what Omnibus reserves for every process but Puma's workers (puma.rb:
	// reserved_memory = 1572864 KiB): the Puma master, Workhorse, NGINX, Gitaly, sshd.
	otherProcessesMiB = 1536
	// sidekiqMiB is the resident size at which Sidekiq's memory killer restarts it, in Omnibus's environment
	// for Rails (gitlab/attributes/default.rb: SIDEKIQ_MEMORY_KILLER_MAX_RSS = 2000000 KiB). Sidekiq runs in
	// every replica here, so its budget comes off the pod's memory before Puma's.
	sidekiqMiB = 2000000 / 1024
	// minPumaWorkers is Omnibus's floor (puma.rb: "Two is the minimum or web editor will no longer work").
	minPumaWorkers = 2
	// sidekiqConcurrency is Omnibus's default (gitlab/attributes/default.rb: sidekiq['concurrency'] = 20);
	// constrainedSidekiqConcurrency what GitLab's guide to memory-constrained environments prefers, used
	// when the pod fits no more than the minimum of Puma workers.
	sidekiqConcurrency            = 20
	constrainedSidekiqConcurrency = 10
)

// minGitLabMemoryMiB is the smallest memory limit that holds Sidekiq, the other processes and two workers.
const minGitLabMemoryMiB = sidekiqMiB + otherProcessesMiB + minPumaWorkers*pumaWorkerMiB

// sizing is how many Puma workers and Sidekiq threads a replica runs.
type sizing struct {
	PumaWorkers        int
	PumaWorkerMaxMiB   int
	SidekiqConcurrency int
}

// sizeFor applies Omnibus's formula to the pod's limits: workers = max(2, min(CPUs, memory left for Puma / 1
// GiB)), where memory left for Puma is the limit less Sidekiq's and the other processes' budgets; each worker
// may then grow to GitLab's default cap, or to its share of the memory left for Puma where that is less.
func sizeFor(r Resources) (sizing, error) {
	cpus, err := parseQuantity(r.CPULimit)
	if err != nil {
		return sizing{}, err
	}
	memory, err := parseQuantity(r.MemoryLimit)
	if err != nil {
		return sizing{}, err
	}
	memoryMiB := int(memory / (1 << 20))
	byMemory := (memoryMiB - sidekiqMiB - otherProcessesMiB) / pumaWorkerMiB
	workers := max(minPumaWorkers, min(int(math.Floor(cpus)), byMemory))
	share := (memoryMiB - sidekiqMiB - otherProcessesMiB) / workers
	s := sizing{PumaWorkers: workers, PumaWorkerMaxMiB: min(gitlabWorkerMaxMiB, share), SidekiqConcurrency: sidekiqConcurrency}
	if byMemory <= minPumaWorkers {
		s.SidekiqConcurrency = constrainedSidekiqConcurrency
	}
	return s, nil
}

var quantityParts = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$`)

// parseQuantity reads the Kubernetes quantities validate.Quantity accepts, as a plain number (bytes, cores).
func parseQuantity(q string) (float64, error) {
	m := quantityParts.FindStringSubmatch(q)
	if m == nil {
		return 0, fmt.Errorf("%q is not a Kubernetes quantity", q)
	}
	value, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, err
	}
	scale := map[string]float64{"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}[m[2]]
	return value * scale, nil
}
