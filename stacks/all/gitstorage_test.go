package all_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
)

const statefulSetType = "kubernetes:apps/v1:StatefulSet"

// withGit sets gitlab-ha:gitStorage.
func (s *stack) withGit(fields map[string]any) *stack { return s.set("gitStorage", fields) }

// linodeWithGitaly is the Linode stack with a Gitaly per pool: no NFS server, and no linode.fileStorage.
func linodeWithGitaly(t *testing.T) *stack {
	return linodeStack(t).withGit(map[string]any{"kind": "gitaly"})
}

func TestBadGitStorageIsRefusedNamingTheKey(t *testing.T) {
	cases := []struct {
		name string
		s    func() *stack
		want string
	}{
		{"an unknown kind", func() *stack { return load(t, "prod").withGit(map[string]any{"kind": "ceph"}) },
			`gitlab-ha:gitStorage.kind: "ceph" is not nfs, gitaly or gitaly-cluster`},
		{"Gitaly Cluster outside AWS", func() *stack { return linodeStack(t).withGit(map[string]any{"kind": "gitaly-cluster"}) },
			`gitlab-ha:gitStorage.kind: "gitaly-cluster" is available on platform aws only`},
		{"Gitaly Cluster on an existing cluster", func() *stack { return existingStack(t).withGit(map[string]any{"kind": "gitaly-cluster"}) },
			`gitlab-ha:gitStorage.kind: "gitaly-cluster" is available on platform aws only`},
		{"Gitaly Cluster on two zones", func() *stack { return load(t, "dev").withGit(map[string]any{"kind": "gitaly-cluster"}) },
			`gitlab-ha:gitStorage.kind: "gitaly-cluster" needs an odd number of zones, at least 3, one Gitaly and one Praefect in each (Praefect's transactions need a tie-breaker); the stack has 2`},
		{"Gitaly Cluster on four zones", func() *stack {
			return load(t, "prod").set("zones", []string{"eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"}).
				withGit(map[string]any{"kind": "gitaly-cluster"})
		}, "the stack has 4"},
		{"keeping NFS beside NFS", func() *stack { return load(t, "prod").withGit(map[string]any{"keepNfs": true}) },
			"gitlab-ha:gitStorage.keepNfs: true is set, but gitStorage.kind is nfs"},
		{"instance types for Gitaly on Kubernetes", func() *stack {
			return load(t, "prod").withGit(map[string]any{"kind": "gitaly", "gitalyInstanceType": "m6i.xlarge"})
		}, `gitlab-ha:gitStorage.gitalyInstanceType: "m6i.xlarge" is set, but gitStorage.kind is gitaly`},
		{"a weight for a zone the stack has not", func() *stack {
			return load(t, "prod").withGit(map[string]any{"kind": "gitaly", "weights": map[string]int{"eu-west-1d": 50}})
		}, `gitlab-ha:gitStorage.weights["eu-west-1d"]: "eu-west-1d" is not one of the stack's zones`},
		{"Gitaly on an existing cluster without a class", func() *stack {
			s := existingObjectStorage(t).withGit(map[string]any{"kind": "gitaly"})
			delete(s.config, "gitlab-ha:existing")
			return s.set("existing", map[string]any{"database": map[string]any{"host": "postgres.internal"}})
		}, "gitlab-ha:gitStorage.storageClass: is required with gitStorage.kind gitaly on platform existing"},
		{"stateless zones without object storage", func() *stack {
			return load(t, "prod").withGit(map[string]any{"kind": "gitaly"}).set("objectStorage", map[string]any{"enabled": false}).
				set("backup", map[string]any{"enabled": false})
		}, `gitlab-ha:gitStorage.kind: "gitaly" needs object storage`},
		{"a file system Gitaly does not use", func() *stack {
			return load(t, "prod").withGit(map[string]any{"kind": "gitaly"}).set("fileStorage", map[string]any{"throughputMode": "elastic"})
		}, "gitlab-ha:fileStorage: is set, but gitStorage.kind gitaly builds no shared file system"},
		{"a weight out of range", func() *stack {
			return load(t, "prod").withGit(map[string]any{"kind": "gitaly", "weights": map[string]int{"eu-west-1a": 120}})
		}, "gitlab-ha:gitStorage.repositories[0].weight: 120 is not a weight from 0 to 100"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			result, _ := c.s().run(t)
			require.Error(t, result.Err)
			assert.Contains(t, result.Err.Error(), c.want)
			assert.Equal(t, 1, strings.Count(result.Err.Error(), "gitlab-ha:"), "one error: %s", result.Err)
			assert.Empty(t, result.Resources, "a bad configuration registers nothing")
		})
	}
}

func TestOnLinodeGitalyRunsAStatefulSetPerPoolAndTheStackBuildsNoNFSServer(t *testing.T) {
	result, out := linodeWithGitaly(t).run(t)
	require.NoError(t, result.Err)
	assert.Empty(t, result.OfType("gitlab-ha:filesystem:LinodeNFS"), "nothing needs the NFS server")
	assert.Empty(t, result.OfType("linode:index/volume:Volume"))
	assert.Empty(t, result.OfType("kubernetes:core/v1:PersistentVolumeClaim"), "the zones' GitLab pods hold no volume")
	sets := result.OfType(statefulSetType)
	require.Len(t, sets, 3)
	for _, pool := range []string{"pool-a", "pool-b", "pool-c"} {
		set, ok := result.Find(statefulSetType, "gitaly-"+pool)
		require.True(t, ok)
		assert.Equal(t, map[string]string{"gitlab-ha.io/zone": pool}, set.InputMap("spec.template.spec.nodeSelector"), "on its pool's nodes")
		assert.Equal(t, "linode-block-storage-retain", set.InputString("spec.volumeClaimTemplates[0].spec.storageClassName"))
	}
	migrations, _ := result.Find("kubernetes:batch/v1:Job", "gitlab-migrations")
	for _, set := range sets {
		assert.Contains(t, migrations.Dependencies, set.URN, "Rails migrates after every zone's Gitaly runs the release")
	}
	assert.Equal(t, "", componenttest.MustAwait(t, out.FileSystemID).Value)
}

func TestOnAWSGitalyGetsTheEBSDriverWithARoleOfItsOwnAndNoFileSystem(t *testing.T) {
	result, _ := load(t, "prod").withGit(map[string]any{"kind": "gitaly"}).run(t)
	require.NoError(t, result.Err)
	assert.Empty(t, result.OfType("aws:efs/fileSystem:FileSystem"))
	addon, ok := result.Find("aws:eks/addon:Addon", "gitaly-volumes-driver")
	require.True(t, ok)
	assert.Equal(t, "aws-ebs-csi-driver", addon.InputString("addonName"))
	role, ok := result.Find("aws:iam/role:Role", "gitaly-volumes-driver")
	require.True(t, ok)
	arn, _ := role.Output("arn")
	assert.Equal(t, arn, addon.MustInput(t, "serviceAccountRoleArn"))
	var trust struct {
		Statement []struct {
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(role.InputString("assumeRolePolicy")), &trust))
	require.Len(t, trust.Statement, 1)
	for key, value := range trust.Statement[0].Condition["StringEquals"] {
		if strings.HasSuffix(key, ":sub") {
			assert.Equal(t, "system:serviceaccount:kube-system:ebs-csi-controller-sa", value, "the driver's controller alone")
		}
	}
	class, ok := result.Find("kubernetes:storage.k8s.io/v1:StorageClass", "gitaly-volumes")
	require.True(t, ok)
	assert.Equal(t, "WaitForFirstConsumer", class.InputString("volumeBindingMode"), "each volume in its pod's zone")
	assert.Equal(t, "Retain", class.InputString("reclaimPolicy"))
	assert.Equal(t, "true", class.InputString("parameters.encrypted"))
	assert.Equal(t, "gp3", class.InputString("parameters.type"))
	for _, zone := range []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"} {
		set, ok := result.Find(statefulSetType, "gitaly-"+zone)
		require.True(t, ok)
		assert.Equal(t, "gitaly-gp3", set.InputString("spec.volumeClaimTemplates[0].spec.storageClassName"))
		assert.Equal(t, map[string]string{"topology.kubernetes.io/zone": zone}, set.InputMap("spec.template.spec.nodeSelector"))
	}
}

func TestAnExistingClusterRunsGitalyOnItsOwnStorageClass(t *testing.T) {
	s := existingObjectStorage(t).withGit(map[string]any{"kind": "gitaly", "storageClass": "fast-ssd", "volumeSizeGiB": 50})
	delete(s.config, "gitlab-ha:existing")
	s.set("existing", map[string]any{"zoneLabel": "example.com/zone", "database": map[string]any{"host": "postgres.internal"}})
	result, _ := s.run(t)
	require.NoError(t, result.Err)
	set, ok := result.Find(statefulSetType, "gitaly-zone-b")
	require.True(t, ok)
	assert.Equal(t, "fast-ssd", set.InputString("spec.volumeClaimTemplates[0].spec.storageClassName"))
	assert.Equal(t, "50Gi", set.InputString("spec.volumeClaimTemplates[0].spec.resources.requests.storage"))
	assert.Equal(t, map[string]string{"example.com/zone": "zone-b"}, set.InputMap("spec.template.spec.nodeSelector"))
	assert.Empty(t, result.OfType("kubernetes:core/v1:PersistentVolume"))
}

func TestAVersionChangeRollsEachZonesGitalyOnItsOwnVolume(t *testing.T) {
	before, _ := linodeWithGitaly(t).run(t)
	require.NoError(t, before.Err)
	after, _ := linodeWithGitaly(t).patch("gitlab", map[string]any{"image": "gitlab/gitlab-ce:18.11.12-ce.0"}).run(t)
	require.NoError(t, after.Err)
	for _, pool := range []string{"pool-a", "pool-b", "pool-c"} {
		old, _ := before.Find(statefulSetType, "gitaly-"+pool)
		updated, _ := after.Find(statefulSetType, "gitaly-"+pool)
		assert.Equal(t, "gitlab/gitlab-ce:18.11.12-ce.0", updated.InputString("spec.template.spec.containers[0].image"))
		assert.Equal(t, old.InputString("metadata.name"), updated.InputString("metadata.name"), "the same StatefulSet, updated in place")
		assert.Equal(t, old.MustInput(t, "spec.volumeClaimTemplates"), updated.MustInput(t, "spec.volumeClaimTemplates"),
			"its claim template, which Kubernetes cannot change, is untouched: the zone keeps its volume")
		assert.Equal(t, "RollingUpdate", updated.InputString("spec.updateStrategy.type"))
	}
}
