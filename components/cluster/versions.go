package cluster

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// EKS support statuses (getClusterVersions' versionStatus).
const (
	standardSupport = "STANDARD_SUPPORT"
	extendedSupport = "EXTENDED_SUPPORT"
)

// EKSVersionOffered asks EKS which Kubernetes versions it offers and refuses (field "version") one it does
// not, and one already in extended support under UpgradeStandard, which would leave the stack paying the
// extended price it asked not to. Invoke options carry the AWS provider.
func EKSVersionOffered(ctx *pulumi.Context, args *EKSArgs, opts ...pulumi.InvokeOption) error {
	a := withEKSDefaults(*args)
	offered, err := eks.GetClusterVersions(ctx, &eks.GetClusterVersionsArgs{ClusterType: pulumi.StringRef("eks")}, opts...)
	if err != nil {
		return fmt.Errorf("asking EKS for its Kubernetes versions: %w", err)
	}
	var standard []string
	status := ""
	for _, v := range offered.ClusterVersions {
		if v.ClusterVersion == a.Version {
			status = v.VersionStatus
		}
		if v.VersionStatus == standardSupport {
			standard = append(standard, v.ClusterVersion)
		}
	}
	sort.Strings(standard)
	switch {
	case status == "":
		return validate.Errorf("version", a.Version, "is not a Kubernetes version EKS offers today; in standard support: %s", strings.Join(standard, ", "))
	case status == extendedSupport && a.UpgradePolicy == UpgradeStandard:
		return validate.Errorf("version", a.Version, "is in EKS extended support, billed at the extended rate; choose one in standard support (%s), "+
			"or set upgradePolicy %s to stay on it", strings.Join(standard, ", "), UpgradeExtended)
	case status != standardSupport && status != extendedSupport:
		return validate.Errorf("version", a.Version, "is %s on EKS; in standard support: %s", status, strings.Join(standard, ", "))
	}
	return nil
}

// EKSAddonsOffered asks EKS for the newest build of each pinned add-on for the cluster's version and refuses
// a pin newer than it (fields "addons.vpcCni", "addons.kubeProxy", "addons.coreDns"): a build EKS has not
// published for that version. EKS lists no withdrawn builds here, so an old pin passes; `aws eks
// describe-addon-versions` says whether it is still offered.
func EKSAddonsOffered(ctx *pulumi.Context, args *EKSArgs, opts ...pulumi.InvokeOption) error {
	a := withEKSDefaults(*args)
	if a.Addons == nil {
		return nil // validateEKS names the missing pins
	}
	for _, addon := range []struct{ field, name, pinned string }{
		{"addons.vpcCni", "vpc-cni", a.Addons.VPCCNI}, {"addons.kubeProxy", "kube-proxy", a.Addons.KubeProxy},
		{"addons.coreDns", "coredns", a.Addons.CoreDNS},
	} {
		newest, err := eks.GetAddonVersion(ctx, &eks.GetAddonVersionArgs{
			AddonName: addon.name, KubernetesVersion: a.Version, MostRecent: pulumi.BoolRef(true),
		}, opts...)
		if err != nil {
			return fmt.Errorf("asking EKS for the %s builds of Kubernetes %s: %w", addon.name, a.Version, err)
		}
		if newerBuild(addon.pinned, newest.Version) {
			return validate.Errorf(addon.field, addon.pinned, "is not an %s build EKS offers for Kubernetes %s; the newest is %s",
				addon.name, a.Version, newest.Version)
		}
	}
	return nil
}

// newerBuild reports whether add-on build a (v1.2.3-eksbuild.4) is newer than b.
func newerBuild(a, b string) bool {
	parse := func(build string) []int {
		var parts []int
		for _, field := range strings.FieldsFunc(strings.TrimPrefix(build, "v"), func(r rune) bool { return r == '.' || r == '-' }) {
			if n, err := strconv.Atoi(field); err == nil {
				parts = append(parts, n)
			}
		}
		return parts
	}
	pa, pb := parse(a), parse(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] != pb[i] {
			return pa[i] > pb[i]
		}
	}
	return len(pa) > len(pb)
}
