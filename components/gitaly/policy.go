package gitaly

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// gitLabInternalPort is where Gitaly's hooks reach GitLab's internal API: the GitLab pods' HTTP port, behind
// GitLab's Service.
const gitLabInternalPort = 80

// newNetworkPolicy admits Gitaly's port from GitLab's namespace alone and its metrics port from the
// monitoring namespace alone, and lets Gitaly reach only GitLab's HTTP port (its hooks call the internal API on
// a push) and DNS.
func newNetworkPolicy(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	clientNamespace, monitoringNamespace string) (*networkingv1.NetworkPolicy, error) {
	client := &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
		"kubernetes.io/metadata.name": pulumi.String(clientNamespace),
	}}
	monitoring := &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
		"kubernetes.io/metadata.name": pulumi.String(monitoringNamespace),
	}}
	tcp := func(port int) *networkingv1.NetworkPolicyPortArgs {
		return &networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(port), Protocol: pulumi.String("TCP")}
	}
	return networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: namespace, Labels: labels(name, "")},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: selector(name, "")},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{
				&networkingv1.NetworkPolicyIngressRuleArgs{
					From:  networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: client}},
					Ports: networkingv1.NetworkPolicyPortArray{tcp(Port)},
				},
				&networkingv1.NetworkPolicyIngressRuleArgs{
					From:  networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: monitoring}},
					Ports: networkingv1.NetworkPolicyPortArray{tcp(MetricsPort)},
				},
			},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				&networkingv1.NetworkPolicyEgressRuleArgs{
					To:    networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: client}},
					Ports: networkingv1.NetworkPolicyPortArray{tcp(gitLabInternalPort)},
				},
				&networkingv1.NetworkPolicyEgressRuleArgs{Ports: networkingv1.NetworkPolicyPortArray{
					tcp(53), &networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(53), Protocol: pulumi.String("UDP")},
				}},
			},
		},
	}, pulumi.Parent(parent))
}
