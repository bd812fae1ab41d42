package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/internal/stackconfig"
)

// runExample runs the program with Pulumi.example.yaml and the two secrets a user sets.
func runExample(t *testing.T) *componenttest.Result {
	t.Helper()
	stack, err := stackconfig.Load(".", "example")
	require.NoError(t, err)
	stack.Config["import-components:kubeconfig"] = "apiVersion: v1\nkind: Config\n"
	stack.Config["import-components:databasePassword"] = "example-password"
	result := componenttest.Run(run, componenttest.WithStack("import-components", "example"),
		componenttest.WithConfig(stack.Config, "import-components:kubeconfig", "import-components:databasePassword"))
	require.NoError(t, result.Err)
	return result
}

func TestEachZonesGitLabMountsThatZonesMountTarget(t *testing.T) {
	result := runExample(t)

	assert.Len(t, result.Components(), 3, "the file system, the buckets and GitLab, nothing else")
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

func TestGitLabKeepsItsObjectsInTheBucketsAsTheRolesServiceAccounts(t *testing.T) {
	result := runExample(t)

	config, ok := result.Find("kubernetes:core/v1:ConfigMap", "gitlab-config")
	require.True(t, ok)
	omnibus := config.InputString(`data["GITLAB_OMNIBUS_CONFIG"]`)
	for _, objectType := range gitlab.ObjectTypes() {
		bucket, ok := result.Find("aws:s3/bucketV2:BucketV2", "gitlab-objects-"+strings.ReplaceAll(objectType, "_", "-"))
		require.True(t, ok, objectType)
		name, _ := bucket.Output("bucket")
		assert.Contains(t, omnibus, fmt.Sprintf("['objects']['%s']['bucket'] = '%s'", objectType, name))
	}
	for account, role := range map[string]string{"gitlab": "gitlab-objects-gitlab", "gitlab-backup": "gitlab-objects-backup"} {
		sa, ok := result.Find("kubernetes:core/v1:ServiceAccount", account)
		require.True(t, ok, account)
		iamRole, ok := result.Find("aws:iam/role:Role", role)
		require.True(t, ok, role)
		arn, _ := iamRole.Output("arn")
		assert.Equal(t, arn, sa.InputMap("metadata.annotations")["eks.amazonaws.com/role-arn"], "%s assumes %s", account, role)
		assert.Contains(t, iamRole.InputString("assumeRolePolicy"), "system:serviceaccount:gitlab:"+account)
	}
}
