// Package loadbalancer builds the one load balancer in front of every zone: on AWS a Pulumi-owned network
// load balancer whose target groups send to the GitLab Service's fixed node ports on every zone's nodes, and
// check the Service's health-check node port, so that only nodes holding a ready GitLab pod receive
// connections. Owning it in the stack (rather than letting Kubernetes make one for a LoadBalancer Service)
// keeps its address and lifecycle in the plan and out of the cluster's hands.
package loadbalancer

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// NLBTypeToken is the NLB component's Pulumi type.
const NLBTypeToken = "gitlab-ha:loadbalancer:NLB"

const componentTag = "loadbalancer"

// NLB is the component.
type NLB struct {
	pulumi.ResourceState

	// DNSName is the load balancer's address, and ZoneID its Route 53 hosted zone for alias records.
	DNSName pulumi.StringOutput
	ZoneID  pulumi.StringOutput
	ARN     pulumi.StringOutput
	// SecurityGroupID is the load balancer's group.
	SecurityGroupID pulumi.StringOutput
	// TargetGroupARNs maps listener name (http, https, ssh) to its target group.
	TargetGroupARNs pulumi.StringMapOutput
	// ARNSuffix (net/<name>/<id>) and TargetGroupARNSuffixes (targetgroup/<name>/<id>, by listener name) are
	// how CloudWatch's LoadBalancer and TargetGroup dimensions name them.
	ARNSuffix              pulumi.StringOutput
	TargetGroupARNSuffixes pulumi.StringMapOutput
}

// listener is one port users reach, forwarded to one node port.
type listener struct {
	name     string
	port     int
	nodePort int
	protocol string // of the listener: TCP, or TLS when terminating
}

func listeners(args NLBArgs) []listener {
	out := []listener{{name: "http", port: 80, nodePort: args.NodePorts.HTTP, protocol: "TCP"}}
	switch args.TLS {
	case TLSPassthrough:
		out = append(out, listener{name: "https", port: 443, nodePort: args.NodePorts.HTTPS, protocol: "TCP"})
	case TLSTerminate:
		// TLS ends here; GitLab receives plain HTTP on its HTTP node port, and plain http:// is redirected
		// to https:// by GitLab's redirect port (an NLB cannot redirect).
		out[0].nodePort = args.NodePorts.HTTPRedirect
		out = append(out, listener{name: "https", port: 443, nodePort: args.NodePorts.HTTP, protocol: "TLS"})
	}
	return append(out, listener{name: "ssh", port: 22, nodePort: args.NodePorts.SSH, protocol: "TCP"})
}

// ListenerNames are the listeners args make (http, https, ssh), the keys of TargetGroupARNs.
func ListenerNames(args *NLBArgs) []string {
	var names []string
	for _, l := range listeners(withNLBDefaults(*args)) {
		names = append(names, l.name)
	}
	return names
}

// ValidateNLB reports the first problem with args, as NewNLB would, without registering anything.
func ValidateNLB(args *NLBArgs) error {
	return validateNLB(withNLBDefaults(*args))
}

// NewNLB validates args, then builds the load balancer, its security group and rules, a target group and
// listener per port, and attaches every zone's node group to every target group.
func NewNLB(ctx *pulumi.Context, name string, args *NLBArgs, opts ...pulumi.ResourceOption) (*NLB, error) {
	if args == nil {
		return nil, fmt.Errorf("loadbalancer %q: args are required", name)
	}
	defaulted := withNLBDefaults(*args)
	if err := validateNLB(defaulted); err != nil {
		return nil, fmt.Errorf("loadbalancer %q: %w", name, err)
	}
	n := &NLB{}
	if err := ctx.RegisterComponentResource(NLBTypeToken, name, n, opts...); err != nil {
		return nil, err
	}
	if err := n.build(ctx, name, defaulted); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"dnsName": n.DNSName, "zoneId": n.ZoneID, "arn": n.ARN, "securityGroupId": n.SecurityGroupID,
		"targetGroupArns": n.TargetGroupARNs, "arnSuffix": n.ARNSuffix, "targetGroupArnSuffixes": n.TargetGroupARNSuffixes,
	}); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *NLB) build(ctx *pulumi.Context, name string, args NLBArgs) error {
	ports := listeners(args)
	group, err := n.securityGroups(ctx, name, args, ports)
	if err != nil {
		return err
	}
	subnets := pulumi.StringArray{}
	for _, zone := range args.Zones {
		subnets = append(subnets, args.PublicSubnetIDs[zone])
	}
	balancer, err := lb.NewLoadBalancer(ctx, name, &lb.LoadBalancerArgs{
		LoadBalancerType: pulumi.String("network"),
		Internal:         pulumi.Bool(args.Internal),
		Subnets:          subnets,
		SecurityGroups:   pulumi.StringArray{group.ID()},
		// Spread every zone's connections over every zone's nodes: no zone is overloaded when another is lost.
		EnableCrossZoneLoadBalancing: pulumi.Bool(true),
		Tags:                         awstags.For(componentTag, name, args.Tags),
	}, pulumi.Parent(n))
	if err != nil {
		return err
	}

	targetGroups, suffixes := pulumi.StringMap{}, pulumi.StringMap{}
	for _, l := range ports {
		targetGroup, err := n.forward(ctx, name, args, balancer, l)
		if err != nil {
			return err
		}
		targetGroups[l.name], suffixes[l.name] = targetGroup.Arn, targetGroup.ArnSuffix
	}

	n.DNSName = balancer.DnsName
	n.ZoneID = balancer.ZoneId
	n.ARN = balancer.Arn
	n.SecurityGroupID = group.ID().ToStringOutput()
	n.TargetGroupARNs = targetGroups.ToStringMapOutput()
	n.ARNSuffix = balancer.ArnSuffix
	n.TargetGroupARNSuffixes = suffixes.ToStringMapOutput()
	return nil
}

// Health-check timing: the shortest the NLB allows (interval 5-300 s, timeout 2-120 s, thresholds 2-10:
// AWS's "Health checks for Network Load Balancer target groups"), so that a node leaves after two failed
// checks 5 s apart, about 10 s, and returns after two good ones. kube-proxy answers from the node itself,
// in well under the 2 s timeout.
const (
	healthCheckInterval  = 5
	healthCheckTimeout   = 2
	healthCheckThreshold = 2
	// unhealthyDrainingSeconds is how long an unhealthy node keeps its open connections: the GitLab pod's
	// termination grace period, within which Puma and a git push in flight finish.
	unhealthyDrainingSeconds = 120
)

// KubeProxyHealthCheck asks kube-proxy on each node, over HTTP on the Service's health-check port, whether the node
// holds a ready GitLab pod: kube-proxy answers 200 with the count of local ready endpoints, 503 with none
// (or while its own rules are stale), from k8s.io/kubernetes v1.33 pkg/proxy/healthcheck/service_health.go.
// The check follows GitLab's readiness probe, through the Service's endpoints, on every port alike, and
// a node whose pod is terminating answers 503 while it drains.
// Every NLB that sends to GitLab's node ports checks this way: this one, and the Gitaly Cluster's internal one.
func KubeProxyHealthCheck(port int) *lb.TargetGroupHealthCheckArgs {
	return &lb.TargetGroupHealthCheckArgs{
		Protocol: pulumi.String("HTTP"), Port: pulumi.String(strconv.Itoa(port)), Path: pulumi.String(HealthCheckPath),
		Matcher:  pulumi.String("200"),
		Interval: pulumi.Int(healthCheckInterval), Timeout: pulumi.Int(healthCheckTimeout),
		HealthyThreshold: pulumi.Int(healthCheckThreshold), UnhealthyThreshold: pulumi.Int(healthCheckThreshold),
	}
}

// forward makes one listener's target group, the listener, and each zone's attachment.
func (n *NLB) forward(ctx *pulumi.Context, name string, args NLBArgs, balancer *lb.LoadBalancer, l listener) (*lb.TargetGroup, error) {
	resourceName := name + "-" + l.name
	targetGroup, err := lb.NewTargetGroup(ctx, resourceName, &lb.TargetGroupArgs{
		VpcId:       args.VpcID,
		TargetType:  pulumi.String("instance"),
		Protocol:    pulumi.String("TCP"),
		Port:        pulumi.Int(l.nodePort),
		HealthCheck: KubeProxyHealthCheck(args.NodePorts.HealthCheck),
		// A node turns unhealthy whenever its pod stops being ready, a rollout's drain included: it then
		// gets no new connection, and keeps those it has for as long as the pod takes to stop (its
		// termination grace period), rather than the NLB resetting them (its default; AWS's "Health checks
		// for Network Load Balancer target groups", connection termination for unhealthy targets).
		TargetHealthStates: lb.TargetGroupTargetHealthStateArray{&lb.TargetGroupTargetHealthStateArgs{
			EnableUnhealthyConnectionTermination: pulumi.Bool(false), UnhealthyDrainingInterval: pulumi.Int(unhealthyDrainingSeconds),
		}},
		DeregistrationDelay: pulumi.Int(60), // long enough for a git push in flight to finish
		Tags:                awstags.For(componentTag, resourceName, args.Tags),
	}, pulumi.Parent(n))
	if err != nil {
		return nil, err
	}
	listenerArgs := &lb.ListenerArgs{
		LoadBalancerArn: balancer.Arn,
		Port:            pulumi.Int(l.port),
		Protocol:        pulumi.String(l.protocol),
		DefaultActions: lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{
			Type: pulumi.String("forward"), TargetGroupArn: targetGroup.Arn,
		}},
		Tags: awstags.For(componentTag, resourceName, args.Tags),
	}
	if l.protocol == "TLS" {
		listenerArgs.CertificateArn = args.CertificateARN
		listenerArgs.SslPolicy = pulumi.String(args.SSLPolicy)
	}
	if _, err := lb.NewListener(ctx, resourceName, listenerArgs, pulumi.Parent(n)); err != nil {
		return nil, err
	}
	for _, zone := range args.Zones {
		if _, err := autoscaling.NewAttachment(ctx, resourceName+"-"+zone, &autoscaling.AttachmentArgs{
			AutoscalingGroupName: args.AutoscalingGroups[zone],
			LbTargetGroupArn:     targetGroup.Arn,
		}, pulumi.Parent(n)); err != nil {
			return nil, err
		}
	}
	return targetGroup, nil
}
