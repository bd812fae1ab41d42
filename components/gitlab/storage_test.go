package gitlab_test

import (
	"testing"

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
