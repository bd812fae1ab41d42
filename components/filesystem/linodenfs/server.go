package linodenfs

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// serverName names the server's Deployment, Service and NetworkPolicy in its namespace.
const serverName = "nfs-server"

// dataMount is where the volume is mounted in the server: the export is a directory of it, and Ganesha
// keeps its NFSv4 recovery records beside it (RecoveryRoot), so that clients reclaim their state after the
// server restarts rather than see their open files fail.
const dataMount = "/export"

// ganeshaConfig serves one export over NFSv4.1 and later, TCP only, on port 2049 alone. Root is not
// squashed: GitLab's Omnibus runs as root and chowns its directories. Owners travel as numbers, as the
// kubelets' AUTH_SYS mounts send them. The export admits any client that reaches the server: the
// NetworkPolicy and the ClusterIP decide who can. The clients' NFSv4 state is recorded on the volume, under
// RecoveryRoot (v4recov, v4old), outside the export: Ganesha's own default is /var/lib/nfs/ganesha (NFS-Ganesha
// V4.0.8 src/support/nfs_read_conf.c:369, src/include/config-h.in.cmake:119), which is on the read-only root
// here; the image's build rewrites that default to /export (deploy/base/Dockerfile), which this says aloud, so
// that the records stay where they have always been and do not depend on how the image was built.
const ganeshaConfig = `NFS_CORE_PARAM {
    Protocols = 4;
    NFS_Port = 2049;
    Enable_NLM = false;
    Enable_RQUOTA = false;
}
NFSV4 {
    Minor_Versions = 1, 2;
    Only_Numeric_Owners = true;
    Delegations = false;
    Grace_Period = 90;
    RecoveryBackend = fs;
    RecoveryRoot = ` + dataMount + `;
}
EXPORT {
    Export_Id = 1;
    Path = ` + dataMount + `/gitlab;
    Pseudo = ` + ExportPath + `;
    Protocols = 4;
    Transports = TCP;
    Access_Type = RW;
    Squash = No_Root_Squash;
    SecType = sys;
    FSAL {
        Name = VFS;
    }
}
LOG {
    Default_Log_Level = EVENT;
}
`

// serverCapabilities are what Ganesha needs as root, and no more: reading files by handle (DAC_READ_SEARCH),
// acting with each client's identity (SETUID, SETGID), and what root clients may do to any file.
var serverCapabilities = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "SETGID", "SETUID"}

func serverLabels() pulumi.StringMap {
	return pulumi.StringMap{
		"app.kubernetes.io/name": pulumi.String(serverName), "app.kubernetes.io/component": pulumi.String("file-system"),
		"app.kubernetes.io/part-of": pulumi.String("gitlab-ha"),
	}
}

// newServer creates the server in the cluster and returns its Service.
func newServer(ctx *pulumi.Context, f *LinodeNFS, name string, a LinodeNFSArgs, volume *linode.Volume) (*corev1.Service, error) {
	parent := pulumi.Parent(f)
	meta := func(objectName string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: pulumi.String(a.Namespace), Labels: serverLabels()}
	}
	namespace, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(a.Namespace), Labels: serverLabels()},
	}, parent)
	if err != nil {
		return nil, err
	}
	inNamespace := pulumi.DependsOn([]pulumi.Resource{namespace})
	config, err := corev1.NewConfigMap(ctx, name+"-config", &corev1.ConfigMapArgs{
		Metadata: meta("ganesha"),
		Data:     pulumi.StringMap{"ganesha.conf": pulumi.String(ganeshaConfig)},
	}, parent, inNamespace)
	if err != nil {
		return nil, err
	}
	claim, err := dataClaim(ctx, name, a, volume, meta, parent, inNamespace)
	if err != nil {
		return nil, err
	}
	if _, err := serverDeployment(ctx, name, a, meta, claim, config, parent); err != nil {
		return nil, err
	}
	if _, err := serverPolicy(ctx, name, a, meta, parent, inNamespace); err != nil {
		return nil, err
	}
	// The address is fixed at create and kept: a running stack's Service keeps the address it was given
	// (IgnoreChanges), and a Service created anew is deleted first, so that its successor can take the same
	// address and every zone's PersistentVolume, whose server cannot change, stays as it is.
	return corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: meta(serverName),
		Spec: &corev1.ServiceSpecArgs{
			Type:      pulumi.String("ClusterIP"),
			ClusterIP: pulumi.String(a.ServerIP),
			Selector:  serverLabels(),
			Ports: corev1.ServicePortArray{&corev1.ServicePortArgs{
				Name: pulumi.String("nfs"), Protocol: pulumi.String("TCP"), Port: pulumi.Int(nfsPort), TargetPort: pulumi.String("nfs"),
			}},
		},
	}, parent, inNamespace, pulumi.IgnoreChanges([]string{"spec.clusterIP"}), pulumi.DeleteBeforeReplace(true))
}

// dataClaim hands the stack's volume to the CSI driver: a PersistentVolume naming it as the driver does
// (<id>-<label>; the node finds the device by label), reserved for the server's claim. The driver formats
// a blank volume and mounts one that already holds a file system as it is.
func dataClaim(ctx *pulumi.Context, name string, a LinodeNFSArgs, volume *linode.Volume, meta func(string) *metav1.ObjectMetaArgs,
	opts ...pulumi.ResourceOption) (*corev1.PersistentVolumeClaim, error) {
	size := pulumi.StringMap{"storage": pulumi.String(fmt.Sprintf("%dGi", a.VolumeGiB))}
	volumeName := a.Namespace + "-data"
	pv, err := corev1.NewPersistentVolume(ctx, name+"-data", &corev1.PersistentVolumeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(volumeName), Labels: serverLabels()},
		Spec: &corev1.PersistentVolumeSpecArgs{
			Capacity:                      size,
			AccessModes:                   pulumi.StringArray{pulumi.String("ReadWriteOnce")},
			PersistentVolumeReclaimPolicy: pulumi.String("Retain"),
			StorageClassName:              pulumi.String(""),
			Csi: &corev1.CSIPersistentVolumeSourceArgs{
				Driver:       pulumi.String(csiDriver),
				VolumeHandle: pulumi.Sprintf("%s-%s", volume.ID(), volume.Label),
				FsType:       pulumi.String("ext4"),
			},
			ClaimRef: &corev1.ObjectReferenceArgs{
				Kind: pulumi.String("PersistentVolumeClaim"), Namespace: pulumi.String(a.Namespace), Name: pulumi.String("data"),
			},
		},
	}, opts...)
	if err != nil {
		return nil, err
	}
	return corev1.NewPersistentVolumeClaim(ctx, name+"-data", &corev1.PersistentVolumeClaimArgs{
		Metadata: meta("data"),
		Spec: &corev1.PersistentVolumeClaimSpecArgs{
			AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
			// "" and not nil: nil would let the default StorageClass provision a volume of its own.
			StorageClassName: pulumi.String(""),
			VolumeName:       pv.Metadata.Name().Elem(),
			Resources:        &corev1.VolumeResourceRequirementsArgs{Requests: size},
		},
	}, opts...)
}

// serverDeployment runs one server: the volume attaches to one node at a time, so a new server starts only
// after the old one has stopped (Recreate). It runs as root with the capabilities above and no others, on a
// read-only file system, without a service account token.
func serverDeployment(ctx *pulumi.Context, name string, a LinodeNFSArgs, meta func(string) *metav1.ObjectMetaArgs,
	claim *corev1.PersistentVolumeClaim, config *corev1.ConfigMap, opts ...pulumi.ResourceOption) (*appsv1.Deployment, error) {
	scratch := func(name string) *corev1.VolumeArgs {
		return &corev1.VolumeArgs{Name: pulumi.String(name), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("64Mi")}}
	}
	start := fmt.Sprintf("mkdir -p %s/gitlab && exec ganesha.nfsd -F -L /dev/stdout -p /run/ganesha.pid -f /etc/ganesha/ganesha.conf", dataMount)
	return appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: meta(serverName),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Strategy: &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")},
			Selector: &metav1.LabelSelectorArgs{MatchLabels: serverLabels()},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: serverLabels()},
				Spec: &corev1.PodSpecArgs{
					AutomountServiceAccountToken:  pulumi.Bool(false),
					EnableServiceLinks:            pulumi.Bool(false),
					TerminationGracePeriodSeconds: pulumi.Int(60),
					SecurityContext: &corev1.PodSecurityContextArgs{
						SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					Containers: corev1.ContainerArray{&corev1.ContainerArgs{
						Name:  pulumi.String("ganesha"),
						Image: pulumi.String(a.Image),
						// Pinned by digest: the node runs what it already holds, and a registry outage cannot stop a restart.
						ImagePullPolicy: pulumi.String("IfNotPresent"),
						Command:         pulumi.ToStringArray([]string{"/bin/sh", "-c", start}),
						Ports: corev1.ContainerPortArray{&corev1.ContainerPortArgs{
							Name: pulumi.String("nfs"), ContainerPort: pulumi.Int(nfsPort), Protocol: pulumi.String("TCP"),
						}},
						// Ready once it accepts NFS connections. No liveness probe: ganesha.nfsd is the container's
						// process (exec), so its exit restarts the container, and a port check could not tell a
						// hung server from a busy one.
						ReadinessProbe: &corev1.ProbeArgs{
							TcpSocket:           &corev1.TCPSocketActionArgs{Port: pulumi.String("nfs")},
							InitialDelaySeconds: pulumi.Int(5), PeriodSeconds: pulumi.Int(10), FailureThreshold: pulumi.Int(3),
						},
						Resources: &corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String("250m"), "memory": pulumi.String("512Mi"), "ephemeral-storage": pulumi.String("64Mi")},
							Limits:   pulumi.StringMap{"cpu": pulumi.String("2"), "memory": pulumi.String("2Gi"), "ephemeral-storage": pulumi.String("256Mi")},
						},
						SecurityContext: &corev1.SecurityContextArgs{
							RunAsUser: pulumi.Int(0), RunAsGroup: pulumi.Int(0), RunAsNonRoot: pulumi.Bool(false),
							AllowPrivilegeEscalation: pulumi.Bool(false), Privileged: pulumi.Bool(false),
							ReadOnlyRootFilesystem: pulumi.Bool(true),
							Capabilities: &corev1.CapabilitiesArgs{
								Drop: pulumi.ToStringArray([]string{"ALL"}), Add: pulumi.ToStringArray(serverCapabilities),
							},
						},
						VolumeMounts: corev1.VolumeMountArray{
							&corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String(dataMount)},
							&corev1.VolumeMountArgs{Name: pulumi.String("config"), MountPath: pulumi.String("/etc/ganesha"), ReadOnly: pulumi.Bool(true)},
							&corev1.VolumeMountArgs{Name: pulumi.String("run"), MountPath: pulumi.String("/run")},
							&corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
						},
					}},
					Volumes: corev1.VolumeArray{
						&corev1.VolumeArgs{Name: pulumi.String("data"), PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{
							ClaimName: claim.Metadata.Name().Elem(),
						}},
						&corev1.VolumeArgs{Name: pulumi.String("config"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{
							Name: config.Metadata.Name().Elem(),
						}},
						scratch("run"), scratch("tmp"),
					},
				},
			},
		},
	}, opts...)
}

// serverPolicy admits NFS from the client networks alone, and lets the server open no connection at all.
// (Kubernetes never lets a policy refuse the pod's own node, whose kubelet may mount the export too.)
func serverPolicy(ctx *pulumi.Context, name string, a LinodeNFSArgs, meta func(string) *metav1.ObjectMetaArgs,
	opts ...pulumi.ResourceOption) (*networkingv1.NetworkPolicy, error) {
	peers := networkingv1.NetworkPolicyPeerArray{}
	for _, cidr := range a.ClientCIDRs {
		peers = append(peers, &networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(cidr)}})
	}
	return networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: meta(serverName),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: serverLabels()},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
				From:  peers,
				Ports: networkingv1.NetworkPolicyPortArray{&networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(nfsPort)}},
			}},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{},
		},
	}, opts...)
}
