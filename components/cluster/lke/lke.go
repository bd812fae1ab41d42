// Package lke builds an LKE cluster for GitLab on Linode: a region has no zones, so each zone is a node pool
// whose nodes carry PoolLabel; a controller in the cluster keeps every node behind a Cloud Firewall; and a
// Kubernetes provider reaches the cluster.
package lke

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
	"github.com/gitlab-ha/gitlab-ha/providers"
)

// LKETypeToken is the LKE component's Pulumi type.
const LKETypeToken = "gitlab-ha:cluster:LKE"

// PoolLabel is the node label that carries an LKE node's zone: a Linode region has no zones, so a zone is a
// node pool, and its nodes carry this label with the pool's name.
const PoolLabel = "gitlab-ha.io/zone"

// maxPools bounds the zones of one cluster.
const maxPools = 10

const componentTag = "cluster"

// DefaultKubernetesVersion is the Kubernetes version LKE clusters run unless told otherwise: a minor LKE
// offers on standard-tier clusters as of 2026-12 (upstream 1.36 was released 2026-04-22 and reaches end of
// life 2027-06-28; LKE adds a minor within 4-8 weeks of its release and keeps it until shortly before its end
// of life, per Akamai's "LKE versioning and life cycle policy"). OfferedVersion asks LKE on the day.
const DefaultKubernetesVersion = "1.36"

var versionPattern = regexp.MustCompile(`^1\.[0-9]{2}$`)

// NodeCounts size a node pool: Min and Max bound its autoscaler. LKE starts an autoscaled pool at Min and
// leaves its size to the autoscaler, so Desired must equal Min; Min equal to Max is a fixed pool of that
// many nodes. Min of at least one keeps every zone able to run its GitLab replica.
type NodeCounts struct {
	Min, Desired, Max int
}

// LKEArgs configures an LKE cluster with one node pool per zone.
type LKEArgs struct {
	// Region, e.g. "eu-central". Required.
	Region string
	// Version of Kubernetes. Default DefaultKubernetesVersion.
	Version string
	// Zones name the node pools, 1 to 10; each pool's nodes carry PoolLabel=<zone>. Required.
	Zones []string
	// NodeType of every pool, e.g. "g6-standard-6" (6 vCPU, 16 GB: one GitLab replica and room). Required:
	// it decides the cluster's cost, so nobody gets one by default.
	NodeType string
	// Nodes sizes each pool: Min and Max bound its autoscaler, which owns the count (Desired must equal Min);
	// Min equal to Max is a fixed pool. Default 1 / 1 / 3.
	Nodes NodeCounts
	// HighAvailability replicates the control plane. Default true.
	HighAvailability *bool
	// APIAllowedCIDRs, when given, are the only networks that may reach the API server. Default none: LKE's
	// default, the API open to any client with credentials.
	APIAllowedCIDRs []string
	// Protect guards the cluster against deletion (pulumi protect and retainOnDelete). Default false.
	Protect bool
	// Tags added to every resource. Default none.
	Tags []string
	// FirewallControllerImage runs the nodes' firewall controller. Default FirewallControllerImage.
	FirewallControllerImage string
}

// LKE is the component.
type LKE struct {
	pulumi.ResourceState

	ClusterID   pulumi.IntOutput
	APIEndpoint pulumi.StringOutput
	// NodeAddresses are the public IPv4 addresses of the pools' nodes when the stack last ran, sorted: what
	// a service outside the cluster (the managed database) admits pods by, since they leave a node from its
	// public address. The autoscaler changes them between runs; the database's reconciler follows it.
	NodeAddresses pulumi.StringArrayOutput
	// Kubeconfig, decoded from the base64 LKE returns. Secret: it holds a long-lived token.
	Kubeconfig pulumi.StringOutput
	// Provider is a Kubernetes provider for this cluster.
	Provider *kubernetes.Provider

	zones         []string
	firewallImage string
}

// NodeSelector pins pods to a zone's pool.
func (c *LKE) NodeSelector(zone string) map[string]string { return map[string]string{PoolLabel: zone} }

func withLKEDefaults(args LKEArgs) LKEArgs {
	if args.Version == "" {
		args.Version = DefaultKubernetesVersion
	}
	if args.Nodes == (NodeCounts{}) {
		args.Nodes = NodeCounts{Min: 1, Desired: 1, Max: 3}
	}
	if args.HighAvailability == nil {
		args.HighAvailability = pulumi.BoolRef(true)
	}
	if args.FirewallControllerImage == "" {
		args.FirewallControllerImage = FirewallControllerImage
	}
	return args
}

// ValidateLKE reports the first problem with args, as NewLKE would.
func ValidateLKE(args *LKEArgs) error {
	return validateLKE(withLKEDefaults(*args))
}

// validateLKE checks args that already have their defaults.
func validateLKE(a LKEArgs) error {
	if err := linodekit.Region("region", a.Region); err != nil {
		return err
	}
	if !versionPattern.MatchString(a.Version) {
		return validate.Errorf("version", a.Version, "is not a Kubernetes minor version such as %s", DefaultKubernetesVersion)
	}
	if len(a.Zones) == 0 {
		return validate.Errorf("zones", nil, "names no node pool; a zone is a pool, and there must be at least one")
	}
	if len(a.Zones) > maxPools {
		return validate.Errorf("zones", len(a.Zones), "pools asked for; at most %d", maxPools)
	}
	if err := validate.ZoneNames(a.Zones); err != nil {
		return err
	}
	if a.NodeType == "" {
		return validate.Missing("nodeType")
	}
	n := a.Nodes
	counts := fmt.Sprintf("%d/%d/%d", n.Min, n.Desired, n.Max)
	if n.Min < 1 || n.Desired < n.Min || n.Max < n.Desired {
		return validate.Errorf("nodes", counts, "must satisfy 1 <= min <= desired <= max (min/desired/max)")
	}
	if n.Desired != n.Min {
		return validate.Errorf("nodes", counts, "asks for %d nodes, but LKE starts an autoscaled pool at min and the autoscaler owns its size; "+
			"set desired to min, or min and max to %d for a fixed pool", n.Desired, n.Desired)
	}
	if len(a.APIAllowedCIDRs) > 0 {
		return linodekit.NoOpenRange("apiAllowedCidrs", a.APIAllowedCIDRs)
	}
	return nil
}

// NewLKE validates args, then creates the cluster, a pool per zone, the Kubernetes provider, and the
// controller that keeps every node behind the nodes' Cloud Firewall.
func NewLKE(ctx *pulumi.Context, name string, args *LKEArgs, opts ...pulumi.ResourceOption) (*LKE, error) {
	if args == nil {
		return nil, fmt.Errorf("cluster %q: args are required", name)
	}
	a := withLKEDefaults(*args)
	if err := validateLKE(a); err != nil {
		return nil, fmt.Errorf("cluster %q: %w", name, err)
	}
	c := &LKE{zones: a.Zones, firewallImage: a.FirewallControllerImage}
	if err := ctx.RegisterComponentResource(LKETypeToken, name, c, opts...); err != nil {
		return nil, err
	}
	pools := linode.LkeClusterPoolArray{}
	for _, zone := range a.Zones {
		pools = append(pools, nodePool(a, zone))
	}
	controlPlane := &linode.LkeClusterControlPlaneArgs{HighAvailability: pulumi.Bool(*a.HighAvailability)}
	if len(a.APIAllowedCIDRs) > 0 {
		controlPlane.Acl = &linode.LkeClusterControlPlaneAclArgs{
			Enabled:   pulumi.Bool(true),
			Addresses: linode.LkeClusterControlPlaneAclAddressArray{&linode.LkeClusterControlPlaneAclAddressArgs{Ipv4s: pulumi.ToStringArray(a.APIAllowedCIDRs)}},
		}
	}
	cluster, err := linode.NewLkeCluster(ctx, name, &linode.LkeClusterArgs{
		Label: pulumi.String(linodekit.Label(ctx, name)), Region: pulumi.String(a.Region), K8sVersion: pulumi.String(a.Version),
		Pools: pools, ControlPlane: controlPlane, Tags: linodekit.Tags(componentTag, a.Tags),
	}, pulumi.Parent(c), pulumi.Protect(a.Protect), pulumi.RetainOnDelete(a.Protect))
	if err != nil {
		return nil, err
	}

	c.ClusterID = linodekit.IntID(cluster.ID())
	c.APIEndpoint = cluster.ApiEndpoints.Index(pulumi.Int(0))
	c.NodeAddresses = nodeAddresses(ctx, c, cluster)
	c.Kubeconfig = pulumi.ToSecret(cluster.Kubeconfig.ApplyT(func(encoded string) (string, error) {
		decoded, err := base64.StdEncoding.DecodeString(encoded)
		return string(decoded), err
	})).(pulumi.StringOutput)
	if c.Provider, err = providers.Kubernetes(ctx, name, c.Kubeconfig, pulumi.Parent(c)); err != nil {
		return nil, err
	}
	if err := nodeFirewall(ctx, c, name, c.Provider); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterId": c.ClusterID, "apiEndpoint": c.APIEndpoint, "kubeconfig": c.Kubeconfig, "nodeAddresses": c.NodeAddresses,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// nodePool is a zone's pool. An autoscaled pool sends no count: the provider sends the declared count on
// every pool update, which would scale the pool back to it; left out, LKE starts the pool at the
// autoscaler's minimum and the count is the autoscaler's. A fixed pool (min = max) sends its count.
func nodePool(a LKEArgs, zone string) *linode.LkeClusterPoolArgs {
	pool := &linode.LkeClusterPoolArgs{
		Type:   pulumi.String(a.NodeType),
		Labels: pulumi.StringMap{PoolLabel: pulumi.String(zone)},
		Tags:   linodekit.Tags(componentTag, append([]string{"zone-" + zone}, a.Tags...)),
	}
	if a.Nodes.Min == a.Nodes.Max {
		pool.Count = pulumi.Int(a.Nodes.Min)
	} else {
		pool.Autoscaler = &linode.LkeClusterPoolAutoscalerArgs{Min: pulumi.Int(a.Nodes.Min), Max: pulumi.Int(a.Nodes.Max)}
	}
	return pool
}

// nodeAddresses asks Linode for the public IPv4 addresses of the instances behind the pools' nodes. The
// instances are looked up by ID in one call, which leaves out an instance the autoscaler has since deleted
// rather than failing on it.
func nodeAddresses(ctx *pulumi.Context, c *LKE, cluster *linode.LkeCluster) pulumi.StringArrayOutput {
	return cluster.Pools.ApplyT(func(pools []linode.LkeClusterPool) ([]string, error) {
		var ids []string
		for _, pool := range pools {
			for _, node := range pool.Nodes {
				if node.InstanceId != nil {
					ids = append(ids, strconv.Itoa(*node.InstanceId))
				}
			}
		}
		if len(ids) == 0 {
			return []string{}, nil
		}
		found, err := linode.GetInstances(ctx, &linode.GetInstancesArgs{
			Filters: []linode.GetInstancesFilter{{Name: "id", Values: ids}},
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("cluster nodes' addresses: %w", err)
		}
		var addresses []string
		for _, instance := range found.Instances {
			for _, address := range instance.Ipv4s {
				if linodekit.IsPublicIPv4(address) {
					addresses = append(addresses, address)
				}
			}
		}
		sort.Strings(addresses)
		return addresses, nil
	}).(pulumi.StringArrayOutput)
}

// OfferedVersion asks LKE which Kubernetes versions it offers standard-tier clusters and refuses a version
// it does not offer (field "version"), which the provider would send unchecked and LKE refuse at create.
// Invoke options carry the Linode provider.
func OfferedVersion(ctx *pulumi.Context, version string, opts ...pulumi.InvokeOption) error {
	if version == "" {
		version = DefaultKubernetesVersion
	}
	// Without a tier, LKE lists the versions of standard (non-enterprise) clusters (GET /lke/versions).
	offered, err := linode.GetLkeVersions(ctx, &linode.GetLkeVersionsArgs{}, opts...)
	if err != nil {
		return fmt.Errorf("asking LKE for its Kubernetes versions: %w", err)
	}
	var ids []string
	for _, v := range offered.Versions {
		if v.Id == version {
			return nil
		}
		ids = append(ids, v.Id)
	}
	sort.Strings(ids)
	return validate.Errorf("version", version, "is not a Kubernetes version LKE offers today; it offers %s", strings.Join(ids, ", "))
}
