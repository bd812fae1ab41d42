// Package nodebalancer builds the Linode NodeBalancer in front of every zone, which the GitLab Service adopts.
package nodebalancer

import (
	"fmt"

	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// NodeBalancerTypeToken is the NodeBalancer component's Pulumi type.
const NodeBalancerTypeToken = "gitlab-ha:loadbalancer:NodeBalancer"

const componentTag = "loadbalancer"

// NodeBalancerIDAnnotation tells the Linode cloud controller to adopt an existing NodeBalancer for a
// LoadBalancer Service instead of making its own.
const NodeBalancerIDAnnotation = "service.beta.kubernetes.io/linode-loadbalancer-nodebalancer-id"

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
	// Tags added to every resource. Default none.
	Tags []string
}

// NodeBalancer is the component. The stack owns the NodeBalancer (its address and lifecycle); the Linode
// cloud controller, told its ID through NodeBalancerIDAnnotation, keeps its configs and backend nodes in
// step with the cluster as pools recycle.
type NodeBalancer struct {
	pulumi.ResourceState

	ID         pulumi.IntOutput
	IPv4       pulumi.StringOutput
	FirewallID pulumi.IntOutput
}

// ServiceAnnotations are the annotations that make a LoadBalancer Service adopt this NodeBalancer.
func (n *NodeBalancer) ServiceAnnotations() pulumi.StringMap {
	return pulumi.StringMap{NodeBalancerIDAnnotation: n.ID.ApplyT(func(id int) string { return fmt.Sprint(id) }).(pulumi.StringOutput)}
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
	return nil
}

// NewNodeBalancer validates args, then creates the NodeBalancer behind a Cloud Firewall that admits the
// ports from AllowedCIDRs and drops everything else.
func NewNodeBalancer(ctx *pulumi.Context, name string, args *NodeBalancerArgs, opts ...pulumi.ResourceOption) (*NodeBalancer, error) {
	if args == nil {
		return nil, fmt.Errorf("loadbalancer %q: args are required", name)
	}
	a := withNodeBalancerDefaults(*args)
	if err := validateNodeBalancer(a); err != nil {
		return nil, fmt.Errorf("loadbalancer %q: %w", name, err)
	}
	n := &NodeBalancer{}
	if err := ctx.RegisterComponentResource(NodeBalancerTypeToken, name, n, opts...); err != nil {
		return nil, err
	}
	inbounds := linode.FirewallInboundArray{}
	for _, port := range a.Ports {
		inbounds = append(inbounds, &linode.FirewallInboundArgs{
			Label: pulumi.Sprintf("port-%d", port), Action: pulumi.String("ACCEPT"), Protocol: pulumi.String("TCP"),
			Ports: pulumi.Sprintf("%d", port), Ipv4s: pulumi.ToStringArray(a.AllowedCIDRs),
		})
	}
	firewall, err := linode.NewFirewall(ctx, name, &linode.FirewallArgs{
		Label: pulumi.String(name + "-lb"), InboundPolicy: pulumi.String("DROP"), OutboundPolicy: pulumi.String("ACCEPT"),
		Inbounds: inbounds, Tags: linodekit.Tags(componentTag, a.Tags),
	}, pulumi.Parent(n))
	if err != nil {
		return nil, err
	}
	balancer, err := linode.NewNodeBalancer(ctx, name, &linode.NodeBalancerArgs{
		Label: pulumi.String(name), Region: pulumi.String(a.Region), FirewallId: linodekit.IntID(firewall.ID()),
		ClientConnThrottle: pulumi.Int(*a.ClientConnThrottle), Tags: linodekit.Tags(componentTag, a.Tags),
	}, pulumi.Parent(n))
	if err != nil {
		return nil, err
	}
	n.ID, n.IPv4, n.FirewallID = linodekit.IntID(balancer.ID()), balancer.Ipv4, linodekit.IntID(firewall.ID())
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{"id": n.ID, "ipv4": n.IPv4, "firewallId": n.FirewallID}); err != nil {
		return nil, err
	}
	return n, nil
}
