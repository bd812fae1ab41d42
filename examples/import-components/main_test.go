package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/internal/stackconfig"
)

func TestEachZonesGitLabMountsThatZonesMountTarget(t *testing.T) {
	stack, err := stackconfig.Load(".", "example")
	require.NoError(t, err)
	stack.Config["import-components:kubeconfig"] = "apiVersion: v1\nkind: Config\n"
	stack.Config["import-components:databasePassword"] = "example-password"
	result := componenttest.Run(run, componenttest.WithStack("import-components", "example"),
		componenttest.WithConfig(stack.Config, "import-components:kubeconfig", "import-components:databasePassword"))
	require.NoError(t, result.Err)

	assert.Len(t, result.Components(), 2, "the file system and GitLab, nothing else")
	for zone, subnet := range map[string]string{"eu-west-1a": "subnet-0aaaaaaaaaaaaaaaa", "eu-west-1b": "subnet-0bbbbbbbbbbbbbbbb"} {
		target, ok := result.Find("aws:efs/mountTarget:MountTarget", "gitlab-data-"+zone)
		require.True(t, ok, zone)
		assert.Equal(t, subnet, target.InputString("subnetId"))
		volume, ok := result.Find("kubernetes:core/v1:PersistentVolume", "gitlab-"+zone)
		require.True(t, ok, zone)
		ip, _ := target.Output("ipAddress")
		assert.Equal(t, ip, volume.InputString("spec.nfs.server"), "%s: GitLab's volume is the zone's mount target", zone)
	}
	assert.Empty(t, result.PlaintextLeaks("example-password", "kind: Config"))
}
