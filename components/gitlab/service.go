package gitlab

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
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
	}, pulumi.Parent(parent))
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
			Selector:       &metav1.LabelSelectorArgs{MatchLabels: toStringMap(selectorLabels(name, WebserviceComponent))},
		},
	}, pulumi.Parent(parent))
}
