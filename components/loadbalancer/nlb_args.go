package loadbalancer

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// TLS modes of the HTTPS listener.
const (
	// TLSPassthrough forwards 443 as TCP to GitLab, whose NGINX serves the certificate (GitLabArgs.TLSSecretName).
	TLSPassthrough = "passthrough"
	// TLSTerminate ends TLS at the load balancer with an ACM certificate and forwards plain HTTP to GitLab.
	TLSTerminate = "terminate"
	// TLSNone has no 443 listener.
	TLSNone = "none"
)

// NodePorts are the fixed node ports of the GitLab Service that the target groups send to and check.
type NodePorts struct {
	HTTP  int // default 30080
	HTTPS int // default 30443; used with TLSPassthrough
	SSH   int // default 30022
	// HTTPRedirect is the Service's http-redirect port, where GitLab answers every request with a redirect
	// to https: with TLSTerminate, the port-80 listener sends there. Default 30081.
	HTTPRedirect int
	// HealthCheck is the Service's health-check node port (gitlab.Service.HealthCheckNodePort), which every
	// target group checks over HTTP: kube-proxy answers 200 there while the node holds a ready GitLab pod,
	// 503 while it holds none. Default 30056, the GitLab component's default.
	HealthCheck int
}

// HealthCheckPath is the path the target groups ask kube-proxy's health-check port for. kube-proxy answers
// any path there (k8s.io/kubernetes v1.33 pkg/proxy/healthcheck/service_health.go: one handler serves the
// port); /healthz is the path cloud controllers use.
const HealthCheckPath = "/healthz"

// NLBArgs configures a network load balancer in front of every zone's nodes.
type NLBArgs struct {
	// VpcID of the network. Required.
	VpcID pulumi.StringInput
	// Zones the load balancer spans, each with a public subnet and a node group. Required, at least one.
	Zones []string
	// PublicSubnetIDs by zone name. Required for every zone.
	PublicSubnetIDs map[string]pulumi.StringInput
	// AutoscalingGroups by zone name: each zone's node group, attached to every target group. Required for
	// every zone.
	AutoscalingGroups map[string]pulumi.StringInput
	// NodeSecurityGroupID is the nodes' group: the component admits the node ports on it from the load
	// balancer's group, and from nothing else. Required.
	NodeSecurityGroupID pulumi.StringInput
	// NodePorts of the GitLab Service. Defaults 30080, 30443, 30022, 30081 (the redirect), 30056 (the health
	// check). Kubernetes gives a health-check port to a LoadBalancer Service only: make the GitLab Service
	// one of gitlab.ExternalLoadBalancerClass with the same ports, or every target stays unhealthy.
	NodePorts NodePorts
	// TLS is TLSPassthrough (default), TLSTerminate or TLSNone.
	TLS string
	// CertificateARN is the ACM certificate for TLSTerminate, and only for it.
	CertificateARN pulumi.StringInput
	// SSLPolicy of a terminating listener. Default "ELBSecurityPolicy-TLS13-1-2-2021-06" (TLS 1.2 and 1.3).
	SSLPolicy string
	// AllowedCIDRs may connect to the listeners. Default ["0.0.0.0/0"]: GitLab is public. Name your
	// networks to make it private.
	AllowedCIDRs []string
	// Internal places the load balancer on private addresses only. Default false. (Its subnets are still
	// the public ones given; pass private subnets with Internal.)
	Internal bool
	// Tags added to every resource. Default none.
	Tags map[string]string
}

func withNLBDefaults(args NLBArgs) NLBArgs {
	if args.NodePorts.HTTP == 0 {
		args.NodePorts.HTTP = 30080
	}
	if args.NodePorts.HTTPS == 0 {
		args.NodePorts.HTTPS = 30443
	}
	if args.NodePorts.SSH == 0 {
		args.NodePorts.SSH = 30022
	}
	if args.NodePorts.HTTPRedirect == 0 {
		args.NodePorts.HTTPRedirect = 30081
	}
	if args.NodePorts.HealthCheck == 0 {
		args.NodePorts.HealthCheck = 30056
	}
	if args.TLS == "" {
		args.TLS = TLSPassthrough
	}
	if args.SSLPolicy == "" {
		args.SSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	}
	if args.AllowedCIDRs == nil {
		args.AllowedCIDRs = []string{"0.0.0.0/0"}
	}
	return args
}

func validateNLB(args NLBArgs) error {
	if err := validate.RequiredString("vpcId", args.VpcID); err != nil {
		return err
	}
	if err := validate.RequiredString("nodeSecurityGroupId", args.NodeSecurityGroupID); err != nil {
		return err
	}
	if err := validate.ZoneSubnets(args.Zones, 1, "publicSubnetIds", args.PublicSubnetIDs); err != nil {
		return err
	}
	for _, zone := range args.Zones {
		if err := validate.RequiredString(fmt.Sprintf("autoscalingGroups[%q]", zone), args.AutoscalingGroups[zone]); err != nil {
			return err
		}
	}
	seen := map[int]string{}
	type nodePort struct {
		field string
		port  int
	}
	ports := []nodePort{{"nodePorts.http", args.NodePorts.HTTP}, {"nodePorts.https", args.NodePorts.HTTPS}, {"nodePorts.ssh", args.NodePorts.SSH}}
	if args.TLS == TLSTerminate {
		ports = append(ports, nodePort{"nodePorts.httpRedirect", args.NodePorts.HTTPRedirect})
	}
	// Last, so that the error names the health-check port when it collides with a traffic port.
	ports = append(ports, nodePort{"nodePorts.healthCheck", args.NodePorts.HealthCheck})
	for _, p := range ports {
		if p.port < 30000 || p.port > 32767 {
			return validate.Errorf(p.field, p.port, "is outside the node port range 30000-32767")
		}
		if other, dup := seen[p.port]; dup {
			return validate.Errorf(p.field, p.port, "is also %s", other)
		}
		seen[p.port] = p.field
	}
	switch args.TLS {
	case TLSPassthrough, TLSNone:
		if args.CertificateARN != nil {
			return validate.Errorf("certificateArn", nil, "is set, but tls is %q; a certificate needs tls %q", args.TLS, TLSTerminate)
		}
	case TLSTerminate:
		if err := validate.RequiredString("certificateArn", args.CertificateARN); err != nil {
			return err
		}
	default:
		return validate.Errorf("tls", args.TLS, "is not %s, %s or %s", TLSPassthrough, TLSTerminate, TLSNone)
	}
	if len(args.AllowedCIDRs) == 0 {
		return validate.Errorf("allowedCidrs", nil, "is empty: nobody could connect")
	}
	for i, cidr := range args.AllowedCIDRs {
		if _, err := validate.CIDR(fmt.Sprintf("allowedCidrs[%d]", i), cidr); err != nil {
			return err
		}
	}
	return nil
}
