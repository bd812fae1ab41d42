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

// A PersistentVolume's server cannot change: the Service's address must survive the Service.
func TestTheServerKeepsOneAddressThatASuccessorServiceTakesOver(t *testing.T) {
	result, nfs := buildNFS(t, nfsArgs())
	service, _ := result.Find("kubernetes:core/v1:Service", "gitlab-nfs")
	assert.Equal(t, linodenfs.DefaultServerIP, service.InputString("spec.clusterIP"), "asked for, not assigned")
	assert.Equal(t, "10.128.0.49", linodenfs.DefaultServerIP)
	assert.Equal(t, linodenfs.DefaultServerIP, componenttest.MustAwait(t, nfs.Server).Value)
	assert.Equal(t, []string{"spec.clusterIP"}, service.IgnoreChanges, "a running stack's Service keeps the address it has")
	assert.True(t, service.DeleteBeforeReplace, "a successor can take the address only once it is free")

	args := nfsArgs()
	args.ServerIP = "10.128.0.77"
	other, _ := buildNFS(t, args)
	service, _ = other.Find("kubernetes:core/v1:Service", "gitlab-nfs")
	assert.Equal(t, "10.128.0.77", service.InputString("spec.clusterIP"))
}

// Ganesha keeps its clients' NFSv4 state on the volume, beside the export and outside it, so that clients
// reclaim their locks and opens after the server restarts.
func TestTheClientsStateIsRecordedOnTheVolume(t *testing.T) {
	result, _ := buildNFS(t, nfsArgs())
	config, _ := result.Find("kubernetes:core/v1:ConfigMap", "gitlab-nfs-config")
	conf := config.InputMap("data")["ganesha.conf"]
	nfsv4 := conf[strings.Index(conf, "NFSV4 {"):]
	nfsv4 = nfsv4[:strings.Index(nfsv4, "}")]
	assert.Contains(t, nfsv4, "RecoveryBackend = fs;")
	assert.Contains(t, nfsv4, "RecoveryRoot = /export;", "the volume's mount, not the read-only root's /var/lib/nfs/ganesha")
	deployment, _ := result.Find("kubernetes:apps/v1:Deployment", "gitlab-nfs")
	assert.Equal(t, "/export", deployment.InputString("spec.template.spec.containers[0].volumeMounts[0].mountPath"))
	assert.Equal(t, "data", deployment.InputString("spec.template.spec.containers[0].volumeMounts[0].name"))
}

func TestTheVolumeIsEncryptedUnlessTurnedOffByName(t *testing.T) {
	args := nfsArgs()
	args.Encryption = pulumi.BoolRef(false)
	result, _ := buildNFS(t, args)
	assert.Equal(t, "disabled", result.OfType("linode:index/volume:Volume")[0].InputString("encryption"))
}

// The pre-flight asks Linode for the region's capabilities (the mock answers as linodego's recorded region
// lists have them).
func TestEncryptionIsRefusedWhereTheRegionCannotEncrypt(t *testing.T) {
	ask := func(region string, encrypt *bool) error {
		var err error
		result := linodetest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
			args := nfsArgs()
			args.Region, args.Encryption = region, encrypt
			err = linodenfs.EncryptionOffered(ctx, args, pulumi.Provider(provider))
			return nil
		})
		require.NoError(t, result.Err)
		return err
	}
	assert.ErrorContains(t, ask("eu-central", nil), `encryption: true needs "Block Storage Encryption", which region eu-central does not offer`)
	assert.NoError(t, ask("us-ord", nil))
	assert.NoError(t, ask("eu-central", pulumi.BoolRef(false)), "an unencrypted volume needs no capability")
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
	assert.Regexp(t, `:v4\.0\.8@sha256:[0-9a-f]{64}$`, linodenfs.DefaultImage, "by digest")
	assert.Equal(t, "IfNotPresent", deployment.InputString(container+"imagePullPolicy"), "a restart needs no registry")
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
	outside := nfsArgs()
	outside.ServerIP = "10.100.0.49"
	apiServer := nfsArgs()
	apiServer.ServerIP = "10.128.0.1"
	for want, args := range map[string]*linodenfs.LinodeNFSArgs{
		`clientCidrs[0]: "0.0.0.0/0" opens the service`:                                    open,
		"clientCidrs: is empty":                                                            none,
		"volumeGiB: 20000 is outside 10-10240":                                             huge,
		`namespace: "GitLab NFS" is not a valid DNS label`:                                 badNamespace,
		`serverIp: "10.100.0.49" is not an address of LKE's Service network 10.128.0.0/16`: outside,
		`serverIp: "10.128.0.1" is not an address`:                                         apiServer,
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			_, err := linodenfs.NewLinodeNFS(ctx, "gitlab-nfs", args)
			return err
		}, want)
	}
}
