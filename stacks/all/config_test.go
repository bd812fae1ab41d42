package all_test

import (
	"encoding/json"
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
		// from their addresses: a new address must roll the pods, so that dependency is data too; so do the
		// buckets, whose names the configuration holds, and the key, whose ARN gives their region. The pods
		// run as the service account the object role trusts. Every zone waits for the release's migration
		// Job, which runs in the first zone, and names its mount target in the root-squash check's message.
		want := []string{
			"kubernetes:core/v1:Namespace gitlab", "kubernetes:core/v1:PersistentVolumeClaim gitlab-" + zone,
			"aws:efs/mountTarget:MountTarget gitlab-data-" + zone,
			"kubernetes:core/v1:ConfigMap gitlab-config", "kubernetes:core/v1:Secret gitlab-secrets",
			"kubernetes:core/v1:Secret gitlab-ssh-host-keys", "kubernetes:batch/v1:Job gitlab-migrations",
			"aws:rds/instance:Instance gitlab-db", "aws:elasticache/replicationGroup:ReplicationGroup gitlab-redis",
			"kubernetes:core/v1:ServiceAccount gitlab", "aws:kms/key:Key gitlab-objects",
		}
		for _, bucket := range result.OfType("aws:s3/bucketV2:BucketV2") {
			want = append(want, bucket.Type+" "+bucket.Name)
		}
		assert.ElementsMatch(t, want, direct, zone)
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
	for _, key := range []string{"network", "cluster", "database", "fileStorage", "tags", "redis", "objectStorage", "backup"} {
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
	assert.Equal(t, "http://gitlab.internal", componenttest.MustAwait(t, out.URL).Value)
	assert.Equal(t, "postgres.internal:5432", componenttest.MustAwait(t, out.DatabaseEndpoint).Value)
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
		{"no way to reach the API", func(s *stack) *stack {
			return s.set("cluster", map[string]any{"instanceTypes": []string{"t3.xlarge"}})
		}, `gitlab-ha:cluster.apiAccess: is not set: Pulumi creates GitLab through the Kubernetes API and must reach it; ` +
			`choose "public" with cluster.publicAccessCidrs naming the networks it runs from, or "private" from inside an existing VPC`},
		{"an unknown way to the API", func(s *stack) *stack { return s.patch("cluster", map[string]any{"apiAccess": "vpn"}) },
			`gitlab-ha:cluster.apiAccess: "vpn" is not public or private`},
		{"a public API open to nobody", func(s *stack) *stack { return s.patch("cluster", map[string]any{"publicAccessCidrs": []string{}}) },
			"gitlab-ha:cluster.publicAccessCidrs: is empty, but cluster.apiAccess is public: name the networks Pulumi runs from"},
		{"a private API in the VPC this run creates", func(s *stack) *stack {
			return s.patch("cluster", map[string]any{"apiAccess": "private", "publicAccessCidrs": nil, "privateAccessCidrs": []string{"10.0.0.0/24"}})
		}, `gitlab-ha:cluster.apiAccess: "private" needs network.existingVpcId: a VPC this run creates cannot hold the machine that runs it`},
		{"a private API reachable from nowhere", func(s *stack) *stack {
			return withExistingVPC(s).patch("cluster", map[string]any{"apiAccess": "private", "publicAccessCidrs": nil})
		}, "gitlab-ha:cluster.privateAccessCidrs: is empty, but cluster.apiAccess is private: name the networks inside the VPC that Pulumi runs from"},
		{"pulumi up with the stack file's placeholder network", func(s *stack) *stack { return s.update() },
			`gitlab-ha:cluster.publicAccessCidrs[0]: "203.0.113.0/24" is a documentation range, the stack file's placeholder: ` +
				`pulumi up would build a cluster it cannot reach`},
		{"a Kubernetes version without pinned add-ons", func(s *stack) *stack { return s.patch("cluster", map[string]any{"version": "1.32"}) },
			"gitlab-ha:cluster.addons: are needed for Kubernetes 1.32: pinned versions are known for [1.33 1.34 1.35 1.36] only"},
		{"a kube-proxy for another Kubernetes", func(s *stack) *stack {
			return s.patch("cluster", map[string]any{"version": "1.32", "addons": map[string]string{
				"vpcCni": "v1.20.0-eksbuild.1", "kubeProxy": "v1.33.0-eksbuild.2", "coreDns": "v1.12.2-eksbuild.4"}})
		}, `gitlab-ha:cluster.addons.kubeProxy: "v1.33.0-eksbuild.2" is not for Kubernetes 1.32`},
		{"an upgrade policy EKS does not know", func(s *stack) *stack { return s.patch("cluster", map[string]any{"upgradePolicy": "auto"}) },
			`gitlab-ha:cluster.upgradePolicy: "auto" is not STANDARD or EXTENDED`},
		{"an admin named by a role's session", func(s *stack) *stack {
			return s.patch("cluster", map[string]any{"adminPrincipalArns": []string{"arn:aws:iam::123456789012:role/ci", "arn:aws:sts::123456789012:assumed-role/ci/x"}})
		}, `gitlab-ha:cluster.adminPrincipalArns[1]: "arn:aws:sts::123456789012:assumed-role/ci/x" is a session of a role`},
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
		}, `gitlab-ha:linode.clientCidrs[0]: "0.0.0.0/0" opens the service to the whole internet`},
		{"Linode with a subnet for the retired VPC", func(s *stack) *stack {
			return linodeStack(t).patch("linode", map[string]any{"subnetCidr": "10.0.0.0/24"})
		}, `gitlab-ha:linode.subnetCidr: "10.0.0.0/24" is no longer used: the stack builds no VPC`},
		{"Linode with a size for the retired NFS instance", func(s *stack) *stack {
			return linodeStack(t).patch("linode", map[string]any{"nfsInstanceType": "g6-standard-2"})
		}, `gitlab-ha:linode.nfsInstanceType: "g6-standard-2" is no longer used`},
		{"Linode pools asked for a count the autoscaler would not keep", func(s *stack) *stack {
			return linodeStack(t).patch("linode", map[string]any{"nodesPerPool": map[string]int{"min": 1, "desired": 2, "max": 3}})
		}, `gitlab-ha:linode.nodesPerPool: "1/2/3" asks for 2 nodes, but LKE starts an autoscaled pool at min`},
		{"Linode with eleven pools", func(s *stack) *stack {
			var pools []string
			for i := 0; i < 11; i++ {
				pools = append(pools, fmt.Sprintf("pool-%d", i))
			}
			return linodeStack(t).set("zones", pools)
		}, "gitlab-ha:zones: 11 pools asked for; at most 10"},
		{"Linode with no way to reach the API", func(s *stack) *stack {
			return linodeStack(t).set("linode", map[string]any{"databaseClusterSize": 3})
		}, `gitlab-ha:linode.apiAccess: is not set: Pulumi creates GitLab through the cluster's Kubernetes API; choose "public" ` +
			`with linode.apiAllowedCidrs naming the networks it runs from, or "open" for LKE's default`},
		{"Linode with a public API open to nobody", func(s *stack) *stack {
			return linodeStack(t).patch("linode", map[string]any{"apiAllowedCidrs": nil})
		}, "gitlab-ha:linode.apiAllowedCidrs: is empty, but linode.apiAccess is public: name the networks Pulumi runs from"},
		{"Linode open API with an ACL all the same", func(s *stack) *stack {
			return linodeStack(t).patch("linode", map[string]any{"apiAccess": "open"})
		}, "gitlab-ha:linode.apiAllowedCidrs: is set, but linode.apiAccess is open"},
		{"pulumi up of Linode with a placeholder network", func(s *stack) *stack {
			return linodeStack(t).patch("linode", map[string]any{"apiAllowedCidrs": []string{"198.51.100.0/24"}}).update()
		}, `gitlab-ha:linode.apiAllowedCidrs[0]: "198.51.100.0/24" is a documentation range, the stack file's placeholder`},
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
		{"a backup without the object storage that builds its bucket", func(s *stack) *stack {
			return s.objectStorageOff().set("backup", map[string]any{"enabled": true})
		}, "gitlab-ha:backup.enabled: true needs object storage: the backup bucket is built with it"},
		{"a backup retention left behind when object storage goes", func(s *stack) *stack {
			return s.set("objectStorage", map[string]any{"enabled": false})
		}, "gitlab-ha:backup.retentionDays: is set, but backup is off with objectStorage.enabled false, which builds its bucket"},
		{"a bucket setting left behind when object storage goes", func(s *stack) *stack {
			return s.objectStorageOff().set("objectStorage", map[string]any{"enabled": false, "forceDestroy": true})
		}, "gitlab-ha:objectStorage.forceDestroy: is set, but objectStorage.enabled is false"},
		{"a schedule for a backup that is off", func(s *stack) *stack {
			return s.set("backup", map[string]any{"enabled": false, "schedule": "0 3 * * *"})
		}, "gitlab-ha:backup.schedule: is set, but backup.enabled is false"},
		{"a team's buckets on aws", func(s *stack) *stack {
			return s.patch("objectStorage", map[string]any{"buckets": map[string]string{"artifacts": "mine"}})
		}, "gitlab-ha:objectStorage.buckets: is set, but platform aws builds its own buckets; it applies to platform existing only"},
		{"a static key on aws", func(s *stack) *stack { return s.secret("objectStorageSecretAccessKey", "x") },
			"gitlab-ha:objectStorageSecretAccessKey: is set, but platform is aws; it applies to platform existing only"},
		{"buckets destroyed with their objects, yet protected", func(s *stack) *stack { return s.set("protect", true) },
			"gitlab-ha:objectStorage.forceDestroy: true contradicts protect"},
		{"backups kept no day", func(s *stack) *stack { return s.set("backup", map[string]any{"retentionDays": 0}) },
			"gitlab-ha:backup.retentionDays: 0 must be at least 1"},
		{"backups kept beyond a century", func(s *stack) *stack { return s.set("backup", map[string]any{"retentionDays": 40000}) },
			"gitlab-ha:backup.retentionDays: 40000 is outside 1-36500"},
		{"object versions kept no day", func(s *stack) *stack { return s.patch("objectStorage", map[string]any{"noncurrentVersionDays": -1}) },
			"gitlab-ha:objectStorage.noncurrentVersionDays: -1 is outside 1-36500"},
		{"Linode with S3's versions", func(s *stack) *stack {
			return linodeStack(t).set("objectStorage", map[string]any{"noncurrentVersionDays": 10})
		}, "gitlab-ha:objectStorage.noncurrentVersionDays: 10 applies to platform aws only"},
		{"existing buckets without a key", func(s *stack) *stack {
			e := existingObjectStorage(t)
			for _, k := range []string{"objectStorageAccessKeyId", "objectStorageSecretAccessKey"} {
				delete(e.config, "gitlab-ha:"+k)
			}
			return e
		}, "gitlab-ha:objectStorageAccessKeyId: is required with objectStorage.buckets or backup.bucket on platform existing"},
		{"existing key in plain text", func(s *stack) *stack {
			e := existingObjectStorage(t)
			e.secretKeys = []string{"gitlab-ha:kubeconfig", "gitlab-ha:databasePassword", "gitlab-ha:objectStorageAccessKeyId"}
			return e
		}, "gitlab-ha:objectStorageSecretAccessKey: is in plain text"},
		{"existing buckets without a region to sign with", func(s *stack) *stack {
			return existingObjectStorage(t).patch("objectStorage", map[string]any{"region": ""})
		}, "gitlab-ha:objectStorage.region: is required with object storage or backups on platform existing"},
		{"existing backup key without its secret", func(s *stack) *stack {
			e := existingObjectStorage(t)
			delete(e.config, "gitlab-ha:backupSecretAccessKey")
			return e
		}, "gitlab-ha:backupSecretAccessKey: is required with backupAccessKeyId"},
		{"existing backup schedule without a bucket", func(s *stack) *stack {
			return existingStack(t).set("backup", map[string]any{"schedule": "0 3 * * *"})
		}, "gitlab-ha:backup.schedule: is set, but no backup.bucket is"},
		{"a backup schedule that is not cron", func(s *stack) *stack { return s.patch("backup", map[string]any{"schedule": "nightly"}) },
			`gitlab-ha:backup.schedule: "nightly" is not a cron schedule of five fields`},
		{"a backup scratch size in the wrong unit", func(s *stack) *stack { return s.patch("backup", map[string]any{"scratchSize": "20GB"}) },
			`gitlab-ha:backup.scratchSize: "20GB" is not a Kubernetes quantity`},
		{"Linode backups kept beyond a century", func(s *stack) *stack {
			return linodeStack(t).set("backup", map[string]any{"retentionDays": 40000})
		}, "gitlab-ha:backup.retentionDays: 40000 is not between 0"},
		{"existing bucket for an object type GitLab lacks", func(s *stack) *stack {
			e := existingObjectStorage(t)
			var o map[string]any
			_ = json.Unmarshal([]byte(e.config["gitlab-ha:objectStorage"]), &o)
			o["buckets"].(map[string]any)["wiki"] = "team-wiki"
			return e.set("objectStorage", o)
		}, `gitlab-ha:objectStorage.buckets["wiki"]: is not one of GitLab's object types`},
		{"existing service over plain HTTP", func(s *stack) *stack {
			return existingObjectStorage(t).patch("objectStorage", map[string]any{"endpoint": "http://minio.internal:9000"})
		}, `gitlab-ha:objectStorage.endpoint: "http://minio.internal:9000" is not an https:// URL`},
		{"existing backups in an object bucket", func(s *stack) *stack {
			return existingObjectStorage(t).patch("backup", map[string]any{"bucket": "team-lfs"})
		}, `gitlab-ha:backup.bucket: "team-lfs" is also the lfs bucket`},
		{"saved GitLab keys in plain text", func(s *stack) *stack { return s.set("gitlabKeys", `{"GITLAB_DB_KEY_BASE":"k"}`) },
			"gitlab-ha:gitlabKeys: is in plain text; set it with `pulumi config set --secret gitlabKeys < gitlab-keys.json`"},
		{"saved GitLab keys that are not JSON", func(s *stack) *stack { return s.secret("gitlabKeys", "GITLAB_DB_KEY_BASE=k") },
			"gitlab-ha:gitlabKeys: is not a JSON object of key names and values"},
		{"a saved database password among the GitLab keys", func(s *stack) *stack {
			return s.secret("gitlabKeys", `{"GITLAB_DB_PASSWORD":"the old stack's"}`)
		}, `gitlab-ha:gitlabKeys["GITLAB_DB_PASSWORD"]: is not a key the component generates`},
		{"existing object storage asked for without buckets", func(s *stack) *stack {
			return existingStack(t).set("objectStorage", map[string]any{"enabled": true, "region": "us-east-1"})
		}, "gitlab-ha:objectStorage.buckets: is required with objectStorage.enabled on platform existing"},
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

// withExistingVPC adopts a VPC instead of creating one: the only network a private API can be reached in.
func withExistingVPC(s *stack) *stack {
	return s.set("network", map[string]any{
		"existingVpcId": "vpc-0123", "existingVpcCidr": "10.20.0.0/16",
		"existingPublicSubnetIds":  map[string]string{"eu-west-1a": "subnet-pa", "eu-west-1b": "subnet-pb"},
		"existingPrivateSubnetIds": map[string]string{"eu-west-1a": "subnet-a", "eu-west-1b": "subnet-b"},
	})
}

func TestPulumiUpReachesTheAPIFromTheNetworksTheStackNames(t *testing.T) {
	t.Run("public: the endpoint open to the named networks alone", func(t *testing.T) {
		result, _ := load(t, "dev").patch("cluster", map[string]any{"publicAccessCidrs": []string{"198.18.7.0/28"}}).update().run(t)
		require.NoError(t, result.Err)
		eks := result.OfType("aws:eks/cluster:Cluster")[0]
		assert.Equal(t, true, eks.MustInput(t, "vpcConfig.endpointPublicAccess"))
		assert.Equal(t, []any{"198.18.7.0/28"}, eks.MustInput(t, "vpcConfig.publicAccessCidrs"))
		assert.Empty(t, apiRules(result), "the private endpoint admits only the nodes")
	})
	t.Run("private: from the named networks inside an existing VPC", func(t *testing.T) {
		result, _ := withExistingVPC(load(t, "dev")).patch("cluster", map[string]any{
			"apiAccess": "private", "publicAccessCidrs": nil, "privateAccessCidrs": []string{"10.20.9.0/24"},
		}).update().run(t)
		require.NoError(t, result.Err)
		eks := result.OfType("aws:eks/cluster:Cluster")[0]
		assert.Equal(t, false, eks.MustInput(t, "vpcConfig.endpointPublicAccess"))
		assert.Equal(t, true, eks.MustInput(t, "vpcConfig.endpointPrivateAccess"))
		rules := apiRules(result)
		require.Len(t, rules, 1)
		assert.Equal(t, "10.20.9.0/24", rules[0].InputString("cidrIpv4"))
		assert.Equal(t, float64(443), rules[0].MustInput(t, "fromPort"))
	})
}

// apiRules are the ingress rules that admit networks to the cluster's API.
func apiRules(result *componenttest.Result) []componenttest.Resource {
	var rules []componenttest.Resource
	for _, rule := range result.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if strings.Contains(rule.Name, "-api-from-") {
			rules = append(rules, rule)
		}
	}
	return rules
}

func TestTheLKEControlPlaneAdmitsTheNamedNetworksOrIsOpenByName(t *testing.T) {
	result, _ := linodeStack(t).update().run(t)
	require.NoError(t, result.Err)
	acl := result.OfType("linode:index/lkeCluster:LkeCluster")[0]
	assert.Equal(t, true, acl.MustInput(t, "controlPlane.acl.enabled"))
	assert.Equal(t, []any{"198.18.0.0/24"}, acl.MustInput(t, "controlPlane.acl.addresses[0].ipv4s"))

	result, _ = linodeStack(t).set("linode", map[string]any{"databaseClusterSize": 3, "apiAccess": "open"}).update().run(t)
	require.NoError(t, result.Err)
	_, restricted := result.OfType("linode:index/lkeCluster:LkeCluster")[0].Input("controlPlane.acl")
	assert.False(t, restricted, "open is LKE's default: no ACL")
}

// The pre-flight asks EKS, through the stack's provider, what it offers today (the mocks answer as EKS's
// calendar stood on 2026-12-02), and refuses what it does not, naming the key, with nothing but the provider
// registered.
func TestEKSRefusesWhatItDoesNotOfferNamingTheKey(t *testing.T) {
	for want, edit := range map[string]func(*stack) *stack{
		`gitlab-ha:cluster.version: "1.33" is in EKS extended support, billed at the extended rate; choose one in standard support (1.34, 1.35, 1.36)`: func(s *stack) *stack {
			return s.patch("cluster", map[string]any{"version": "1.33"})
		},
		`gitlab-ha:cluster.version: "1.29" is not a Kubernetes version EKS offers today`: func(s *stack) *stack {
			return s.patch("cluster", map[string]any{"version": "1.29", "upgradePolicy": "EXTENDED", "addons": map[string]string{
				"vpcCni": "v1.22.3-eksbuild.1", "kubeProxy": "v1.29.15-eksbuild.1", "coreDns": "v1.11.4-eksbuild.1"}})
		},
		`gitlab-ha:cluster.addons.coreDns: "v1.15.0-eksbuild.1" is not an coredns build EKS offers for Kubernetes 1.36`: func(s *stack) *stack {
			return s.patch("cluster", map[string]any{"addons": map[string]string{
				"vpcCni": "v1.22.3-eksbuild.1", "kubeProxy": "v1.36.0-eksbuild.14", "coreDns": "v1.15.0-eksbuild.1"}})
		},
	} {
		result, _ := edit(load(t, "dev")).run(t)
		require.Error(t, result.Err, want)
		assert.Contains(t, result.Err.Error(), want)
		for _, r := range result.Resources {
			assert.True(t, strings.HasPrefix(r.Type, "pulumi:providers:"), "%s: registered %s %s", want, r.Type, r.Name)
		}
	}
	result, _ := load(t, "dev").patch("cluster", map[string]any{"version": "1.33", "upgradePolicy": "EXTENDED"}).run(t)
	require.NoError(t, result.Err, "a running 1.33 cluster may stay, by name, in extended support")
	assert.Equal(t, "EXTENDED", result.OfType("aws:eks/cluster:Cluster")[0].InputString("upgradePolicy.supportType"))
}

func TestAdminsNamedInTheStackReachTheCluster(t *testing.T) {
	result, _ := load(t, "prod").patch("cluster", map[string]any{"adminPrincipalArns": []string{"arn:aws:iam::123456789012:role/gitlab-ci"}}).run(t)
	require.NoError(t, result.Err)
	entries := result.OfType("aws:eks/accessEntry:AccessEntry")
	require.Len(t, entries, 1)
	assert.Equal(t, "arn:aws:iam::123456789012:role/gitlab-ci", entries[0].InputString("principalArn"))
	association := result.OfType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")[0]
	assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", association.InputString("policyArn"))
	assert.Equal(t, "STANDARD", result.OfType("aws:eks/cluster:Cluster")[0].InputString("upgradePolicy.supportType"), "the default, said")
}
