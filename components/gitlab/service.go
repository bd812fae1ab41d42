package gitlab

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newService creates the one Service in front of every zone's pods. It selects on the instance and the
// webservice component, not on a zone, so that losing a zone removes only that zone's endpoints.
func newService(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	args GitLabArgs) (*corev1.Service, error) {
	port := func(portName string, number, nodePort int) *corev1.ServicePortArgs {
		p := &corev1.ServicePortArgs{
			Name: pulumi.String(portName), Port: pulumi.Int(number), TargetPort: pulumi.String(portName),
			Protocol: pulumi.String("TCP"),
		}
		if nodePort != 0 {
			p.NodePort = pulumi.Int(nodePort)
		}
		return p
	}
	ports := corev1.ServicePortArray{port("http", httpPort, args.Service.NodePorts.HTTP)}
	if args.TLSSecretName != "" {
		ports = append(ports, port("https", httpsPort, args.Service.NodePorts.HTTPS))
	}
	ports = append(ports, port("ssh", sshPort, args.Service.NodePorts.SSH))

	spec := &corev1.ServiceSpecArgs{
		Type:     pulumi.String(args.Service.Type),
		Selector: toStringMap(selectorLabels(name, WebserviceComponent)),
		Ports:    ports,
	}
	if args.Service.Type == "LoadBalancer" {
		spec.LoadBalancerSourceRanges = args.Service.LoadBalancerSourceRanges
	}
	return corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(name),
			Namespace:   namespace,
			Labels:      toStringMap(standardLabels(name, WebserviceComponent)),
			Annotations: args.Service.Annotations,
		},
		Spec: spec,
	}, pulumi.Parent(parent), waitFor(serviceWait))
}

// newDisruptionBudget lets a voluntary disruption (a node drain, a cluster upgrade) take at most one GitLab
// pod at a time across all zones. maxUnavailable rather than minAvailable: with one replica in all, a
// minAvailable of 1 would block every drain forever.
func newDisruptionBudget(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput) (*policyv1.PodDisruptionBudget, error) {
	return policyv1.NewPodDisruptionBudget(ctx, name, &policyv1.PodDisruptionBudgetArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(name),
			Namespace: namespace,
			Labels:    toStringMap(standardLabels(name, WebserviceComponent)),
		},
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(1),
			// A pod that is not ready serves nobody: evicting it must never be what blocks a node drain.
			UnhealthyPodEvictionPolicy: pulumi.String("AlwaysAllow"),
			Selector:                   &metav1.LabelSelectorArgs{MatchLabels: toStringMap(selectorLabels(name, WebserviceComponent))},
		},
	}, pulumi.Parent(parent))
}

// newNetworkPolicy admits to GitLab's pods only the ports the Service exposes (Gitaly, Puma and the metrics
// endpoints stay unreachable from other pods), and says plainly that they may reach out anywhere: the
// database, Redis, DNS, object storage, and whatever webhooks and integrations users configure.
func newNetworkPolicy(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	args GitLabArgs) (*networkingv1.NetworkPolicy, error) {
	ports := networkingv1.NetworkPolicyPortArray{
		&networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(httpPort), Protocol: pulumi.String("TCP")},
		&networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(sshPort), Protocol: pulumi.String("TCP")},
	}
	if args.TLSSecretName != "" {
		ports = append(ports, &networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(httpsPort), Protocol: pulumi.String("TCP")})
	}
	return networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(name),
			Namespace: namespace,
			Labels:    toStringMap(standardLabels(name, WebserviceComponent)),
		},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: toStringMap(selectorLabels(name, WebserviceComponent))},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
			Ingress:     networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{Ports: ports}},
			Egress:      networkingv1.NetworkPolicyEgressRuleArray{&networkingv1.NetworkPolicyEgressRuleArgs{}},
		},
	}, pulumi.Parent(parent))
}

// newOutboundOnlyNetworkPolicy admits nothing to a component's pods, which serve nobody, and lets them reach
// the database, Redis, DNS and object storage wherever those are.
func newOutboundOnlyNetworkPolicy(ctx *pulumi.Context, parent pulumi.Resource, name, component string,
	namespace pulumi.StringInput) (*networkingv1.NetworkPolicy, error) {
	return networkingv1.NewNetworkPolicy(ctx, name+"-"+component, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(name + "-" + component),
			Namespace: namespace,
			Labels:    toStringMap(standardLabels(name, component)),
		},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: toStringMap(selectorLabels(name, component))},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
			Egress:      networkingv1.NetworkPolicyEgressRuleArray{&networkingv1.NetworkPolicyEgressRuleArgs{}},
		},
	}, pulumi.Parent(parent))
}
