package gitlab

import (
	"regexp"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
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
	var ports corev1.ServicePortArray
	for _, p := range servicePorts(args) {
		sp := port(p.name, p.port, p.nodePort)
		sp.TargetPort = pulumi.String(p.target)
		ports = append(ports, sp)
	}

	s := args.Service
	spec := &corev1.ServiceSpecArgs{
		Type:     pulumi.String(s.Type),
		Selector: toStringMap(selectorLabels(name, WebserviceComponent)),
		Ports:    ports,
	}
	annotations := s.Annotations
	if s.Type != "ClusterIP" {
		// A node sends what reaches its node ports to its own GitLab pods only: no hop to another node or
		// zone, no source NAT, so GitLab sees the address the connection came from.
		spec.ExternalTrafficPolicy = pulumi.String("Local")
	}
	if s.Type == "LoadBalancer" {
		spec.HealthCheckNodePort = pulumi.Int(s.HealthCheckNodePort)
		spec.LoadBalancerSourceRanges = s.LoadBalancerSourceRanges
		if s.LoadBalancerClass != "" {
			spec.LoadBalancerClass = pulumi.String(s.LoadBalancerClass)
		}
		if s.LoadBalancerClass == ExternalLoadBalancerClass {
			annotations = withoutAddressWait(annotations)
		}
	}
	return corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(name),
			Namespace:   namespace,
			Labels:      toStringMap(standardLabels(name, WebserviceComponent)),
			Annotations: annotations,
		},
		Spec: spec,
	}, pulumi.Parent(parent), waitFor(serviceWait))
}

// servicePort is one port of the Service: its name and number, the node port it may pin, and the named
// container port it reaches.
type servicePort struct {
	name           string
	port, nodePort int
	target         string
}

// servicePorts are the Service's ports: HTTP, HTTPS with a TLS Secret, the redirect where TLS ends at the
// load balancer, SSH. With PROXY protocol, HTTP and SSH reach the listeners that read it.
func servicePorts(args GitLabArgs) []servicePort {
	n := args.Service.NodePorts
	http, ssh := "http", "ssh"
	if args.Service.ProxyProtocol != nil {
		http = proxiedHTTPPortName
	}
	ports := []servicePort{{"http", httpPort, n.HTTP, http}}
	if args.TLSSecretName != "" {
		ports = append(ports, servicePort{"https", httpsPort, n.HTTPS, "https"})
	}
	if args.Service.HTTPRedirect {
		ports = append(ports, servicePort{redirectPortName, HTTPRedirectPort, n.HTTPRedirect, redirectPortName})
	}
	return append(ports, servicePort{"ssh", sshPort, n.SSH, ssh})
}

// awaitAnnotation overrides what the Kubernetes provider waits for on a resource.
const awaitAnnotation = "pulumi.com/waitFor"

// withoutAddressWait makes Pulumi wait for a LoadBalancer Service of ExternalLoadBalancerClass to have its
// health-check port, rather than for the address no controller will ever give it: the provider's own await
// for a LoadBalancer Service waits for status.loadBalancer.ingress, and a custom condition replaces it
// (pulumi-kubernetes v4.25.0 provider/pkg/await/await.go:283-293, provider/pkg/await/service.go:298-308).
// The zones' Deployments still wait for their pods to be ready.
func withoutAddressWait(annotations pulumi.StringMapInput) pulumi.StringMapInput {
	wait := pulumi.StringMap{awaitAnnotation: pulumi.String("jsonpath={.spec.healthCheckNodePort}")}
	if annotations == nil {
		return wait
	}
	return pulumi.All(annotations.ToStringMapOutput(), wait.ToStringMapOutput()).ApplyT(func(v []any) map[string]string {
		merged := map[string]string{}
		for _, m := range v {
			for key, value := range m.(map[string]string) {
				merged[key] = value
			}
		}
		return merged
	}).(pulumi.StringMapOutput)
}

// qualifiedName is Kubernetes' qualified name, which a load balancer class must be: an optional DNS
// subdomain prefix and a slash, then a name of at most 63 characters.
var qualifiedName = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)

// validateHealthCheckNodePort refuses a health-check port Kubernetes would refuse, or one that is also a
// traffic port: kube-proxy's health check would then hide GitLab's port on every node.
func validateHealthCheckNodePort(s Service, trafficPorts map[int]string) error {
	const field = "service.healthCheckNodePort"
	if s.HealthCheckNodePort == 0 {
		return nil
	}
	if s.Type != "LoadBalancer" {
		return validate.Errorf(field, s.HealthCheckNodePort, "is set, but the Service type is %s: Kubernetes gives a health-check "+
			"port to a LoadBalancer Service only (for a load balancer of your own, type LoadBalancer with loadBalancerClass %s)",
			s.Type, ExternalLoadBalancerClass)
	}
	if s.HealthCheckNodePort < 30000 || s.HealthCheckNodePort > 32767 {
		return validate.Errorf(field, s.HealthCheckNodePort, "is outside the node port range 30000-32767")
	}
	if other, dup := trafficPorts[s.HealthCheckNodePort]; dup {
		return validate.Errorf(field, s.HealthCheckNodePort, "is also %s, a traffic port", other)
	}
	return nil
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
	var ports networkingv1.NetworkPolicyPortArray
	for _, p := range containerPorts(args) {
		ports = append(ports, &networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(p.port), Protocol: pulumi.String("TCP")})
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
