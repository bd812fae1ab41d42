package linodedb

import (
	"fmt"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// NodeAllowListTypeToken is the allow-list reconciler's Pulumi type.
const NodeAllowListTypeToken = "gitlab-ha:database:NodeAllowList"

// DefaultReconcilerImage runs the reconciler's script: CPython 3.13 on Alpine, whose standard library has all
// the script needs (an HTTPS client, JSON, IP addresses), by the digest of its multi-architecture index.
const DefaultReconcilerImage = "docker.io/library/python:3.13-alpine@sha256:2d9aefe2fef018a7eb2c13064c89c71929800fd2e5dccdbf52ea5da5bb8d929a"

// TokenScopes are the Linode API scopes of the reconciler's token. Linode scopes a token by kind of
// resource, not by resource: the token can read and change every managed database of the account (the
// reconciler reads and writes one, its allow-list only). It lives in state as a secret and in the cluster in
// one Secret, which only the reconciler's pod reads.
const TokenScopes = "databases:read_write"

// reconcilerName names the reconciler's objects in its namespace.
const reconcilerName = "database-allow-list"

// reconcilerUser is the image's nobody.
const reconcilerUser = 65534

// NodeAllowListArgs configures the reconciler.
type NodeAllowListArgs struct {
	// DatabaseID of the Linode PostgreSQL whose allow-list the reconciler keeps (LinodePostgres.DatabaseID).
	// Required.
	DatabaseID pulumi.IntInput
	// ClientCIDRs are kept in the allow-list beside the nodes: the database's ClientCIDRs. Default none.
	ClientCIDRs []string
	// Namespace the reconciler runs in, which must exist. Default "kube-system", beside LKE's own controllers.
	Namespace string
	// Image that runs the script, with python3 on its path. Default DefaultReconcilerImage.
	Image string
	// IntervalSeconds between two looks at the nodes, 10-300: how long a new node waits, at most, before its
	// address is sent to Linode. Default 30.
	IntervalSeconds int
}

// NodeAllowList is the component: a Deployment in the cluster that keeps the database's allow-list equal to
// the public IPv4 addresses of the cluster's nodes, as /32s, and the client networks. It needs two
// providers, given with pulumi.Providers: Linode's for its API token, the cluster's Kubernetes provider.
type NodeAllowList struct {
	pulumi.ResourceState
}

func withNodeAllowListDefaults(args NodeAllowListArgs) NodeAllowListArgs {
	if args.Namespace == "" {
		args.Namespace = "kube-system"
	}
	if args.Image == "" {
		args.Image = DefaultReconcilerImage
	}
	if args.IntervalSeconds == 0 {
		args.IntervalSeconds = 30
	}
	return args
}

// ValidateNodeAllowList reports the first problem with args.
func ValidateNodeAllowList(args *NodeAllowListArgs) error {
	return validateNodeAllowList(withNodeAllowListDefaults(*args))
}

func validateNodeAllowList(a NodeAllowListArgs) error {
	if a.DatabaseID == nil {
		return validate.Missing("databaseId")
	}
	if err := validate.DNSLabel("namespace", a.Namespace); err != nil {
		return err
	}
	if a.Image == "" || strings.ContainsAny(a.Image, " \t\n") {
		return validate.Errorf("image", a.Image, "is not an image reference")
	}
	if a.IntervalSeconds < 10 || a.IntervalSeconds > 300 {
		return validate.Errorf("intervalSeconds", a.IntervalSeconds, "is outside 10-300")
	}
	return linodekit.PublicRanges("clientCidrs", a.ClientCIDRs)
}

// NewNodeAllowList validates args, then creates the reconciler's Linode token and, in the cluster, its
// Secret, script, identity (list Nodes, nothing else), Deployment and NetworkPolicy.
func NewNodeAllowList(ctx *pulumi.Context, name string, args *NodeAllowListArgs, opts ...pulumi.ResourceOption) (*NodeAllowList, error) {
	if args == nil {
		return nil, fmt.Errorf("database allow-list %q: args are required", name)
	}
	a := withNodeAllowListDefaults(*args)
	if err := validateNodeAllowList(a); err != nil {
		return nil, fmt.Errorf("database allow-list %q: %w", name, err)
	}
	r := &NodeAllowList{}
	if err := ctx.RegisterComponentResource(NodeAllowListTypeToken, name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)
	token, err := linode.NewToken(ctx, name, &linode.TokenArgs{
		Label: pulumi.String(linodekit.Label(ctx, name)), Scopes: pulumi.String(TokenScopes),
	}, parent)
	if err != nil {
		return nil, err
	}
	meta := func() *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(reconcilerName), Namespace: pulumi.String(a.Namespace), Labels: reconcilerLabels()}
	}
	secret, err := corev1.NewSecret(ctx, name, &corev1.SecretArgs{
		Metadata:   meta(),
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{"token": token.Token},
	}, parent)
	if err != nil {
		return nil, err
	}
	script, err := corev1.NewConfigMap(ctx, name, &corev1.ConfigMapArgs{
		Metadata: meta(),
		Data:     pulumi.StringMap{"allowlist.py": pulumi.String(ReconcilerScript)},
	}, parent)
	if err != nil {
		return nil, err
	}
	account, err := reconcilerAccess(ctx, name, a, meta, parent)
	if err != nil {
		return nil, err
	}
	if _, err := reconcilerDeployment(ctx, name, a, meta, account, secret, script, parent); err != nil {
		return nil, err
	}
	if _, err := reconcilerPolicy(ctx, name, meta, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{}); err != nil {
		return nil, err
	}
	return r, nil
}

func reconcilerLabels() pulumi.StringMap {
	return pulumi.StringMap{
		"app.kubernetes.io/name": pulumi.String(reconcilerName), "app.kubernetes.io/component": pulumi.String("database"),
		"app.kubernetes.io/part-of": pulumi.String("gitlab-ha"),
	}
}

// reconcilerAccess is the reconciler's identity: it may list the cluster's Nodes, and nothing else.
func reconcilerAccess(ctx *pulumi.Context, name string, a NodeAllowListArgs, meta func() *metav1.ObjectMetaArgs,
	opts ...pulumi.ResourceOption) (*corev1.ServiceAccount, error) {
	account, err := corev1.NewServiceAccount(ctx, name, &corev1.ServiceAccountArgs{Metadata: meta()}, opts...)
	if err != nil {
		return nil, err
	}
	cluster := &metav1.ObjectMetaArgs{Name: pulumi.String("gitlab-ha-" + reconcilerName), Labels: reconcilerLabels()}
	role, err := rbacv1.NewClusterRole(ctx, name, &rbacv1.ClusterRoleArgs{
		Metadata: cluster,
		Rules: rbacv1.PolicyRuleArray{&rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{""}), Resources: pulumi.ToStringArray([]string{"nodes"}),
			Verbs: pulumi.ToStringArray([]string{"list"}),
		}},
	}, opts...)
	if err != nil {
		return nil, err
	}
	_, err = rbacv1.NewClusterRoleBinding(ctx, name, &rbacv1.ClusterRoleBindingArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("gitlab-ha-" + reconcilerName), Labels: reconcilerLabels()},
		RoleRef:  &rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"), Name: role.Metadata.Name().Elem()},
		Subjects: rbacv1.SubjectArray{&rbacv1.SubjectArgs{
			Kind: pulumi.String("ServiceAccount"), Name: account.Metadata.Name().Elem(), Namespace: pulumi.String(a.Namespace),
		}},
	}, opts...)
	return account, err
}

// reconcilerDeployment runs one reconciler (two would only race to write the same list), as nobody on a
// read-only file system, at the priority of what keeps the cluster running. It is live while its loop turns:
// each turn touches a file, and the probe restarts a loop that has not turned for ten intervals.
func reconcilerDeployment(ctx *pulumi.Context, name string, a NodeAllowListArgs, meta func() *metav1.ObjectMetaArgs,
	account *corev1.ServiceAccount, secret *corev1.Secret, script *corev1.ConfigMap, opts ...pulumi.ResourceOption) (*appsv1.Deployment, error) {
	labels := reconcilerLabels()
	user := pulumi.Int(reconcilerUser)
	turning := func(intervals int) *corev1.ProbeArgs {
		check := fmt.Sprintf("import os, sys, time; sys.exit(time.time() - os.path.getmtime(%q) > %d)", heartbeatFile, intervals*a.IntervalSeconds)
		return &corev1.ProbeArgs{
			Exec:                &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{"python3", "-c", check})},
			InitialDelaySeconds: pulumi.Int(a.IntervalSeconds), PeriodSeconds: pulumi.Int(a.IntervalSeconds), TimeoutSeconds: pulumi.Int(5),
		}
	}
	env := corev1.EnvVarArray{
		&corev1.EnvVarArgs{Name: pulumi.String("DATABASE_ID"), Value: pulumi.Sprintf("%d", a.DatabaseID)},
		&corev1.EnvVarArgs{Name: pulumi.String("CLIENT_CIDRS"), Value: pulumi.String(strings.Join(a.ClientCIDRs, ","))},
		&corev1.EnvVarArgs{Name: pulumi.String("INTERVAL_SECONDS"), Value: pulumi.String(fmt.Sprint(a.IntervalSeconds))},
		&corev1.EnvVarArgs{Name: pulumi.String("PYTHONDONTWRITEBYTECODE"), Value: pulumi.String("1")},
		&corev1.EnvVarArgs{Name: pulumi.String("LINODE_TOKEN"), ValueFrom: &corev1.EnvVarSourceArgs{
			SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: secret.Metadata.Name().Elem(), Key: pulumi.String("token")},
		}},
	}
	return appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: meta(),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Strategy: &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")},
			Selector: &metav1.LabelSelectorArgs{MatchLabels: labels},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName:           account.Metadata.Name().Elem(),
					AutomountServiceAccountToken: pulumi.Bool(true), // it lists the Nodes
					EnableServiceLinks:           pulumi.Bool(false),
					PriorityClassName:            pulumi.String("system-cluster-critical"),
					SecurityContext: &corev1.PodSecurityContextArgs{
						RunAsNonRoot: pulumi.Bool(true), RunAsUser: user, RunAsGroup: user,
						SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					Containers: corev1.ContainerArray{&corev1.ContainerArgs{
						Name:            pulumi.String("reconciler"),
						Image:           pulumi.String(a.Image),
						ImagePullPolicy: pulumi.String("IfNotPresent"), // by digest: what the node holds is what was pinned
						Command:         pulumi.ToStringArray([]string{"python3", "-u", scriptDir + "/allowlist.py"}),
						Env:             env,
						LivenessProbe:   turning(10),
						ReadinessProbe:  turning(3),
						Resources: &corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String("10m"), "memory": pulumi.String("32Mi"), "ephemeral-storage": pulumi.String("1Mi")},
							Limits:   pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("64Mi"), "ephemeral-storage": pulumi.String("10Mi")},
						},
						SecurityContext: &corev1.SecurityContextArgs{
							AllowPrivilegeEscalation: pulumi.Bool(false), ReadOnlyRootFilesystem: pulumi.Bool(true), Privileged: pulumi.Bool(false),
							RunAsNonRoot: pulumi.Bool(true), RunAsUser: user, RunAsGroup: user,
							Capabilities: &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
						},
						VolumeMounts: corev1.VolumeMountArray{
							&corev1.VolumeMountArgs{Name: pulumi.String("script"), MountPath: pulumi.String(scriptDir), ReadOnly: pulumi.Bool(true)},
							&corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
						},
					}},
					Volumes: corev1.VolumeArray{
						&corev1.VolumeArgs{Name: pulumi.String("script"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: script.Metadata.Name().Elem()}},
						&corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("1Mi")}},
					},
				},
			},
		},
	}, opts...)
}

// reconcilerPolicy admits nothing to the reconciler (its node's kubelet, which probes it, is always admitted)
// and lets it reach only DNS and HTTPS: the API server (443, or 6443 behind the kubernetes Service) and the
// Linode API.
func reconcilerPolicy(ctx *pulumi.Context, name string, meta func() *metav1.ObjectMetaArgs, opts ...pulumi.ResourceOption) (*networkingv1.NetworkPolicy, error) {
	ports := func(protocol string, numbers ...int) networkingv1.NetworkPolicyPortArray {
		out := networkingv1.NetworkPolicyPortArray{}
		for _, n := range numbers {
			out = append(out, &networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String(protocol), Port: pulumi.Int(n)})
		}
		return out
	}
	return networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: meta(),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: reconcilerLabels()},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				&networkingv1.NetworkPolicyEgressRuleArgs{Ports: append(ports("UDP", 53), ports("TCP", 53)...)},
				&networkingv1.NetworkPolicyEgressRuleArgs{Ports: ports("TCP", 443, 6443)},
			},
		},
	}, opts...)
}
