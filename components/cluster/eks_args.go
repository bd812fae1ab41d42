package cluster

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// DefaultKubernetesVersion is the Kubernetes version clusters run unless told otherwise: the newest minor the
// add-on table knows, in EKS standard support on 2026-12-02 (1.34's standard support ends that day, 1.35's on
// 2027-03-27; a minor has 14 months of it from its EKS release). EKSVersionOffered asks EKS on the day.
const DefaultKubernetesVersion = "1.36"

// Upgrade policies (EKS's supportType): what EKS does when the cluster's minor leaves standard support.
const (
	// UpgradeStandard: EKS upgrades the cluster to the next minor at the end of standard support, at the
	// standard control-plane price. The component's default.
	UpgradeStandard = "STANDARD"
	// UpgradeExtended: the cluster stays on its minor for up to 12 more months of extended support, at the
	// extended control-plane price (EKS's own default when nothing is said).
	UpgradeExtended = "EXTENDED"
)

// ClusterAdminPolicyARN is the EKS access policy that AdminPrincipalARNs are granted, cluster-wide.
const ClusterAdminPolicyARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

// EKSArgs configures an EKS cluster with one managed node group per zone.
type EKSArgs struct {
	// Region of the cluster, e.g. "eu-west-1": the kubeconfig asks for tokens there. Required.
	Region string
	// Version of Kubernetes. Default DefaultKubernetesVersion. EKS moves a cluster one minor at a time: a
	// running cluster takes the next minor only.
	Version string
	// UpgradePolicy is UpgradeStandard or UpgradeExtended, said so that extended support (six times the
	// control-plane price) is a choice. Default UpgradeStandard.
	UpgradePolicy string
	// AdminPrincipalARNs are IAM roles or users (arn:aws:iam::<account>:role/<name>, …:user/<name>) given
	// cluster-admin through EKS access entries, beside the identity that creates the cluster, which EKS admits
	// itself: a second operator or a CI role. Do not list the creating identity: EKS already made its entry.
	// Default none.
	AdminPrincipalARNs []string
	// VpcID of the network. Required.
	VpcID pulumi.StringInput
	// VpcCIDR of the network; when given literally, ServiceCIDR is checked against it. Default none.
	VpcCIDR pulumi.StringInput
	// Zones, in order; each gets a node group in its private subnet. Required, at least one.
	Zones []string
	// PrivateSubnetIDs by zone name: where each zone's nodes (and the control plane's interfaces) go.
	// Required for every zone.
	PrivateSubnetIDs map[string]pulumi.StringInput
	// PublicEndpoint also exposes the API server on the internet, to PublicAccessCIDRs only. Default
	// false: the API is reachable only from inside the VPC.
	PublicEndpoint bool
	// PublicAccessCIDRs may reach the public endpoint. Required with PublicEndpoint, and only with it.
	PublicAccessCIDRs []string
	// PrivateAccessCIDRs, inside the VPC or connected to it, may reach the private endpoint on 443: where
	// Pulumi and kubectl run when the API is not public. Default none: only the nodes reach it.
	PrivateAccessCIDRs []string
	// Addons pins the managed vpc-cni (with network policy enforcement on), kube-proxy and coredns.
	// Default DefaultAddonVersions[Version]; required for a version that table does not know.
	Addons *AddonVersions
	// ServiceCIDR is the range of Kubernetes Services; it must not overlap the VPC. Default "172.20.0.0/16".
	ServiceCIDR string
	// InstanceTypes of the nodes. Default ["m6i.xlarge"] (4 vCPU, 16 GiB: one GitLab replica and room).
	InstanceTypes []string
	// Nodes is the size of each zone's node group. Default 1 / 1 / 3 (min / desired / max).
	Nodes NodeCounts
	// DiskSizeGiB of each node's encrypted root volume. Default 50.
	DiskSizeGiB int
	// LogTypes of the control plane sent to CloudWatch. Default all five: api, audit, authenticator,
	// controllerManager, scheduler.
	LogTypes []string
	// Protect guards the cluster and its secrets key against deletion (pulumi protect and retainOnDelete).
	// Default false.
	Protect bool
	// Tags added to every resource. Default none.
	Tags map[string]string
}

// NodeCounts size a node group. Min of at least one keeps every zone able to run its GitLab replica.
type NodeCounts struct {
	Min, Desired, Max int
}

var (
	versionPattern = regexp.MustCompile(`^1\.[0-9]{2}$`)
	// principalPattern is an IAM role or user; an assumed-role session (arn:aws:sts::…:assumed-role/…) is
	// what a role looks like from inside it, and access entries refuse it.
	principalPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+$`)
	allLogTypes      = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
)

func withEKSDefaults(args EKSArgs) EKSArgs {
	if args.Version == "" {
		args.Version = DefaultKubernetesVersion
	}
	if args.UpgradePolicy == "" {
		args.UpgradePolicy = UpgradeStandard
	}
	if args.ServiceCIDR == "" {
		args.ServiceCIDR = "172.20.0.0/16"
	}
	if len(args.InstanceTypes) == 0 {
		args.InstanceTypes = []string{"m6i.xlarge"}
	}
	if args.Nodes == (NodeCounts{}) {
		args.Nodes = NodeCounts{Min: 1, Desired: 1, Max: 3}
	}
	if args.DiskSizeGiB == 0 {
		args.DiskSizeGiB = 50
	}
	if args.LogTypes == nil {
		args.LogTypes = allLogTypes
	}
	if args.Addons == nil {
		if versions, ok := DefaultAddonVersions[args.Version]; ok {
			args.Addons = &versions
		}
	}
	return args
}

func validateEKS(args EKSArgs) error {
	if args.Region == "" {
		return validate.Missing("region")
	}
	if !versionPattern.MatchString(args.Version) {
		return validate.Errorf("version", args.Version, "is not a Kubernetes minor version such as %s", DefaultKubernetesVersion)
	}
	if args.UpgradePolicy != UpgradeStandard && args.UpgradePolicy != UpgradeExtended {
		return validate.Errorf("upgradePolicy", args.UpgradePolicy, "is not %s or %s", UpgradeStandard, UpgradeExtended)
	}
	if err := validateAdminPrincipals(args.AdminPrincipalARNs); err != nil {
		return err
	}
	if err := validate.RequiredString("vpcId", args.VpcID); err != nil {
		return err
	}
	if err := validate.ZoneSubnets(args.Zones, 1, "privateSubnetIds", args.PrivateSubnetIDs); err != nil {
		return err
	}
	if err := validatePublicEndpoint(args); err != nil {
		return err
	}
	if err := validatePrivateAccess(args.PrivateAccessCIDRs); err != nil {
		return err
	}
	if err := validateAddons(args); err != nil {
		return err
	}
	service, err := validate.CIDR("serviceCidr", args.ServiceCIDR)
	if err != nil {
		return err
	}
	if raw, ok := validate.LiteralString(args.VpcCIDR); ok {
		if vpc, err := validate.CIDR("vpcCidr", raw); err == nil && vpc.Overlaps(service) {
			return validate.Errorf("serviceCidr", args.ServiceCIDR, "overlaps the VPC %s; Services and nodes would share addresses", raw)
		}
	}
	if len(args.InstanceTypes) == 0 || args.InstanceTypes[0] == "" {
		return validate.Errorf("instanceTypes", nil, "needs at least one instance type")
	}
	n := args.Nodes
	if n.Min < 1 || n.Desired < n.Min || n.Max < n.Desired {
		return validate.Errorf("nodes", fmt.Sprintf("%d/%d/%d", n.Min, n.Desired, n.Max), "must satisfy 1 <= min <= desired <= max (min/desired/max)")
	}
	if args.DiskSizeGiB < 20 {
		return validate.Errorf("diskSizeGiB", args.DiskSizeGiB, "is below 20, the smallest disk an EKS node image boots from")
	}
	known := map[string]bool{}
	for _, t := range allLogTypes {
		known[t] = true
	}
	for i, t := range args.LogTypes {
		if !known[t] {
			return validate.Errorf(fmt.Sprintf("logTypes[%d]", i), t, "is not one of %v", allLogTypes)
		}
	}
	return nil
}

func validatePublicEndpoint(args EKSArgs) error {
	switch {
	case args.PublicEndpoint && len(args.PublicAccessCIDRs) == 0:
		return validate.Errorf("publicAccessCidrs", nil, "is empty, but publicEndpoint is on: name the networks that may reach the API")
	case !args.PublicEndpoint && len(args.PublicAccessCIDRs) > 0:
		return validate.Errorf("publicAccessCidrs", nil, "is set, but publicEndpoint is off; turn it on or remove them")
	}
	for i, cidr := range args.PublicAccessCIDRs {
		field := fmt.Sprintf("publicAccessCidrs[%d]", i)
		prefix, err := validate.CIDR(field, cidr)
		if err != nil {
			return err
		}
		if prefix.Bits() == 0 {
			return validate.Errorf(field, cidr, "opens the API server to the whole internet; name the networks that need it")
		}
	}
	return nil
}

func validatePrivateAccess(cidrs []string) error {
	for i, cidr := range cidrs {
		field := fmt.Sprintf("privateAccessCidrs[%d]", i)
		prefix, err := validate.CIDR(field, cidr)
		if err != nil {
			return err
		}
		if !prefix.Addr().IsPrivate() {
			return validate.Errorf(field, cidr, "is not a private range; the private endpoint is reached from inside the VPC")
		}
	}
	return nil
}

func validateAddons(args EKSArgs) error {
	if args.Addons == nil {
		return validate.Errorf("addons", nil, "are needed for Kubernetes %s: pinned versions are known for %v only", args.Version, knownAddonVersions())
	}
	for field, version := range map[string]string{"addons.vpcCni": args.Addons.VPCCNI, "addons.kubeProxy": args.Addons.KubeProxy, "addons.coreDns": args.Addons.CoreDNS} {
		if !addonVersionPattern.MatchString(version) {
			return validate.Errorf(field, version, "is not an EKS add-on build such as v1.20.0-eksbuild.1")
		}
	}
	if kubeProxy := args.Addons.KubeProxy; !strings.HasPrefix(kubeProxy, "v"+args.Version+".") {
		return validate.Errorf("addons.kubeProxy", kubeProxy, "is not for Kubernetes %s; kube-proxy must match the cluster's minor version", args.Version)
	}
	return nil
}

func knownAddonVersions() []string {
	versions := make([]string, 0, len(DefaultAddonVersions))
	for version := range DefaultAddonVersions {
		versions = append(versions, version)
	}
	sort.Strings(versions)
	return versions
}

func validateAdminPrincipals(arns []string) error {
	seen := map[string]int{}
	for i, arn := range arns {
		field := fmt.Sprintf("adminPrincipalArns[%d]", i)
		if strings.Contains(arn, ":assumed-role/") {
			return validate.Errorf(field, arn, "is a session of a role; name the role itself, arn:aws:iam::<account>:role/<name>")
		}
		if !principalPattern.MatchString(arn) {
			return validate.Errorf(field, arn, "is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/ci")
		}
		if first, dup := seen[arn]; dup {
			return validate.Errorf(field, arn, "repeats adminPrincipalArns[%d]", first)
		}
		seen[arn] = i
	}
	return nil
}
