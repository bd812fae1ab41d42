package stacks_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
)

// closure is every resource a resource depends on, directly or through others.
func closure(result *componenttest.Result, urn string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(u string) {
		r, ok := result.ByURN(u)
		if !ok {
			return
		}
		for _, dep := range r.Dependencies {
			if !seen[dep] {
				seen[dep] = true
				visit(dep)
			}
		}
	}
	visit(urn)
	return seen
}

func TestTheDatabaseFileSystemAndClusterBuildSideBySide(t *testing.T) {
	result, _ := deploy(t, "prod")
	one := func(typ string) componenttest.Resource {
		found := result.OfType(typ)
		require.Len(t, found, 1, typ)
		return found[0]
	}
	eks, db, fs := one("aws:eks/cluster:Cluster"), one("aws:rds/instance:Instance"), one("aws:efs/fileSystem:FileSystem")
	for _, pair := range [][2]componenttest.Resource{{db, eks}, {db, fs}, {fs, eks}, {fs, db}, {eks, db}, {eks, fs}} {
		assert.False(t, closure(result, pair[0].URN)[pair[1].URN], "%s waits for %s", pair[0].Type, pair[1].Type)
	}
}

func TestEachZonesDeploymentWaitsOnlyForWhatItConsumes(t *testing.T) {
	result, _ := deploy(t, "prod")
	for _, zone := range []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"} {
		deployment, _ := result.Find("kubernetes:apps/v1:Deployment", "gitlab-"+zone)
		var direct []string
		for _, dep := range deployment.Dependencies {
			r, _ := result.ByURN(dep)
			direct = append(direct, r.Type+" "+r.Name)
		}
		// The database and Redis come in through the configuration's checksum annotation, which is computed
		// from their addresses: a new address must roll the pods, so that dependency is data too. Every zone
		// waits for the release's migration Job, which runs in the first zone, and names its mount target in
		// the root-squash check's message.
		assert.ElementsMatch(t, []string{
			"kubernetes:core/v1:Namespace gitlab", "kubernetes:core/v1:PersistentVolumeClaim gitlab-" + zone,
			"aws:efs/mountTarget:MountTarget gitlab-data-" + zone,
			"kubernetes:core/v1:ConfigMap gitlab-config", "kubernetes:core/v1:Secret gitlab-secrets",
			"kubernetes:core/v1:Secret gitlab-ssh-host-keys", "kubernetes:batch/v1:Job gitlab-migrations",
			"aws:rds/instance:Instance gitlab-db", "aws:elasticache/replicationGroup:ReplicationGroup gitlab-redis",
		}, direct, zone)
		for dep := range closure(result, deployment.URN) {
			r, _ := result.ByURN(dep)
			if r.Type == "aws:efs/mountTarget:MountTarget" {
				assert.Contains(t, []string{"gitlab-data-" + zone, "gitlab-data-eu-west-1a"}, r.Name,
					"%s's pods wait for their own mount target, and the migrations' in the first zone", zone)
			}
		}
	}
}

// existingStack is a team's own cluster: two zones, their NFS servers and PostgreSQL.
func existingStack(t *testing.T) *stack {
	s := load(t, "dev")
	for _, key := range []string{"network", "cluster", "database", "fileStorage", "tags", "redis"} {
		delete(s.config, "gitlab-ha:"+key)
	}
	s.set("platform", "existing").set("zones", []string{"zone-a", "zone-b"}).set("gitlab", map[string]any{"host": "gitlab.internal"})
	s.set("existing", map[string]any{
		"zoneLabel":  "example.com/zone",
		"nfsServers": map[string]string{"zone-a": "10.1.0.10", "zone-b": "10.2.0.10"},
		"database":   map[string]any{"host": "postgres.internal", "user": "gitlab"},
	})
	return s.secret("kubeconfig", "apiVersion: v1\nkind: Config\n").secret("databasePassword", "team-db-password")
}

func TestAnExistingClusterGetsGitLabAloneOnItsZonesAndNFSServers(t *testing.T) {
	result, out := existingStack(t).run(t)
	require.NoError(t, result.Err)
	for _, r := range result.Resources {
		assert.False(t, strings.HasPrefix(r.Type, "aws:"), "%s %s", r.Type, r.Name)
	}
	assert.Len(t, result.Components(), 1)
	volume, _ := result.Find("kubernetes:core/v1:PersistentVolume", "gitlab-zone-b")
	assert.Equal(t, "10.2.0.10", volume.InputString("spec.nfs.server"))
	deployment, _ := result.Find("kubernetes:apps/v1:Deployment", "gitlab-zone-b")
	assert.Equal(t, map[string]string{"example.com/zone": "zone-b"}, deployment.InputMap("spec.template.spec.nodeSelector"))
	service, _ := result.Find("kubernetes:core/v1:Service", "gitlab")
	assert.Equal(t, "LoadBalancer", service.InputString("spec.type"))
	provider, _ := result.Find("pulumi:providers:kubernetes", "existing")
	assert.True(t, provider.InputIsSecret("kubeconfig"))
	assert.Empty(t, result.PlaintextLeaks("team-db-password", "kind: Config"))
	assert.Equal(t, "http://gitlab.internal", awaited(t, out.URL).Value)
	assert.Equal(t, "postgres.internal:5432", awaited(t, out.DatabaseEndpoint).Value)
}

func TestBadConfigurationsGiveOneErrorNamingTheKeyAndRegisterNothing(t *testing.T) {
	cases := []struct {
		name string
		edit func(*stack) *stack
		want string
	}{
		{"unknown platform", func(s *stack) *stack { return s.set("platform", "gcp") }, `gitlab-ha:platform: "gcp" is not aws, linode or existing`},
		{"no zones", func(s *stack) *stack { return s.set("zones", []string{}) }, "gitlab-ha:zones: is empty"},
		{"duplicated zone", func(s *stack) *stack { return s.set("zones", []string{"eu-west-1a", "eu-west-1a"}) },
			`gitlab-ha:zones[1]: "eu-west-1a" repeats zones[0]`},
		{"zone outside the region", func(s *stack) *stack { return s.set("zones", []string{"eu-west-1a", "eu-west-2b"}) },
			`gitlab-ha:zones[1]: "eu-west-2b" is not in region eu-west-1`},
		{"one zone is not highly available", func(s *stack) *stack { return s.set("zones", []string{"eu-west-1a"}) },
			"gitlab-ha:zones: 1 zones given; a highly available network spans 2 to 6"},
		{"seven zones", func(s *stack) *stack {
			return s.set("zones", []string{"eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d", "eu-west-1e", "eu-west-1f", "eu-west-1g"})
		}, "gitlab-ha:zones: 7 zones given"},
		{"CIDR too large", func(s *stack) *stack { return s.patch("network", map[string]any{"cidr": "10.0.0.0/8"}) },
			`gitlab-ha:network.cidr: "10.0.0.0/8" must be an IPv4 block from /16 to /22`},
		{"CIDR that is not one", func(s *stack) *stack { return s.patch("network", map[string]any{"cidr": "10.0.0.0"}) },
			`gitlab-ha:network.cidr: "10.0.0.0" is not a CIDR block`},
		{"unknown NAT strategy", func(s *stack) *stack { return s.patch("network", map[string]any{"natStrategy": "PerAZ"}) },
			`gitlab-ha:network.natStrategy: "PerAZ" is not OnePerZone, Single or None`},
		{"no replicas", func(s *stack) *stack { return s.patch("gitlab", map[string]any{"replicasPerZone": 0}) },
			"gitlab-ha:gitlab.replicasPerZone: 0 must be at least 1"},
		{"unknown Redis mode", func(s *stack) *stack { return s.set("redis", map[string]any{"mode": "clustered"}) },
			`gitlab-ha:redis.mode: "clustered" is not in-cluster or managed`},
		{"storage below the engine minimum", func(s *stack) *stack { return s.patch("database", map[string]any{"allocatedStorageGiB": 10}) },
			"gitlab-ha:database.allocatedStorageGiB: 10 is outside 20-65536 GiB"},
		{"engine too old for GitLab", func(s *stack) *stack { return s.patch("database", map[string]any{"engineVersion": "15"}) },
			`gitlab-ha:database.engineVersion: "15" is below 16`},
		{"retention beyond 35 days", func(s *stack) *stack { return s.patch("database", map[string]any{"backupRetentionDays": 40}) },
			"gitlab-ha:database.backupRetentionDays: 40 is outside 0-35"},
		{"misspelt database field", func(s *stack) *stack { return s.patch("database", map[string]any{"instanceClas": "db.t4g.small"}) },
			`gitlab-ha:database: "{`},
		{"API open to the internet", func(s *stack) *stack {
			return s.patch("cluster", map[string]any{"publicAccessCidrs": []string{"0.0.0.0/0"}})
		},
			`gitlab-ha:cluster.publicAccessCidrs[0]: "0.0.0.0/0" opens the API server to the whole internet`},
		{"node counts out of order", func(s *stack) *stack {
			return s.patch("cluster", map[string]any{"nodesPerZone": map[string]int{"min": 0, "desired": 1, "max": 2}})
		}, `gitlab-ha:cluster.nodesPerZone: "0/1/2" must satisfy`},
		{"service range inside the VPC", func(s *stack) *stack { return s.patch("cluster", map[string]any{"serviceCidr": "10.0.0.0/16"}) },
			`gitlab-ha:cluster.serviceCidr: "10.0.0.0/16" overlaps the VPC 10.0.0.0/16`},
		{"certificate without a host", func(s *stack) *stack { return s.patch("gitlab", map[string]any{"certificateArn": "arn:aws:acm:x"}) },
			`gitlab-ha:gitlab.certificateArn: "arn:aws:acm:x" needs gitlab.host`},
		{"host that is not a DNS name", func(s *stack) *stack { return s.patch("gitlab", map[string]any{"host": "gitlab_example"}) },
			`gitlab-ha:gitlab.host: "gitlab_example" is not a DNS name`},
		{"memory limit in the wrong unit", func(s *stack) *stack {
			return s.patch("gitlab", map[string]any{"resources": map[string]string{"memoryLimit": "6GB"}})
		}, `gitlab-ha:gitlab.resources.memoryLimit: "6GB" is not a Kubernetes quantity`},
		{"kubeconfig on aws", func(s *stack) *stack { return s.secret("kubeconfig", "x") }, "gitlab-ha:kubeconfig: is set, but platform is aws"},
		{"no region", func(s *stack) *stack { return s.set("region", "") }, "gitlab-ha:region: is required"},
		{"Linode in an AWS region", func(s *stack) *stack {
			return linodeStack(t).set("region", "eu-west-1")
		}, `gitlab-ha:region: "eu-west-1" is not a Linode region`},
		{"Linode with AWS settings", func(s *stack) *stack {
			return linodeStack(t).set("database", map[string]any{"multiAz": true})
		}, "gitlab-ha:database: is set, but platform linode takes its settings from the linode key"},
		{"Linode database of two nodes", func(s *stack) *stack {
			return linodeStack(t).patch("linode", map[string]any{"databaseClusterSize": 2})
		}, "gitlab-ha:linode.databaseClusterSize: 2 is not 1 or 3"},
		{"Linode database open to all", func(s *stack) *stack {
			return linodeStack(t).patch("linode", map[string]any{"clientCidrs": []string{"0.0.0.0/0"}})
		}, `gitlab-ha:linode.clientCidrs[1]: "0.0.0.0/0" opens the service to the whole internet`},
		{"Linode with eleven pools", func(s *stack) *stack {
			var pools []string
			for i := 0; i < 11; i++ {
				pools = append(pools, fmt.Sprintf("pool-%d", i))
			}
			return linodeStack(t).set("zones", pools)
		}, "gitlab-ha:zones: 11 pools asked for; at most 10"},
		{"Linode on Block Storage in several pools", func(s *stack) *stack {
			return linodeStack(t).patch("linode", map[string]any{"fileStorage": "block"})
		}, `gitlab-ha:linode.fileStorage: "linode-block-storage-retain" gives zone pool-a a volume of its own, but there are 3 zones`},
		{"Linode with an unknown storage", func(s *stack) *stack {
			return linodeStack(t).patch("linode", map[string]any{"fileStorage": "efs"})
		}, `gitlab-ha:linode.fileStorage: "efs" is not nfs or block`},
		{"existing without a kubeconfig", func(s *stack) *stack {
			e := existingStack(t)
			delete(e.config, "gitlab-ha:kubeconfig")
			return e
		}, "gitlab-ha:kubeconfig: is required with platform existing"},
		{"existing with a kubeconfig in plain text", func(s *stack) *stack {
			e := existingStack(t)
			e.secretKeys = []string{"gitlab-ha:databasePassword"}
			return e
		}, "gitlab-ha:kubeconfig: is in plain text"},
		{"existing without a zone's NFS server", func(s *stack) *stack {
			return existingStack(t).patch("existing", map[string]any{"nfsServers": map[string]string{"zone-a": "10.1.0.10"}})
		}, `gitlab-ha:existing.nfsServers["zone-b"]: is required`},
		{"existing without a database host", func(s *stack) *stack {
			return existingStack(t).patch("existing", map[string]any{"database": map[string]string{"user": "gitlab"}})
		}, "gitlab-ha:existing.database.host: is required"},
		{"existing with an AWS database", func(s *stack) *stack {
			return existingStack(t).set("database", map[string]any{"instanceClass": "db.t4g.small"})
		}, "gitlab-ha:database: is set, but platform existing builds no database"},
		{"managed Redis without AWS", func(s *stack) *stack { return existingStack(t).set("redis", map[string]any{"mode": "managed"}) },
			`gitlab-ha:redis.mode: "managed" is available on aws only`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			result, _ := tc.edit(load(t, "dev")).run(t)
			require.Error(t, result.Err)
			assert.Contains(t, result.Err.Error(), tc.want)
			assert.Equal(t, 1, strings.Count(result.Err.Error(), "gitlab-ha:"), "one error: %s", result.Err)
			assert.Empty(t, result.Resources, "a bad configuration registers nothing")
		})
	}
}
