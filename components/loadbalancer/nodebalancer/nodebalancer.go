// Package nodebalancer builds the Linode NodeBalancer in front of every zone, which the GitLab Service adopts.
package nodebalancer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// NodeBalancerTypeToken is the NodeBalancer component's Pulumi type.
const NodeBalancerTypeToken = "gitlab-ha:loadbalancer:NodeBalancer"

const componentTag = "loadbalancer"

// Annotations the Linode cloud controller reads on a LoadBalancer Service (linode-cloud-controller-manager
// v0.9.8, cloud/annotations/annotations.go).
const (
	// NodeBalancerIDAnnotation makes the controller adopt an existing NodeBalancer instead of making its own.
	NodeBalancerIDAnnotation = "service.beta.kubernetes.io/linode-loadbalancer-nodebalancer-id"
	// FirewallIDAnnotation names the firewall the controller keeps on the NodeBalancer. Without it (or an
	// ACL annotation) the controller detaches whatever firewall it finds there and deletes it.
	FirewallIDAnnotation = "service.beta.kubernetes.io/linode-loadbalancer-firewall-id"
	// PreserveAnnotation keeps the NodeBalancer when the Service goes or adopts another: it is the stack's.
	PreserveAnnotation = "service.beta.kubernetes.io/linode-loadbalancer-preserve"
	// ThrottleAnnotation is the client connection throttle; the controller sets 0 when it is absent.
	ThrottleAnnotation = "service.beta.kubernetes.io/linode-loadbalancer-throttle"
	// TagsAnnotation lists, comma-separated, the tags the controller puts on the NodeBalancer after the
	// cluster's name.
	TagsAnnotation = "service.beta.kubernetes.io/linode-loadbalancer-tags"
	// ProxyProtocolAnnotation is the PROXY protocol version every config of the NodeBalancer sends: none,
	// v1 or v2 (the controller's default none).
	ProxyProtocolAnnotation = "service.beta.kubernetes.io/linode-loadbalancer-default-proxy-protocol"
	// The active health check of every config: its type (none, connection, http, http_body; the
	// controller's default connection), interval and timeout in seconds (defaults 5 and 3), failed attempts
	// before a backend is down (default 2), and passive checks (default true). The controller has no
	// annotation for a check port, and the NodeBalancer API has none for a TCP config (only udp_check_port):
	// a config checks the backend on the port it sends traffic to, the Service's node port.
	CheckTypeAnnotation     = "service.beta.kubernetes.io/linode-loadbalancer-check-type"
	CheckIntervalAnnotation = "service.beta.kubernetes.io/linode-loadbalancer-check-interval"
	CheckTimeoutAnnotation  = "service.beta.kubernetes.io/linode-loadbalancer-check-timeout"
	CheckAttemptsAnnotation = "service.beta.kubernetes.io/linode-loadbalancer-check-attempts"
	CheckPassiveAnnotation  = "service.beta.kubernetes.io/linode-loadbalancer-check-passive"
)

// PROXY protocol versions a NodeBalancer config sends (linodego's ConfigProxyProtocol).
const (
	ProxyProtocolNone = "none"
	ProxyProtocolV1   = "v1"
	ProxyProtocolV2   = "v2"
)

// The health check of every config. A TCP connection check, because one check type covers every config of
// the Service and SSH speaks no HTTP; and because the GitLab Service sends what reaches a node only to that
// node's own pods (externalTrafficPolicy Local), kube-proxy drops a connection to a node that holds no ready
// GitLab pod (k8s.io/kubernetes v1.33 pkg/proxy/iptables/proxier.go: "has no local endpoints", DROP), and
// the check fails there. The timing is the controller's own default, stated rather than left implicit: a
// backend is down after two failed checks 5 s apart, each given 3 s.
const (
	checkType     = "connection"
	checkInterval = 5
	checkTimeout  = 3
	checkAttempts = 2
)

// ccmOwned are the NodeBalancer inputs the cloud controller rewrites on every reconcile: Pulumi sends them no
// more, and ignores a running stack's recorded values so that its NodeBalancer is not replaced (a new
// firewall ID replaces a NodeBalancer, and with it GitLab's address).
var ccmOwned = []string{"firewallId", "tags"}

// NodeBalancerArgs configures a NodeBalancer that the GitLab Service adopts.
type NodeBalancerArgs struct {
	// Region, e.g. "eu-central". Required.
	Region string
	// Ports users reach. Default [80, 443, 22].
	Ports []int
	// AllowedCIDRs may connect. Default ["0.0.0.0/0"]: GitLab is public. Name your networks to make it private.
	AllowedCIDRs []string
	// ClientConnThrottle limits new connections per second from one client, 0-20. Default 20.
	ClientConnThrottle *int
	// Tags added to every resource, none with a comma (the controller reads them comma-separated). Default none.
	Tags []string
	// ProxyProtocol is the PROXY protocol version the NodeBalancer sends on every port: a TCP-mode
	// NodeBalancer connects to the nodes from its own addresses, so without it GitLab never learns who is
	// calling. ProxyProtocolV2 (default), ProxyProtocolV1 or ProxyProtocolNone. GitLab must be told to read
	// it: pass ProxyProtocolSources to the GitLab Service's ProxyProtocol.
	ProxyProtocol string
}

// NodeBalancer is the component. The stack owns the NodeBalancer (its address and lifecycle) and its
// firewall (the rules); the Linode cloud controller, told both through ServiceAnnotations, attaches the
// firewall, sets throttle and tags, and keeps configs and backend nodes in step with the cluster as pools
// recycle. Each setting has one owner, so consecutive `pulumi up`s and the controller's reconciles agree.
type NodeBalancer struct {
	pulumi.ResourceState

	ID         pulumi.IntOutput
	IPv4       pulumi.StringOutput
	FirewallID pulumi.IntOutput
	// ProxyProtocolSources are the addresses the NodeBalancer's PROXY protocol comes from, its back-end
	// range, for the GitLab Service's ProxyProtocol.TrustedCIDRs; nil with ProxyProtocolNone.
	ProxyProtocolSources []string

	throttle      int
	tags          []string
	proxyProtocol string
}

// ServiceAnnotations are what a LoadBalancer Service needs to adopt this NodeBalancer as the stack built
// it: its ID, its firewall, preserve (the NodeBalancer outlives the Service), the throttle and tags the
// controller would otherwise reset, the health check of every config and the PROXY protocol it sends.
func (n *NodeBalancer) ServiceAnnotations() pulumi.StringMap {
	decimal := func(id int) string { return strconv.Itoa(id) }
	return pulumi.StringMap{
		NodeBalancerIDAnnotation: n.ID.ApplyT(decimal).(pulumi.StringOutput),
		FirewallIDAnnotation:     n.FirewallID.ApplyT(decimal).(pulumi.StringOutput),
		PreserveAnnotation:       pulumi.String("true"),
		ThrottleAnnotation:       pulumi.String(strconv.Itoa(n.throttle)),
		TagsAnnotation:           pulumi.String(strings.Join(n.tags, ",")),
		CheckTypeAnnotation:      pulumi.String(checkType),
		CheckIntervalAnnotation:  pulumi.String(strconv.Itoa(checkInterval)),
		CheckTimeoutAnnotation:   pulumi.String(strconv.Itoa(checkTimeout)),
		CheckAttemptsAnnotation:  pulumi.String(strconv.Itoa(checkAttempts)),
		CheckPassiveAnnotation:   pulumi.String("true"),
		ProxyProtocolAnnotation:  pulumi.String(n.proxyProtocol),
	}
}

func withNodeBalancerDefaults(args NodeBalancerArgs) NodeBalancerArgs {
	if args.Ports == nil {
		args.Ports = []int{80, 443, 22}
	}
	if args.AllowedCIDRs == nil {
		args.AllowedCIDRs = []string{"0.0.0.0/0"}
	}
	if args.ClientConnThrottle == nil {
		args.ClientConnThrottle = pulumi.IntRef(20)
	}
	if args.ProxyProtocol == "" {
		args.ProxyProtocol = ProxyProtocolV2
	}
	return args
}

// ValidateNodeBalancer reports the first problem with args.
func ValidateNodeBalancer(args *NodeBalancerArgs) error {
	return validateNodeBalancer(withNodeBalancerDefaults(*args))
}

// validateNodeBalancer checks args that already have their defaults.
func validateNodeBalancer(a NodeBalancerArgs) error {
	if err := linodekit.Region("region", a.Region); err != nil {
		return err
	}
	if len(a.Ports) == 0 {
		return validate.Errorf("ports", nil, "is empty: nobody could connect")
	}
	for i, port := range a.Ports {
		if err := validate.Port(fmt.Sprintf("ports[%d]", i), port); err != nil {
			return err
		}
	}
	if len(a.AllowedCIDRs) == 0 {
		return validate.Errorf("allowedCidrs", nil, "is empty: nobody could connect")
	}
	for i, cidr := range a.AllowedCIDRs {
		if _, err := validate.CIDR(fmt.Sprintf("allowedCidrs[%d]", i), cidr); err != nil {
			return err
		}
	}
	if t := *a.ClientConnThrottle; t < 0 || t > 20 {
		return validate.Errorf("clientConnThrottle", t, "is outside 0-20")
	}
	switch a.ProxyProtocol {
	case ProxyProtocolV2, ProxyProtocolV1, ProxyProtocolNone:
	default:
		return validate.Errorf("proxyProtocol", a.ProxyProtocol, "is not %s, %s or %s", ProxyProtocolV2, ProxyProtocolV1, ProxyProtocolNone)
	}
	for i, tag := range a.Tags {
		if tag == "" || strings.Contains(tag, ",") {
			return validate.Errorf(fmt.Sprintf("tags[%d]", i), tag, "is empty or holds a comma; the cloud controller reads tags comma-separated")
		}
	}
	return nil
}

// NewNodeBalancer validates args, then creates the NodeBalancer and the Cloud Firewall that admits the ports
// from AllowedCIDRs and drops everything else. The cloud controller attaches the firewall (it does so before
// it opens any port), so the NodeBalancer never listens unprotected.
func NewNodeBalancer(ctx *pulumi.Context, name string, args *NodeBalancerArgs, opts ...pulumi.ResourceOption) (*NodeBalancer, error) {
	if args == nil {
		return nil, fmt.Errorf("loadbalancer %q: args are required", name)
	}
	a := withNodeBalancerDefaults(*args)
	if err := validateNodeBalancer(a); err != nil {
		return nil, fmt.Errorf("loadbalancer %q: %w", name, err)
	}
	n := &NodeBalancer{throttle: *a.ClientConnThrottle, tags: linodekit.TagList(componentTag, a.Tags), proxyProtocol: a.ProxyProtocol}
	if a.ProxyProtocol != ProxyProtocolNone {
		n.ProxyProtocolSources = []string{linodekit.NodeBalancerRange}
	}
	if err := ctx.RegisterComponentResource(NodeBalancerTypeToken, name, n, opts...); err != nil {
		return nil, err
	}
	label := linodekit.Label(ctx, name+"-lb")
	inbounds := linode.FirewallInboundArray{}
	for _, port := range a.Ports {
		inbounds = append(inbounds, &linode.FirewallInboundArgs{
			Label: pulumi.Sprintf("port-%d", port), Action: pulumi.String("ACCEPT"), Protocol: pulumi.String("TCP"),
			Ports: pulumi.Sprintf("%d", port), Ipv4s: pulumi.ToStringArray(a.AllowedCIDRs),
		})
	}
	firewall, err := linode.NewFirewall(ctx, name, &linode.FirewallArgs{
		Label: pulumi.String(label), InboundPolicy: pulumi.String("DROP"), OutboundPolicy: pulumi.String("ACCEPT"),
		Inbounds: inbounds, Tags: linodekit.Tags(componentTag, a.Tags),
	}, pulumi.Parent(n))
	if err != nil {
		return nil, err
	}
	// The throttle is sent, and equals the annotation: the provider's default (0) would undo the controller's.
	balancer, err := linode.NewNodeBalancer(ctx, name, &linode.NodeBalancerArgs{
		Label: pulumi.String(label), Region: pulumi.String(a.Region), ClientConnThrottle: pulumi.Int(n.throttle),
	}, pulumi.Parent(n), pulumi.IgnoreChanges(ccmOwned))
	if err != nil {
		return nil, err
	}
	n.ID, n.IPv4, n.FirewallID = linodekit.IntID(balancer.ID()), balancer.Ipv4, linodekit.IntID(firewall.ID())
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{"id": n.ID, "ipv4": n.IPv4, "firewallId": n.FirewallID}); err != nil {
		return nil, err
	}
	return n, nil
}
