package lke

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
)

// The node firewall follows the pools from inside the cluster: Linode's cloud-firewall-controller, which LKE's
// network documentation names for applying its firewall rules to a cluster, watches the Nodes and attaches
// every node that joins (a pool scaling up, a recycle, an upgrade) to one Cloud Firewall, labelled
// lke-<cluster ID>. Pulumi cannot: the provider attaches firewalls by instance, known only at `pulumi up`, and
// has no firewall for a node pool. The controller reads the API token LKE keeps in kube-system/linode.
const (
	// FirewallControllerImage is the controller, pinned by tag: no digest of v0.2.1 could be resolved where
	// this was written (no registry access, and neither the controller's chart nor its release notes record
	// one). Resolve it (`crane digest docker.io/linode/cloud-firewall-controller:v0.2.1`) and give
	// LKEArgs.FirewallControllerImage as name:tag@sha256:… to pin it; the node pulls it once either way.
	FirewallControllerImage = "docker.io/linode/cloud-firewall-controller:v0.2.1"
	// firewallNamespace is where LKE keeps the token the controller uses, and where the controller runs.
	firewallNamespace = "kube-system"
	firewallName      = "cloud-firewall-controller"
	firewallGroup     = "networking.linode.com"
	firewallVersion   = "alpha1v1"
	// firewallResource is the CloudFirewall the controller reconciles; it creates one by this name itself when
	// none exists, with its built-in rules, so the stack makes it first, with its own.
	firewallResource = "primary"
)

// rule is one inbound rule of the nodes' firewall.
type rule struct {
	label, protocol, ports, from string
}

// NodeFirewallRules are what the nodes admit, everything else dropped. They are LKE's documented rules
// (kubelet and kube-proxy health 10250 and 10256, WireGuard 51820, cluster DNS 53, Calico BGP 179, node ports
// from NodeBalancers only) and what the controller's own defaults add (Calico Typha 5473, Calico's IP-in-IP,
// ICMP), each from the data center's private network unless it says otherwise. NFS (2049) is not among them.
var NodeFirewallRules = []rule{
	{"icmp", "ICMP", "", "0.0.0.0/0"},
	{"kubelet-kube-proxy", "TCP", "10250,10256", linodekit.PrivateRange},
	{"wireguard", "UDP", "51820", linodekit.PrivateRange},
	{"cluster-dns-tcp", "TCP", "53", linodekit.PrivateRange},
	{"cluster-dns-udp", "UDP", "53", linodekit.PrivateRange},
	{"calico-bgp", "TCP", "179", linodekit.PrivateRange},
	{"calico-typha", "TCP", "5473", linodekit.PrivateRange},
	{"calico-ipip", "IPENCAP", "", linodekit.PrivateRange},
	{"nodeports-tcp", "TCP", "30000-32767", linodekit.NodeBalancerRange},
	{"nodeports-udp", "UDP", "30000-32767", linodekit.NodeBalancerRange},
}

// nodeFirewall runs the controller and gives it the stack's rules. The rules are the stack's own (labels of
// its own, the controller's defaults off), so the controller never rewrites them as a revision of its defaults.
func nodeFirewall(ctx *pulumi.Context, c *LKE, name string, k8s *kubernetes.Provider) error {
	opts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(k8s)}
	crd, err := cloudFirewallDefinition(ctx, name, opts)
	if err != nil {
		return err
	}
	account, err := firewallControllerAccess(ctx, name, opts)
	if err != nil {
		return err
	}
	if _, err := firewallControllerDeployment(ctx, name, c.firewallImage, account, opts); err != nil {
		return err
	}
	if _, err := firewallControllerPolicy(ctx, name, opts); err != nil {
		return err
	}
	inbound := []any{}
	for _, r := range NodeFirewallRules {
		entry := map[string]any{"action": "ACCEPT", "label": r.label, "protocol": r.protocol,
			"addresses": map[string]any{"ipv4": []any{r.from}}}
		if r.ports != "" {
			entry["ports"] = r.ports
		}
		inbound = append(inbound, entry)
	}
	_, err = apiextensions.NewCustomResource(ctx, name+"-nodes", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(firewallGroup + "/" + firewallVersion),
		Kind:       pulumi.String("CloudFirewall"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(firewallResource), Namespace: pulumi.String(firewallNamespace), Labels: firewallLabels()},
		OtherFields: map[string]any{"spec": map[string]any{
			"defaultRules": false,
			"ruleset": map[string]any{
				"inbound": inbound, "inbound_policy": "DROP", "outbound": []any{}, "outbound_policy": "ACCEPT",
			},
		}},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{crd}))...)
	return err
}

func firewallLabels() pulumi.StringMap {
	return pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(firewallName), "app.kubernetes.io/part-of": pulumi.String("gitlab-ha")}
}

// cloudFirewallDefinition declares the CloudFirewall kind the controller serves. Its schema is left open (the
// controller validates what it reads); status is a subresource, as the controller writes it there. It is
// registered untyped so that the object carries Kubernetes' own key, x-kubernetes-preserve-unknown-fields,
// as a CRD read from YAML would: the plan's manifests are then what the API server receives.
func cloudFirewallDefinition(ctx *pulumi.Context, name string, opts []pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	open := map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
	return apiextensions.NewCustomResource(ctx, name+"-cloudfirewalls", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("apiextensions.k8s.io/v1"),
		Kind:       pulumi.String("CustomResourceDefinition"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String("cloudfirewalls." + firewallGroup), Labels: firewallLabels()},
		OtherFields: map[string]any{"spec": map[string]any{
			"group": firewallGroup,
			"scope": "Namespaced",
			"names": map[string]any{"kind": "CloudFirewall", "listKind": "CloudFirewallList", "plural": "cloudfirewalls", "singular": "cloudfirewall"},
			"versions": []any{map[string]any{
				"name": firewallVersion, "served": true, "storage": true,
				"subresources": map[string]any{"status": map[string]any{}},
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "properties": map[string]any{"spec": open, "status": open},
				}},
			}},
		}},
	}, opts...)
}

// firewallControllerAccess is the controller's identity and what it may do: read Nodes, manage CloudFirewalls,
// read Secrets, and elect a leader in kube-system. Secrets are read cluster-wide although the controller uses
// one, kube-system/linode: it reads it through its manager's cached client (cloud-firewall-controller ca7c7da,
// internal/controller/cloudfirewall_controller.go:750-752, with the client of cmd/main.go:156 and a manager of
// cmd/main.go:131 that restricts no cache), which lists and watches Secrets in every namespace before it
// answers; under a Role limited to that one Secret by resourceNames the list would be forbidden and the
// controller's every reconcile would wait on it for ever, leaving new nodes outside the firewall.
func firewallControllerAccess(ctx *pulumi.Context, name string, opts []pulumi.ResourceOption) (*corev1.ServiceAccount, error) {
	meta := func() *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(firewallName), Namespace: pulumi.String(firewallNamespace), Labels: firewallLabels()}
	}
	account, err := corev1.NewServiceAccount(ctx, name+"-firewall-controller", &corev1.ServiceAccountArgs{Metadata: meta()}, opts...)
	if err != nil {
		return nil, err
	}
	verbs := func(v ...string) pulumi.StringArray { return pulumi.ToStringArray(v) }
	rules := func(r ...rbacv1.PolicyRuleInput) rbacv1.PolicyRuleArray { return r }
	subject := rbacv1.SubjectArray{&rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"), Name: pulumi.String(firewallName), Namespace: pulumi.String(firewallNamespace)}}
	clusterRole, err := rbacv1.NewClusterRole(ctx, name+"-firewall-controller", &rbacv1.ClusterRoleArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(firewallName), Labels: firewallLabels()},
		Rules: rules(
			&rbacv1.PolicyRuleArgs{ApiGroups: verbs(""), Resources: verbs("nodes"), Verbs: verbs("get", "list", "watch")},
			&rbacv1.PolicyRuleArgs{ApiGroups: verbs(""), Resources: verbs("secrets"), Verbs: verbs("get", "list", "watch")},
			&rbacv1.PolicyRuleArgs{ApiGroups: verbs(firewallGroup), Resources: verbs("cloudfirewalls"),
				Verbs: verbs("create", "delete", "get", "list", "patch", "update", "watch")},
			&rbacv1.PolicyRuleArgs{ApiGroups: verbs(firewallGroup), Resources: verbs("cloudfirewalls/status"), Verbs: verbs("get", "patch", "update")},
			&rbacv1.PolicyRuleArgs{ApiGroups: verbs(firewallGroup), Resources: verbs("cloudfirewalls/finalizers"), Verbs: verbs("update")},
		),
	}, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := rbacv1.NewClusterRoleBinding(ctx, name+"-firewall-controller", &rbacv1.ClusterRoleBindingArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(firewallName), Labels: firewallLabels()},
		RoleRef:  &rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"), Name: clusterRole.Metadata.Name().Elem()},
		Subjects: subject,
	}, opts...); err != nil {
		return nil, err
	}
	role, err := rbacv1.NewRole(ctx, name+"-firewall-controller", &rbacv1.RoleArgs{
		Metadata: meta(),
		Rules: rules(
			&rbacv1.PolicyRuleArgs{ApiGroups: verbs("coordination.k8s.io"), Resources: verbs("leases"),
				Verbs: verbs("get", "list", "watch", "create", "update", "patch", "delete")},
			&rbacv1.PolicyRuleArgs{ApiGroups: verbs(""), Resources: verbs("events"), Verbs: verbs("create", "patch")},
		),
	}, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := rbacv1.NewRoleBinding(ctx, name+"-firewall-controller", &rbacv1.RoleBindingArgs{
		Metadata: meta(),
		RoleRef:  &rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: role.Metadata.Name().Elem()},
		Subjects: subject,
	}, opts...); err != nil {
		return nil, err
	}
	return account, nil
}

// firewallControllerDeployment runs one controller, as an unprivileged user on a read-only file system, at
// the priority of what keeps the cluster safe.
func firewallControllerDeployment(ctx *pulumi.Context, name, image string, account *corev1.ServiceAccount, opts []pulumi.ResourceOption) (*appsv1.Deployment, error) {
	labels := firewallLabels()
	probe := func(path string, delay int) *corev1.ProbeArgs {
		return &corev1.ProbeArgs{
			HttpGet:             &corev1.HTTPGetActionArgs{Path: pulumi.String(path), Port: pulumi.Int(8081)},
			InitialDelaySeconds: pulumi.Int(delay), PeriodSeconds: pulumi.Int(20),
		}
	}
	nonRoot := pulumi.Int(65532) // the image's user
	return appsv1.NewDeployment(ctx, name+"-firewall-controller", &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(firewallName), Namespace: pulumi.String(firewallNamespace), Labels: labels},
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: labels},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName: account.Metadata.Name().Elem(),
					PriorityClassName:  pulumi.String("system-cluster-critical"),
					SecurityContext: &corev1.PodSecurityContextArgs{
						RunAsNonRoot: pulumi.Bool(true), RunAsUser: nonRoot, RunAsGroup: nonRoot,
						SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					Containers: corev1.ContainerArray{&corev1.ContainerArgs{
						Name:  pulumi.String("controller"),
						Image: pulumi.String(image),
						// What the node holds is what runs: a Docker Hub outage or its anonymous pull limit cannot
						// keep the controller from restarting.
						ImagePullPolicy: pulumi.String("IfNotPresent"),
						Command:         pulumi.ToStringArray([]string{"/manager"}),
						Args:            pulumi.ToStringArray([]string{"--leader-elect", "--health-probe-bind-address=:8081"}),
						Ports:           corev1.ContainerPortArray{&corev1.ContainerPortArgs{Name: pulumi.String("health"), ContainerPort: pulumi.Int(8081)}},
						LivenessProbe:   probe("/healthz", 15),
						ReadinessProbe:  probe("/readyz", 5),
						Resources: &corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String("10m"), "memory": pulumi.String("64Mi"), "ephemeral-storage": pulumi.String("10Mi")},
							Limits:   pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("128Mi"), "ephemeral-storage": pulumi.String("50Mi")},
						},
						SecurityContext: &corev1.SecurityContextArgs{
							AllowPrivilegeEscalation: pulumi.Bool(false), ReadOnlyRootFilesystem: pulumi.Bool(true),
							RunAsNonRoot: pulumi.Bool(true), RunAsUser: nonRoot, RunAsGroup: nonRoot,
							Capabilities: &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
						},
					}},
				},
			},
		},
	}, opts...)
}

// firewallControllerPolicy admits nothing to the controller (its node's kubelet, which probes it, is always
// admitted) and lets it reach only DNS and HTTPS: the API server (443, or 6443 behind the kubernetes
// Service) and the Linode API.
func firewallControllerPolicy(ctx *pulumi.Context, name string, opts []pulumi.ResourceOption) (*networkingv1.NetworkPolicy, error) {
	ports := func(protocol string, numbers ...int) networkingv1.NetworkPolicyPortArray {
		out := networkingv1.NetworkPolicyPortArray{}
		for _, n := range numbers {
			out = append(out, &networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String(protocol), Port: pulumi.Int(n)})
		}
		return out
	}
	return networkingv1.NewNetworkPolicy(ctx, name+"-firewall-controller", &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(firewallName), Namespace: pulumi.String(firewallNamespace), Labels: firewallLabels()},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: firewallLabels()},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				&networkingv1.NetworkPolicyEgressRuleArgs{Ports: append(ports("UDP", 53), ports("TCP", 53)...)},
				&networkingv1.NetworkPolicyEgressRuleArgs{Ports: ports("TCP", 443, 6443)},
			},
		},
	}, opts...)
}
