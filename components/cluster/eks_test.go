package cluster_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/cluster"
	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/internal/awstest"
)

const (
	clusterType   = "aws:eks/cluster:Cluster"
	nodeGroupType = "aws:eks/nodeGroup:NodeGroup"
	roleType      = "aws:iam/role:Role"
	attachType    = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
)

var zones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}

func threeZones() *cluster.EKSArgs {
	subnets := map[string]pulumi.StringInput{}
	for _, zone := range zones {
		subnets[zone] = pulumi.String("subnet-" + zone)
	}
	return &cluster.EKSArgs{
		Region: awstest.Region, VpcID: pulumi.String("vpc-0abc"), VpcCIDR: pulumi.String("10.0.0.0/16"),
		Zones: append([]string(nil), zones...), PrivateSubnetIDs: subnets,
	}
}

func build(t *testing.T, args *cluster.EKSArgs) (*componenttest.Result, *cluster.EKS) {
	t.Helper()
	var eks *cluster.EKS
	result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		eks, err = cluster.NewEKS(ctx, "gitlab", args, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	return result, eks
}

func TestEachZoneGetsItsOwnNodeGroupInItsOwnSubnet(t *testing.T) {
	result, eks := build(t, threeZones())
	groups := result.OfType(nodeGroupType)
	require.Len(t, groups, 3)
	for _, zone := range zones {
		group, ok := result.Find(nodeGroupType, "gitlab-"+zone)
		require.True(t, ok, zone)
		assert.Equal(t, []any{"subnet-" + zone}, group.MustInput(t, "subnetIds"), "only its zone's subnet")
		assert.Equal(t, float64(1), group.MustInput(t, "scalingConfig.minSize"), "every zone keeps capacity")
	}
	asgs := awstest.Value(t, eks.AutoscalingGroups).(map[string]string)
	assert.Len(t, asgs, 3)
	for _, zone := range zones {
		assert.Regexp(t, `^eks-`, asgs[zone], zone)
	}
}

func TestTheControlPlaneEncryptsSecretsLogsEverythingAndIsPrivate(t *testing.T) {
	result, _ := build(t, threeZones())
	eks := result.OfType(clusterType)[0]
	key := result.OfType("aws:kms/key:Key")[0]
	keyARN, _ := key.Output("arn")

	assert.Equal(t, "1.36", eks.InputString("version"))
	assert.Equal(t, "STANDARD", eks.InputString("upgradePolicy.supportType"), "extended support is a choice, not EKS's default")
	assert.Equal(t, keyARN, eks.InputString("encryptionConfig.provider.keyArn"))
	assert.Equal(t, []any{"secrets"}, eks.MustInput(t, "encryptionConfig.resources"))
	assert.Equal(t, true, key.MustInput(t, "enableKeyRotation"))
	assert.ElementsMatch(t, []any{"api", "audit", "authenticator", "controllerManager", "scheduler"}, eks.MustInput(t, "enabledClusterLogTypes"))
	assert.Equal(t, true, eks.MustInput(t, "vpcConfig.endpointPrivateAccess"))
	assert.Equal(t, false, eks.MustInput(t, "vpcConfig.endpointPublicAccess"))
	_, open := eks.Input("vpcConfig.publicAccessCidrs")
	assert.False(t, open)
	assert.Equal(t, "API", eks.InputString("accessConfig.authenticationMode"))
	assert.Equal(t, []any{"subnet-eu-west-1a", "subnet-eu-west-1b", "subnet-eu-west-1c"}, eks.MustInput(t, "vpcConfig.subnetIds"))
}

func TestAPublicEndpointIsOpenOnlyToTheGivenNetworks(t *testing.T) {
	args := threeZones()
	args.PublicEndpoint, args.PublicAccessCIDRs = true, []string{"198.51.100.0/24"}
	result, _ := build(t, args)
	eks := result.OfType(clusterType)[0]
	assert.Equal(t, true, eks.MustInput(t, "vpcConfig.endpointPublicAccess"))
	assert.Equal(t, []any{"198.51.100.0/24"}, eks.MustInput(t, "vpcConfig.publicAccessCidrs"))
}

func TestRolesCarryOnlyTheDocumentedMinimumPolicies(t *testing.T) {
	result, _ := build(t, threeZones())
	trust := map[string]string{}
	for _, role := range result.OfType(roleType) {
		var doc struct {
			Statement []struct {
				Principal struct{ Service string }
			}
		}
		require.NoError(t, json.Unmarshal([]byte(role.InputString("assumeRolePolicy")), &doc))
		require.Len(t, doc.Statement, 1)
		trust[role.Name] = doc.Statement[0].Principal.Service
	}
	assert.Equal(t, map[string]string{"gitlab-control-plane": "eks.amazonaws.com", "gitlab-nodes": "ec2.amazonaws.com"}, trust)

	policies := map[string][]string{}
	for _, attachment := range result.OfType(attachType) {
		role, _ := result.Find(roleType, roleOf(attachment.Name))
		policies[role.Name] = append(policies[role.Name], attachment.InputString("policyArn"))
	}
	assert.Equal(t, []string{cluster.ClusterPolicyARN}, policies["gitlab-control-plane"])
	assert.ElementsMatch(t, []string{cluster.WorkerPolicyARN, cluster.RegistryPolicyARN, cluster.CNIPolicyARN}, policies["gitlab-nodes"])
}

func roleOf(attachmentName string) string {
	for _, role := range []string{"gitlab-control-plane", "gitlab-nodes"} {
		if len(attachmentName) > len(role) && attachmentName[:len(role)] == role {
			return role
		}
	}
	return ""
}

func TestNodesRequireIMDSv2AndEncryptTheirDisks(t *testing.T) {
	result, eks := build(t, threeZones())
	template := result.OfType("aws:ec2/launchTemplate:LaunchTemplate")[0]
	assert.Equal(t, "required", template.InputString("metadataOptions.httpTokens"))
	assert.Equal(t, float64(1), template.MustInput(t, "metadataOptions.httpPutResponseHopLimit"), "pods cannot reach the node's credentials")
	assert.Equal(t, "true", template.InputString("blockDeviceMappings[0].ebs.encrypted"))
	nodeGroup := awstest.Value(t, eks.NodeSecurityGroupID).(string)
	clusterGroup := awstest.Value(t, eks.ClusterSecurityGroupID).(string)
	assert.ElementsMatch(t, []any{nodeGroup, clusterGroup}, template.MustInput(t, "vpcSecurityGroupIds"))
	for _, group := range result.OfType(nodeGroupType) {
		assert.Equal(t, template.ID, group.InputString("launchTemplate.id"), group.Name)
	}
}

func TestTheNodeSecurityGroupAdmitsNothingByItself(t *testing.T) {
	result, _ := build(t, threeZones())
	assert.Empty(t, result.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"))
	egress := result.OfType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
	require.Len(t, egress, 1, "nodes may reach out: images, AWS APIs")
}

func TestTheKubeconfigFetchesATokenAndIsSecret(t *testing.T) {
	result, eks := build(t, threeZones())
	got, err := componenttest.Await(eks.Kubeconfig)
	require.NoError(t, err)
	assert.True(t, got.Secret)
	var config struct {
		Clusters []struct {
			Cluster map[string]string
		}
		Users []struct {
			User struct {
				Token string
				Exec  struct {
					Command string
					Args    []string
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(got.Value.(string)), &config))
	require.Len(t, config.Users, 1)
	assert.Empty(t, config.Users[0].User.Token, "no long-lived token")
	assert.Equal(t, "aws", config.Users[0].User.Exec.Command)
	name := awstest.Value(t, eks.ClusterName).(string)
	assert.Equal(t, []string{"eks", "get-token", "--cluster-name", name, "--region", "eu-west-1", "--output", "json"}, config.Users[0].User.Exec.Args)
	assert.Equal(t, awstest.Value(t, eks.Endpoint), config.Clusters[0].Cluster["server"])

	provider, ok := result.Find("pulumi:providers:kubernetes", "gitlab")
	require.True(t, ok, "a ready Kubernetes provider")
	assert.True(t, provider.InputIsSecret("kubeconfig"))
	assert.Contains(t, awstest.Value(t, eks.OIDCIssuer), "https://oidc.eks.eu-west-1.amazonaws.com/id/")
}

func TestTheClusterIssuerIsRegisteredWithIAMForServiceAccountRoles(t *testing.T) {
	result, eks := build(t, threeZones())
	oidc, ok := result.Find("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "gitlab")
	require.True(t, ok, "an IAM OpenID Connect provider for the cluster's issuer")
	issuer := awstest.Value(t, eks.OIDCIssuer).(string)
	assert.Equal(t, issuer, oidc.Inputs["url"].StringValue())
	assert.Equal(t, []any{"sts.amazonaws.com"}, oidc.Inputs["clientIdLists"].Mappable(), "only STS may accept the tokens")
	assert.Equal(t, "arn:aws:iam::"+componenttest.AccountID+":oidc-provider/"+strings.TrimPrefix(issuer, "https://"),
		awstest.Value(t, eks.OIDCProviderARN))
}

func TestProtectGuardsTheControlPlaneAndItsKeyOnly(t *testing.T) {
	args := threeZones()
	args.Protect = true
	result, _ := build(t, args)
	for _, r := range result.Resources {
		stateful := r.Type == clusterType || r.Type == "aws:kms/key:Key"
		assert.Equal(t, stateful, r.Protect, "%s %s protect", r.Type, r.Name)
		assert.Equal(t, stateful, r.RetainOnDelete, "%s %s retainOnDelete", r.Type, r.Name)
	}
	unprotected, _ := build(t, threeZones())
	for _, r := range unprotected.Resources {
		assert.False(t, r.Protect, "%s %s", r.Type, r.Name)
	}
}

func TestEveryChildIsParentedTaggedAndUsesTheGivenProvider(t *testing.T) {
	args := threeZones()
	args.Tags = map[string]string{"team": "platform"}
	result, _ := build(t, args)
	children := awstest.CheckComponent(t, result, result.Components()[0].URN)
	assert.Len(t, children, len(result.Resources)-2, "all but the provider and the component")
	assert.Empty(t, result.UntaggedAWSResources("team"))
}

func TestBadArgsGiveOneClearErrorAndRegisterNothing(t *testing.T) {
	cases := []struct {
		name string
		edit func(*cluster.EKSArgs)
		want string
	}{
		{"no region", func(a *cluster.EKSArgs) { a.Region = "" }, "region: is required"},
		{"bad version", func(a *cluster.EKSArgs) { a.Version = "v1.33" }, `version: "v1.33" is not a Kubernetes minor version`},
		{"no VPC", func(a *cluster.EKSArgs) { a.VpcID = nil }, "vpcId: is required"},
		{"no zones", func(a *cluster.EKSArgs) { a.Zones = nil }, "zones: 0 zones given; at least 1 needed"},
		{"repeated zone", func(a *cluster.EKSArgs) { a.Zones[2] = "eu-west-1a" }, `zones[2]: "eu-west-1a" repeats zones[0]`},
		{"zone without a subnet", func(a *cluster.EKSArgs) { delete(a.PrivateSubnetIDs, "eu-west-1b") }, `privateSubnetIds["eu-west-1b"]: is required`},
		{"public endpoint with no CIDRs", func(a *cluster.EKSArgs) { a.PublicEndpoint = true }, "publicAccessCidrs: is empty, but publicEndpoint is on"},
		{"CIDRs without a public endpoint", func(a *cluster.EKSArgs) { a.PublicAccessCIDRs = []string{"198.51.100.0/24"} },
			"publicAccessCidrs: is set, but publicEndpoint is off"},
		{"public endpoint open to all", func(a *cluster.EKSArgs) {
			a.PublicEndpoint, a.PublicAccessCIDRs = true, []string{"0.0.0.0/0"}
		}, `publicAccessCidrs[0]: "0.0.0.0/0" opens the API server to the whole internet`},
		{"service range overlapping the VPC", func(a *cluster.EKSArgs) { a.ServiceCIDR = "10.0.128.0/17" },
			`serviceCidr: "10.0.128.0/17" overlaps the VPC 10.0.0.0/16`},
		{"node counts out of order", func(a *cluster.EKSArgs) { a.Nodes = cluster.NodeCounts{Min: 2, Desired: 1, Max: 3} },
			`nodes: "2/1/3" must satisfy 1 <= min <= desired <= max`},
		{"zone with no minimum capacity", func(a *cluster.EKSArgs) { a.Nodes = cluster.NodeCounts{Min: 0, Desired: 1, Max: 3} },
			`nodes: "0/1/3"`},
		{"tiny disk", func(a *cluster.EKSArgs) { a.DiskSizeGiB = 8 }, "diskSizeGiB: 8 is below 20"},
		{"unknown log type", func(a *cluster.EKSArgs) { a.LogTypes = []string{"api", "kubelet"} }, `logTypes[1]: "kubelet" is not one of`},
		{"unknown upgrade policy", func(a *cluster.EKSArgs) { a.UpgradePolicy = "standard" }, `upgradePolicy: "standard" is not STANDARD or EXTENDED`},
		{"an admin's session instead of the role", func(a *cluster.EKSArgs) {
			a.AdminPrincipalARNs = []string{"arn:aws:sts::123456789012:assumed-role/ci/session"}
		}, `adminPrincipalArns[0]: "arn:aws:sts::123456789012:assumed-role/ci/session" is a session of a role`},
		{"an admin that is no IAM principal", func(a *cluster.EKSArgs) { a.AdminPrincipalARNs = []string{"ci"} },
			`adminPrincipalArns[0]: "ci" is not an IAM role or user ARN`},
		{"an admin twice", func(a *cluster.EKSArgs) {
			a.AdminPrincipalARNs = []string{"arn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:role/ci"}
		}, `adminPrincipalArns[1]: "arn:aws:iam::123456789012:role/ci" repeats adminPrincipalArns[0]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := threeZones()
			tc.edit(args)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := cluster.NewEKS(ctx, "gitlab", args)
				return err
			}, fmt.Sprintf("cluster %q: %s", "gitlab", tc.want))
		})
	}
}

func TestNetworkPoliciesAreEnforcedByTheManagedVPCCNIAtPinnedVersions(t *testing.T) {
	result, _ := build(t, threeZones())
	addons := map[string]componenttest.Resource{}
	for _, addon := range result.OfType("aws:eks/addon:Addon") {
		addons[addon.InputString("addonName")] = addon
	}
	require.Len(t, addons, 3, "vpc-cni, kube-proxy and coredns")
	pinned := cluster.DefaultAddonVersions[cluster.DefaultKubernetesVersion]
	assert.Equal(t, pinned.VPCCNI, addons["vpc-cni"].InputString("addonVersion"))
	assert.Equal(t, pinned.KubeProxy, addons["kube-proxy"].InputString("addonVersion"))
	assert.Equal(t, pinned.CoreDNS, addons["coredns"].InputString("addonVersion"))

	var configuration map[string]string
	require.NoError(t, json.Unmarshal([]byte(addons["vpc-cni"].InputString("configurationValues")), &configuration))
	assert.Equal(t, map[string]string{"enableNetworkPolicy": "true"}, configuration, "without it EKS ignores NetworkPolicies")
	for name, addon := range addons {
		assert.Equal(t, "OVERWRITE", addon.InputString("resolveConflictsOnCreate"), "%s takes over what EKS bootstrapped", name)
	}

	// coredns is healthy only once it runs on a node; the DaemonSets need none, so they do not wait for nodes.
	groups := result.OfType(nodeGroupType)
	for _, group := range groups {
		assert.Contains(t, addons["coredns"].Dependencies, group.URN)
		assert.NotContains(t, addons["vpc-cni"].Dependencies, group.URN)
		assert.NotContains(t, addons["kube-proxy"].Dependencies, group.URN)
	}
}

func TestAnotherKubernetesVersionNeedsItsOwnAddonVersions(t *testing.T) {
	args := threeZones()
	args.Version = "1.37"
	componenttest.Rejects(t, func(ctx *pulumi.Context) error {
		_, err := cluster.NewEKS(ctx, "gitlab", args)
		return err
	}, "addons: are needed for Kubernetes 1.37")

	args.Addons = &cluster.AddonVersions{VPCCNI: "v1.22.3-eksbuild.1", KubeProxy: "v1.37.0-eksbuild.1", CoreDNS: "v1.14.3-eksbuild.3"}
	result, _ := build(t, args)
	assert.Len(t, result.OfType("aws:eks/addon:Addon"), 3)
}

// A cluster moves one minor at a time, each with add-on builds made for it: every minor from the oldest a
// running stack may be on to the default has its row, and kube-proxy's minor is the cluster's.
func TestEveryMinorFromRunningClustersToTheDefaultHasItsAddons(t *testing.T) {
	for _, version := range []string{"1.33", "1.34", "1.35", "1.36"} {
		pinned, ok := cluster.DefaultAddonVersions[version]
		require.True(t, ok, version)
		assert.True(t, strings.HasPrefix(pinned.KubeProxy, "v"+version+"."), "%s: %s", version, pinned.KubeProxy)
		args := threeZones()
		args.Version = version
		result, _ := build(t, args)
		assert.Len(t, result.OfType("aws:eks/addon:Addon"), 3, version)
	}
	assert.Contains(t, cluster.DefaultAddonVersions, cluster.DefaultKubernetesVersion)
}

func TestNamedAdminsGetAccessEntriesWithClusterAdmin(t *testing.T) {
	args := threeZones()
	args.AdminPrincipalARNs = []string{"arn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:user/alice"}
	result, _ := build(t, args)
	eks := result.OfType(clusterType)[0]
	assert.Equal(t, true, eks.MustInput(t, "accessConfig.bootstrapClusterCreatorAdminPermissions"), "the creator keeps its own entry")
	entries := result.OfType("aws:eks/accessEntry:AccessEntry")
	associations := result.OfType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
	require.Len(t, entries, 2)
	require.Len(t, associations, 2)
	for i, arn := range args.AdminPrincipalARNs {
		assert.Equal(t, arn, entries[i].InputString("principalArn"))
		assert.Equal(t, "STANDARD", entries[i].InputString("type"))
		assert.Contains(t, entries[i].DataDependencies, eks.URN, "an entry of this cluster")
		assert.Equal(t, arn, associations[i].InputString("principalArn"))
		assert.Equal(t, cluster.ClusterAdminPolicyARN, associations[i].InputString("policyArn"))
		assert.Equal(t, "cluster", associations[i].InputString("accessScope.type"))
		assert.Contains(t, associations[i].DataDependencies, entries[i].URN, "granted once the entry exists")
	}
	assert.Regexp(t, `^gitlab-admin-ci-[0-9a-f]{6}$`, entries[0].Name, "named after the principal, not its place in the list")

	// Dropping the first admin leaves the second's entry as it was.
	args.AdminPrincipalARNs = args.AdminPrincipalARNs[1:]
	again, _ := build(t, args)
	require.Len(t, again.OfType("aws:eks/accessEntry:AccessEntry"), 1)
	assert.Equal(t, entries[1].Name, again.OfType("aws:eks/accessEntry:AccessEntry")[0].Name)
}

func TestExtendedSupportIsChosenByName(t *testing.T) {
	args := threeZones()
	args.UpgradePolicy = cluster.UpgradeExtended
	result, _ := build(t, args)
	assert.Equal(t, "EXTENDED", result.OfType(clusterType)[0].InputString("upgradePolicy.supportType"))
}

// The pre-flight asks EKS (the mock answers as EKS's calendar stood on 2026-12-02).
func TestEKSIsAskedWhetherItOffersTheVersionAndTheBuilds(t *testing.T) {
	ask := func(args *cluster.EKSArgs) error {
		var err error
		result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
			err = cluster.EKSVersionOffered(ctx, args, pulumi.Provider(provider))
			if err == nil {
				err = cluster.EKSAddonsOffered(ctx, args, pulumi.Provider(provider))
			}
			return nil
		})
		require.NoError(t, result.Err)
		return err
	}
	assert.NoError(t, ask(threeZones()), "the default is offered, in standard support, with its builds")

	args := threeZones()
	args.Version = "1.29"
	args.Addons = &cluster.AddonVersions{VPCCNI: "v1.22.3-eksbuild.1", KubeProxy: "v1.29.0-eksbuild.1", CoreDNS: "v1.11.1-eksbuild.1"}
	assert.ErrorContains(t, ask(args), `version: "1.29" is not a Kubernetes version EKS offers today; in standard support: 1.34, 1.35, 1.36`)

	args = threeZones()
	args.Version = "1.33"
	assert.ErrorContains(t, ask(args), `version: "1.33" is in EKS extended support, billed at the extended rate`)
	args.UpgradePolicy = cluster.UpgradeExtended
	assert.NoError(t, ask(args), "extended support, chosen by name")

	args = threeZones()
	args.Addons = &cluster.AddonVersions{VPCCNI: "v1.23.0-eksbuild.1", KubeProxy: "v1.36.0-eksbuild.14", CoreDNS: "v1.14.3-eksbuild.3"}
	assert.ErrorContains(t, ask(args), `addons.vpcCni: "v1.23.0-eksbuild.1" is not an vpc-cni build EKS offers for Kubernetes 1.36; the newest is v1.22.3-eksbuild.1`)
}
