package loadbalancer

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/securitygroup"
)

// securityGroups makes the load balancer's group, which admits the listener ports from AllowedCIDRs and may
// reach only the nodes' group on the node ports, and opens those node ports on the nodes' group to the load
// balancer alone. Nothing else reaches a node port.
func (n *NLB) securityGroups(ctx *pulumi.Context, name string, args NLBArgs, ports []listener) (*ec2.SecurityGroup, error) {
	var ingress, egress []securitygroup.Rule
	var nodePorts []int // in listener order, each once (a terminating HTTPS listener shares HTTP's)
	seenNodePorts := map[int]bool{}
	for _, l := range ports {
		for i, cidr := range args.AllowedCIDRs {
			ingress = append(ingress, securitygroup.Rule{
				Key: fmt.Sprintf("%s-from-%d", l.name, i), Description: fmt.Sprintf("%s from %s", l.name, cidr),
				FromPort: l.port, FromCIDR: cidr,
			})
		}
		if !seenNodePorts[l.nodePort] {
			seenNodePorts[l.nodePort] = true
			nodePorts = append(nodePorts, l.nodePort)
			egress = append(egress, securitygroup.Rule{
				Key: fmt.Sprintf("to-nodes-%d", l.nodePort), Description: fmt.Sprintf("%s to the nodes' port %d", l.name, l.nodePort),
				FromPort: l.nodePort, FromGroup: args.NodeSecurityGroupID,
			})
		}
	}
	// The target groups' health checks, to kube-proxy on every node.
	egress = append(egress, securitygroup.Rule{
		Key: fmt.Sprintf("to-nodes-%d", args.NodePorts.HealthCheck), Description: fmt.Sprintf("health checks to the nodes' port %d", args.NodePorts.HealthCheck),
		FromPort: args.NodePorts.HealthCheck, FromGroup: args.NodeSecurityGroupID,
	})
	nodePorts = append(nodePorts, args.NodePorts.HealthCheck)
	group, err := securitygroup.New(ctx, name, securitygroup.Args{
		Component: componentTag, VpcID: args.VpcID, Description: "GitLab HA load balancer",
		Ingress: ingress, Egress: egress, Tags: args.Tags,
	}, n)
	if err != nil {
		return nil, err
	}
	for _, nodePort := range nodePorts {
		if err := securitygroup.AddIngress(ctx, name+"-nodes", args.NodeSecurityGroupID, componentTag, securitygroup.Rule{
			Key: fmt.Sprintf("from-lb-%d", nodePort), Description: fmt.Sprintf("node port %d from the load balancer", nodePort),
			FromPort: nodePort, FromGroup: group.ID(),
		}, args.Tags, n); err != nil {
			return nil, err
		}
	}
	return group, nil
}
