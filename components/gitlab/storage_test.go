package gitlab_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

func TestNFSVolumesMountWithTheOptionsGitLabDocuments(t *testing.T) {
	result, _ := deploy(t, threeZones())
	for _, volume := range result.OfType(pvType) {
		options := volume.MustInput(t, "spec.mountOptions")
		for _, option := range []string{"nfsvers=4.1", "hard", "rsize=1048576", "wsize=1048576", "noatime", "lookupcache=positive"} {
			assert.Contains(t, options, option, volume.Name)
		}
		for _, option := range []string{"soft", "nocto", "nofail"} {
			assert.NotContains(t, options, option, "%s: %s risks Git's data or hides a failed mount", volume.Name, option)
		}
	}
}

func TestAReplicaOnNFSRefusesToStartWhenTheServerSquashesRoot(t *testing.T) {
	result, _ := deploy(t, threeZones())
	for i, zone := range zoneNames {
		deployment, _ := result.Find(deploymentType, "gitlab-"+zone)
		script := env(deployment, "GITLAB_PRE_RECONFIGURE_SCRIPT")
		assert.Contains(t, script, `chown git:git "$probe"`, "as reconfigure will: root gives a file on the volume to git")
		assert.Contains(t, script, "NFS server ${GITLAB_HA_NFS_SERVER} squashes root on ${GITLAB_HA_NFS_PATH}")
		assert.Contains(t, script, "no_root_squash", "the message says how to fix it")
		assert.Contains(t, script, "> /dev/termination-log", "and Kubernetes shows it as the container's last state")
		assert.Equal(t, []string{"10.0." + string(rune('0'+i)) + ".10", "/"},
			[]string{env(deployment, "GITLAB_HA_NFS_SERVER"), env(deployment, "GITLAB_HA_NFS_PATH")}, "the message names the zone's server")
	}
}

func TestAZoneWithItsOwnVolumeHasNoExportToCheck(t *testing.T) {
	args := threeZones()
	args.Zones = args.Zones[:1]
	args.Zones[0].Storage = gitlab.Storage{StorageClass: "linode-block-storage-retain"}
	result, _ := deploy(t, args)
	deployment, ok := result.Find(deploymentType, "gitlab-eu-west-1a")
	require.True(t, ok)
	assert.NotContains(t, env(deployment, "GITLAB_PRE_RECONFIGURE_SCRIPT"), "squashes root")
	assert.Empty(t, env(deployment, "GITLAB_HA_NFS_SERVER"))
}

// A zone whose NFS server changes (a replaced mount target, a migrated server) must move in one update:
// Kubernetes will not change a volume's source in place, so the volume and its claim get new names under the
// same Pulumi resources (a replacement, created before the old one is deleted), the zone's Deployment
// follows its new claim, and no other zone is touched.
func TestAZoneMovedToAnotherServerGetsANewVolumeAndClaimUnderTheSameResources(t *testing.T) {
	before, _ := deploy(t, threeZones())
	moved := threeZones()
	moved.Zones[1].Storage.NFS = &gitlab.NFS{Server: pulumi.String("10.0.1.99")}
	after, _ := deploy(t, moved)

	for _, zone := range zoneNames {
		for _, typ := range []string{pvType, pvcType} {
			old, now := objectName(t, before, typ, zone), objectName(t, after, typ, zone)
			if zone == zoneNames[1] {
				assert.NotEqual(t, old, now, "%s of the moved zone is a new object", typ)
			} else {
				assert.Equal(t, old, now, "%s of zone %s is untouched", typ, zone)
			}
		}
		deployment, _ := after.Find(deploymentType, "gitlab-"+zone)
		assert.Equal(t, objectName(t, after, pvcType, zone),
			deployment.InputString("spec.template.spec.volumes[0].persistentVolumeClaim.claimName"), "%s mounts its current claim", zone)
	}
	volume, _ := after.Find(pvType, "gitlab-"+zoneNames[1])
	assert.Equal(t, "10.0.1.99", volume.InputString("spec.nfs.server"))
	assert.Equal(t, "Retain", volume.InputString("spec.persistentVolumeReclaimPolicy"), "the old server's data outlives its volume")
	assert.Equal(t, objectName(t, after, pvcType, zoneNames[1]), volume.InputString("spec.claimRef.name"))
	assert.Len(t, after.OfType(pvType), len(zoneNames), "the same resources, not new ones beside them")
}

// What Kubernetes cannot change in place names a volume; what it can does not, so that, say, new mount
// options update the volume rather than replacing it.
func TestOnlyWhatIsImmutableRenamesAZonesVolume(t *testing.T) {
	before, _ := deploy(t, threeZones())
	for name, edit := range map[string]func(*gitlab.GitLabArgs){
		"path": func(a *gitlab.GitLabArgs) {
			for i := range a.Zones { // every zone mounts the same export
				a.Zones[i].Storage.NFS.Path = "/gitlab"
			}
		},
		"size":          func(a *gitlab.GitLabArgs) { a.Zones[0].Storage.Size = "200Gi" },
		"node selector": func(a *gitlab.GitLabArgs) { a.Zones[0].NodeSelector = map[string]string{"pool": "a"} },
	} {
		args := threeZones()
		edit(args)
		after, _ := deploy(t, args)
		assert.NotEqual(t, objectName(t, before, pvType, zoneNames[0]), objectName(t, after, pvType, zoneNames[0]), name)
	}
	more := threeZones()
	more.ReplicasPerZone = pulumi.IntRef(2)
	after, _ := deploy(t, more)
	assert.Equal(t, objectName(t, before, pvType, zoneNames[0]), objectName(t, after, pvType, zoneNames[0]), "replicas are no volume's business")
}
