package gitlab

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// nfsMountOptions are the client options GitLab documents for its data on NFS ("Using NFS with GitLab",
// Mount options: vers=4.1, hard, rsize=1048576, wsize=1048576, noatime, lookupcache=positive), with the
// timeouts and fresh source port on reconnect that AWS recommends for EFS. lookupcache=positive matters most:
// a negative lookup cached by one replica's node hides a ref another replica just pushed. The close-to-open
// consistency GitLab requires (cto) is the default, so it is not spelled out; GitLab's nofail, _netdev and
// defaults are /etc/fstab options for boot, meaningless to the kubelet's mount, and nofail could let a pod
// start on an empty local directory when the mount fails.
var nfsMountOptions = []string{"nfsvers=4.1", "hard", "rsize=1048576", "wsize=1048576", "noatime", "lookupcache=positive",
	"timeo=600", "retrans=2", "noresvport"}

// zoneStorage is a zone's claim, and its volume when the component made one (NFS zones).
type zoneStorage struct {
	claim  *corev1.PersistentVolumeClaim
	volume *corev1.PersistentVolume // nil for a StorageClass zone: the provisioner makes the volume
}

// newZoneStorage creates the zone's claim and, for an NFS zone, the volume it binds to.
func newZoneStorage(ctx *pulumi.Context, parent pulumi.Resource, name, namespace string,
	namespaceInput pulumi.StringInput, zone Zone) (*zoneStorage, error) {
	objectName := name + "-" + zone.Name
	labels := zoneLabels(name, StorageComponent, zone.Name)
	if zone.Storage.NFS == nil {
		claim, err := corev1.NewPersistentVolumeClaim(ctx, objectName, &corev1.PersistentVolumeClaimArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: namespaceInput, Labels: toStringMap(labels)},
			Spec: &corev1.PersistentVolumeClaimSpecArgs{
				AccessModes:      pulumi.StringArray{pulumi.String("ReadWriteOnce")},
				StorageClassName: pulumi.String(zone.Storage.StorageClass),
				Resources:        &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(zone.Storage.Size)}},
			},
		}, pulumi.Parent(parent), waitFor(supportWait))
		if err != nil {
			return nil, err
		}
		return &zoneStorage{claim: claim}, nil
	}

	// What Kubernetes will not change in place (the NFS source, the zone's node affinity, a static claim's
	// size) is in the names of the volume and its claim: a zone moved to another server gets a new pair,
	// which Pulumi creates, and moves the zone's Deployment to, before it deletes the old pair. The old
	// volume's reclaim policy is Retain, and an NFS volume has no deleter: its data stays on the old server.
	identity := volumeIdentity(zone)
	claimName := pulumi.Sprintf("%s-%s", objectName, identity)

	// The volume is labelled with its usage, instance and zone; the claim selects on exactly those labels,
	// and the volume's claimRef reserves it for that claim alone.
	volumeLabels := zoneLabels(name, StorageComponent, zone.Name)
	volumeLabels[UsageLabelKey] = DataUsage
	volume, err := corev1.NewPersistentVolume(ctx, objectName, &corev1.PersistentVolumeArgs{
		Metadata: &metav1.ObjectMetaArgs{
			// Volumes are cluster-wide: the namespace keeps two installations' names apart.
			Name:   pulumi.Sprintf("%s-%s-%s", namespace, objectName, identity),
			Labels: toStringMap(volumeLabels),
		},
		Spec: &corev1.PersistentVolumeSpecArgs{
			Capacity:                      pulumi.StringMap{"storage": pulumi.String(zone.Storage.Size)},
			AccessModes:                   pulumi.StringArray{pulumi.String("ReadWriteMany")},
			PersistentVolumeReclaimPolicy: pulumi.String("Retain"),
			StorageClassName:              pulumi.String(""),
			MountOptions:                  pulumi.ToStringArray(nfsMountOptions),
			Nfs: &corev1.NFSVolumeSourceArgs{
				Server: zone.Storage.NFS.Server,
				Path:   pulumi.String(zone.Storage.NFS.Path),
			},
			ClaimRef: &corev1.ObjectReferenceArgs{
				Kind:      pulumi.String("PersistentVolumeClaim"),
				Namespace: namespaceInput,
				Name:      claimName,
			},
			// The volume is zonal: only the zone's nodes may mount it, whatever selects the pod.
			NodeAffinity: &corev1.VolumeNodeAffinityArgs{
				Required: &corev1.NodeSelectorArgs{NodeSelectorTerms: corev1.NodeSelectorTermArray{
					&corev1.NodeSelectorTermArgs{MatchExpressions: nodeSelectorRequirements(zone.NodeSelector)},
				}},
			},
		},
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, err
	}
	claimSelector := map[string]string{
		UsageLabelKey:                DataUsage,
		ZoneLabelKey:                 zone.Name,
		"app.kubernetes.io/instance": name,
	}
	claim, err := corev1.NewPersistentVolumeClaim(ctx, objectName, &corev1.PersistentVolumeClaimArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: claimName, Namespace: namespaceInput, Labels: toStringMap(labels)},
		Spec: &corev1.PersistentVolumeClaimSpecArgs{
			AccessModes: pulumi.StringArray{pulumi.String("ReadWriteMany")},
			// "" and not nil: nil would let the default StorageClass provision a volume of its own.
			StorageClassName: pulumi.String(""),
			Selector:         &metav1.LabelSelectorArgs{MatchLabels: toStringMap(claimSelector)},
			Resources:        &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(zone.Storage.Size)}},
		},
	}, pulumi.Parent(parent), waitFor(supportWait))
	if err != nil {
		return nil, err
	}
	return &zoneStorage{claim: claim, volume: volume}, nil
}

// volumeIdentity is eight hex digits of a hash of what a zone's NFS volume and claim cannot change in place:
// the server and path (spec.persistentvolumesource is immutable), the node selector (the volume's node
// affinity) and the size (a static claim cannot be resized).
func volumeIdentity(zone Zone) pulumi.StringOutput {
	selector := make([]string, 0, len(zone.NodeSelector))
	for key, value := range zone.NodeSelector {
		selector = append(selector, key+"="+value)
	}
	sort.Strings(selector)
	return zone.Storage.NFS.Server.ToStringOutput().ApplyT(func(server string) string {
		sum := sha256.Sum256([]byte(strings.Join(append([]string{server, zone.Storage.NFS.Path, zone.Storage.Size}, selector...), "\x00")))
		return hex.EncodeToString(sum[:4])
	}).(pulumi.StringOutput)
}

// nodeSelectorRequirements turns a node selector into the equivalent "key In [value]" requirements, in key
// order so that the program's output is stable.
func nodeSelectorRequirements(selector map[string]string) corev1.NodeSelectorRequirementArray {
	keys := make([]string, 0, len(selector))
	for key := range selector {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	requirements := corev1.NodeSelectorRequirementArray{}
	for _, key := range keys {
		requirements = append(requirements, &corev1.NodeSelectorRequirementArgs{
			Key: pulumi.String(key), Operator: pulumi.String("In"), Values: pulumi.StringArray{pulumi.String(selector[key])},
		})
	}
	return requirements
}
