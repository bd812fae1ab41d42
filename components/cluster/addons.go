package cluster

import (
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// AddonVersions pins the EKS managed add-ons the component installs, so that a cluster upgrade moves them in
// a reviewed diff rather than whenever EKS changes its default.
type AddonVersions struct {
	// VPCCNI is the vpc-cni build; its network policy agent (1.14 and later) enforces NetworkPolicies.
	VPCCNI string
	// KubeProxy is the kube-proxy build; its minor version must be the cluster's.
	KubeProxy string
	// CoreDNS is the coredns build.
	CoreDNS string
}

// DefaultAddonVersions are the add-on builds EKS publishes for each Kubernetes version the component knows,
// one row per minor so that a cluster steps up one minor at a time with builds made for it. kube-proxy and
// coredns are the latest of each minor in the EKS user guide's tables ("Manage kube-proxy", "Manage CoreDNS",
// as published for 1.31-1.36); vpc-cni is v1.21.1-eksbuild.8 on 1.33 (what `eksctl utils
// describe-addon-versions --kubernetes-version 1.33 --name vpc-cni` listed first on 2026-05-19) and
// v1.22.3-eksbuild.1 from 1.34 (published by 2026-07-08; EKS publishes each vpc-cni build for every minor in
// support), one CNI minor per step. The pre-flight asks EKS (EKSAddonsOffered) before an update. Another
// cluster version needs EKSArgs.Addons.
var DefaultAddonVersions = map[string]AddonVersions{
	"1.33": {VPCCNI: "v1.21.1-eksbuild.8", KubeProxy: "v1.33.10-eksbuild.13", CoreDNS: "v1.12.4-eksbuild.18"},
	"1.34": {VPCCNI: "v1.22.3-eksbuild.1", KubeProxy: "v1.34.6-eksbuild.13", CoreDNS: "v1.13.2-eksbuild.11"},
	"1.35": {VPCCNI: "v1.22.3-eksbuild.1", KubeProxy: "v1.35.3-eksbuild.13", CoreDNS: "v1.14.3-eksbuild.3"},
	"1.36": {VPCCNI: "v1.22.3-eksbuild.1", KubeProxy: "v1.36.0-eksbuild.14", CoreDNS: "v1.14.3-eksbuild.3"},
}

var addonVersionPattern = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+$`)

// networkPolicyOn turns on the VPC CNI's network policy agent: without it EKS accepts NetworkPolicies and
// enforces none of them (the default), so the policies that admit only GitLab's pods to Redis would be
// decoration.
const networkPolicyOn = `{"enableNetworkPolicy":"true"}`

// addons replaces the self-managed vpc-cni, kube-proxy and coredns that EKS bootstraps with managed add-ons
// at pinned versions. The two DaemonSets need no node to become active; coredns is a Deployment, which EKS
// reports healthy only once it runs, so it waits for the node groups.
func (c *EKS) addons(ctx *pulumi.Context, name string, args EKSArgs, cluster *eks.Cluster, nodeGroups []pulumi.Resource) error {
	addon := func(addonName, version, configuration string, opts ...pulumi.ResourceOption) error {
		addonArgs := &eks.AddonArgs{
			ClusterName: cluster.Name, AddonName: pulumi.String(addonName), AddonVersion: pulumi.String(version),
			// The add-on takes over what EKS installed, and stays as this program says.
			ResolveConflictsOnCreate: pulumi.String("OVERWRITE"), ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
			Tags: awstags.For(componentTag, name+"-"+addonName, args.Tags),
		}
		if configuration != "" {
			addonArgs.ConfigurationValues = pulumi.String(configuration)
		}
		_, err := eks.NewAddon(ctx, name+"-"+addonName, addonArgs, append(opts, pulumi.Parent(c))...)
		return err
	}
	if err := addon("vpc-cni", args.Addons.VPCCNI, networkPolicyOn); err != nil {
		return err
	}
	if err := addon("kube-proxy", args.Addons.KubeProxy, ""); err != nil {
		return err
	}
	return addon("coredns", args.Addons.CoreDNS, "", pulumi.DependsOn(nodeGroups))
}
