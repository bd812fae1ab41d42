package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/internal/stackconfig"
)

func TestTheExampleBuildsTheLinodeVariantProtected(t *testing.T) {
	stack, err := stackconfig.Load(".", "example")
	require.NoError(t, err)
	result := componenttest.Run(run, componenttest.WithPreview(), componenttest.WithStack("gitlab-ha-linode", "example"),
		componenttest.WithConfig(stack.Config))
	require.NoError(t, result.Err)

	counts := result.CountByType()
	assert.Equal(t, 1, counts["linode:index/lkeCluster:LkeCluster"])
	assert.Equal(t, 1, counts["linode:index/nodeBalancer:NodeBalancer"])
	assert.Equal(t, 1, counts["linode:index/databasePostgresqlV2:DatabasePostgresqlV2"])
	assert.Equal(t, 0, counts["linode:index/instance:Instance"], "no server outside the cluster")
	assert.Equal(t, 1, counts["linode:index/volume:Volume"], "the NFS server's")
	assert.Equal(t, 7, counts["kubernetes:apps/v1:Deployment"],
		"a Deployment per pool, Redis, the NFS server, the firewall controller and the database's allow-list reconciler")
	assert.Equal(t, 1, counts["linode:index/token:Token"], "the reconciler's")
	assert.Equal(t, 10, counts["linode:index/objectStorageBucket:ObjectStorageBucket"], "a bucket per object type and one for backups")
	assert.Equal(t, 2, counts["linode:index/objectStorageKey:ObjectStorageKey"], "GitLab's key and the backup's")
	assert.Equal(t, 1, counts["kubernetes:batch/v1:CronJob"], "the backup")
	for _, r := range result.Resources {
		stateful := r.Type == "linode:index/lkeCluster:LkeCluster" || r.Type == "linode:index/databasePostgresqlV2:DatabasePostgresqlV2" ||
			r.Type == "linode:index/volume:Volume" || r.Type == "linode:index/objectStorageBucket:ObjectStorageBucket"
		assert.Equal(t, stateful, r.Protect, "%s %s", r.Type, r.Name)
	}
	assert.Equal(t, len(result.Components()), result.OutputsRegistered)
}
