package linodenfs_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/filesystem/linodenfs"
	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
)

func nfsArgs() *linodenfs.LinodeNFSArgs {
	return &linodenfs.LinodeNFSArgs{Region: linodetest.Region, ClientCIDRs: []string{linodekit.PodCIDR}, Protect: true}
}

func buildNFS(t *testing.T, args *linodenfs.LinodeNFSArgs) (*componenttest.Result, *linodenfs.LinodeNFS) {
	t.Helper()
	var nfs *linodenfs.LinodeNFS
	result := linodetest.Run(func(ctx *pulumi.Context, linode pulumi.ProviderResource) error {
		cluster, err := kubernetes.NewProvider(ctx, "cluster", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		nfs, err = linodenfs.NewLinodeNFS(ctx, "gitlab-nfs", args, pulumi.Providers(linode, cluster))
		return err
	})
	require.NoError(t, result.Err)
	return result, nfs
}

// NFS has no authentication: who can reach the server is all that protects GitLab's data.
func TestTheNFSServerIsReachableFromTheClusterAlone(t *testing.T) {
	result, nfs := buildNFS(t, nfsArgs())

	service, ok := result.Find("kubernetes:core/v1:Service", "gitlab-nfs")
	require.True(t, ok)
	assert.Equal(t, "ClusterIP", service.InputString("spec.type"), "an address only the cluster's nodes and pods route")
	for _, outward := range []string{"spec.externalIPs", "spec.loadBalancerIP", "spec.externalTrafficPolicy", "spec.ports[0].nodePort"} {
		_, ok := service.Input(outward)
		assert.False(t, ok, outward)
	}
	assert.Equal(t, []any{map[string]any{"name": "nfs", "protocol": "TCP", "port": float64(2049), "targetPort": "nfs"}},
		service.MustInput(t, "spec.ports"), "NFSv4 alone")

	deployment, _ := result.Find("kubernetes:apps/v1:Deployment", "gitlab-nfs")
	pod := deployment.MustInput(t, "spec.template.spec").(map[string]any)
	assert.NotContains(t, pod, "hostNetwork")
	for _, port := range deployment.MustInput(t, "spec.template.spec.containers[0].ports").([]any) {
		assert.NotContains(t, port, "hostPort")
	}

	policy, _ := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab-nfs")
	assert.Equal(t, deployment.InputMap("spec.template.metadata.labels"), policy.InputMap("spec.podSelector.matchLabels"))
	assert.Equal(t, []any{"Ingress", "Egress"}, policy.MustInput(t, "spec.policyTypes"))
	assert.Equal(t, []any{map[string]any{
		"from":  []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.2.0.0/16"}}},
		"ports": []any{map[string]any{"protocol": "TCP", "port": float64(2049)}},
	}}, policy.MustInput(t, "spec.ingress"), "NFS from the cluster's pod network, where other nodes' kubelets arrive from, and nothing wider")
	egress, _ := policy.Input("spec.egress")
	assert.Empty(t, egress, "the server opens no connection")

	server, _ := componenttest.Await(nfs.Server)
	assert.Equal(t, service.Outputs["spec"].ObjectValue()["clusterIP"].StringValue(), server.Value, "volumes name the cluster IP")
	assert.Equal(t, "/gitlab", nfs.Path)
}

func TestTheServerRunsOnTheStacksVolumeWhichKeepsItsIdentity(t *testing.T) {
	result, nfs := buildNFS(t, nfsArgs())

	volume := result.OfType("linode:index/volume:Volume")[0]
	assert.Equal(t, "gitlab-nfs-data", volume.Name)
	assert.True(t, strings.HasSuffix(volume.URN, "::gitlab-ha:filesystem:LinodeNFS$linode:index/volume:Volume::gitlab-nfs-data"),
		"the URN a running stack's volume has, so its data is not replaced: %s", volume.URN)
	assert.True(t, volume.Protect)
	assert.True(t, volume.RetainOnDelete)
	assert.Equal(t, "enabled", volume.InputString("encryption"))
	assert.Regexp(t, `^test-gitlab-nfs-data-[0-9a-f]{6}$`, volume.InputString("label"))
	_, attached := volume.Inputs["linodeId"]
	assert.False(t, attached, "the CSI driver attaches it to the server's node")

	pv, _ := result.Find("kubernetes:core/v1:PersistentVolume", "gitlab-nfs-data")
	assert.Equal(t, "linodebs.csi.linode.com", pv.InputString("spec.csi.driver"))
	assert.Equal(t, volume.ID+"-"+volume.InputString("label"), pv.InputString("spec.csi.volumeHandle"), "<id>-<label>, as the driver names volumes")
	assert.Equal(t, "Retain", pv.InputString("spec.persistentVolumeReclaimPolicy"))
	claim, _ := result.Find("kubernetes:core/v1:PersistentVolumeClaim", "gitlab-nfs-data")
	assert.Equal(t, pv.InputString("metadata.name"), claim.InputString("spec.volumeName"))
	assert.Equal(t, "", claim.InputString("spec.storageClassName"), "no provisioner may step in")
	assert.Equal(t, map[string]string{"kind": "PersistentVolumeClaim", "namespace": "gitlab-nfs", "name": "data"}, pv.InputMap("spec.claimRef"))

	deployment, _ := result.Find("kubernetes:apps/v1:Deployment", "gitlab-nfs")
	assert.Equal(t, "Recreate", deployment.InputString("spec.strategy.type"), "the volume attaches to one node at a time")
	assert.Equal(t, "data", deployment.InputString("spec.template.spec.volumes[0].persistentVolumeClaim.claimName"))
	assert.Equal(t, float64(1), deployment.MustInput(t, "spec.replicas"))
	volumeID, _ := componenttest.Await(nfs.VolumeID)
	assert.Equal(t, volume.ID, strconv.Itoa(volumeID.Value.(int)))
}

func TestTheServerExportsOneDirectoryOverNFSv4WithRootUnsquashedAndNoMoreRightsThanItNeeds(t *testing.T) {
	result, _ := buildNFS(t, nfsArgs())
	config, _ := result.Find("kubernetes:core/v1:ConfigMap", "gitlab-nfs-config")
	conf := config.InputMap("data")["ganesha.conf"]
	for _, want := range []string{"Protocols = 4;", "NFS_Port = 2049;", "Enable_NLM = false;", "Enable_RQUOTA = false;",
		"Path = /export/gitlab;", "Pseudo = /gitlab;", "Transports = TCP;", "Squash = No_Root_Squash;", "Access_Type = RW;"} {
		assert.Contains(t, conf, want)
	}
	deployment, _ := result.Find("kubernetes:apps/v1:Deployment", "gitlab-nfs")
	container := "spec.template.spec.containers[0]."
	assert.Equal(t, linodenfs.DefaultImage, deployment.InputString(container+"image"))
	assert.Contains(t, deployment.InputString(container+"command[2]"), "exec ganesha.nfsd -F")
	assert.Equal(t, false, deployment.MustInput(t, container+"securityContext.privileged"))
	assert.Equal(t, false, deployment.MustInput(t, container+"securityContext.allowPrivilegeEscalation"))
	assert.Equal(t, true, deployment.MustInput(t, container+"securityContext.readOnlyRootFilesystem"))
	assert.Equal(t, []any{"ALL"}, deployment.MustInput(t, container+"securityContext.capabilities.drop"))
	assert.Equal(t, []any{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "SETGID", "SETUID"},
		deployment.MustInput(t, container+"securityContext.capabilities.add"), "no SYS_ADMIN, no NET_*")
	assert.Equal(t, false, deployment.MustInput(t, "spec.template.spec.automountServiceAccountToken"))
}

func TestLinodeNFSBadArgs(t *testing.T) {
	open := nfsArgs()
	open.ClientCIDRs = []string{"0.0.0.0/0"}
	none := nfsArgs()
	none.ClientCIDRs = nil
	huge := nfsArgs()
	huge.VolumeGiB = 20000
	badNamespace := nfsArgs()
	badNamespace.Namespace = "GitLab NFS"
	for want, args := range map[string]*linodenfs.LinodeNFSArgs{
		`clientCidrs[0]: "0.0.0.0/0" opens the service`:    open,
		"clientCidrs: is empty":                            none,
		"volumeGiB: 20000 is outside 10-10240":             huge,
		`namespace: "GitLab NFS" is not a valid DNS label`: badNamespace,
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			_, err := linodenfs.NewLinodeNFS(ctx, "gitlab-nfs", args)
			return err
		}, want)
	}
}
