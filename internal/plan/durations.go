package plan

import "strings"

// duration is how long a resource typically takes to provision, and where that figure comes from.
type duration struct {
	minutes func(inputs map[string]any) float64
	source  string
}

func fixed(minutes float64) func(map[string]any) float64 {
	return func(map[string]any) float64 { return minutes }
}

// apiCall is the default: a resource whose create is one synchronous API call, with no waiter behind it.
var apiCall = duration{fixed(0.1), "estimate: one synchronous API call, no waiter"}

// durations are typical provisioning minutes per resource type. Figures with a public measurement cite it;
// the rest say they are estimates and from what. Change a figure only with a source.
var durations = map[string]duration{
	"aws:eks/cluster:Cluster": {fixed(15),
		"EKS control plane provisioning 'currently averages 15 minutes' (aws/containers-roadmap#1227)"},
	"aws:eks/addon:Addon": {fixed(1),
		"estimate: the provider waits until the add-on is ACTIVE, a roll-out of one DaemonSet or Deployment over a few nodes"},
	"aws:eks/nodeGroup:NodeGroup": {fixed(5),
		"estimate: 'EKS clusters take approximately 20 minutes' with node groups (datadog-agent manual QA guide), less the control plane's 15"},
	"aws:rds/instance:Instance": {func(inputs map[string]any) float64 {
		if multiAZ, _ := inputs["multiAz"].(bool); multiAZ {
			return 15
		}
		return 7.5
	}, "multi-AZ instances took 15-20 minutes, single-AZ 5-10 (hashicorp/terraform#498); the lower end of multi-AZ, the middle of single-AZ"},
	"aws:elasticache/replicationGroup:ReplicationGroup": {fixed(15),
		"estimate between a single node's 395 s (hashicorp/terraform#8275) and a multi-AZ group that once exceeded 40 minutes (hashicorp/terraform-provider-aws#2048)"},
	"aws:ec2/vpc:Vpc":                         {fixed(20.0 / 60), "20 s in a logged apply (turbot/steampipe-plugin-aws#184)"},
	"aws:ec2/subnet:Subnet":                   {fixed(5.0 / 60), "5 s in the same apply (turbot/steampipe-plugin-aws#184)"},
	"aws:rds/subnetGroup:SubnetGroup":         {fixed(8.0 / 60), "8 s for a subnet group in the same apply (turbot/steampipe-plugin-aws#184)"},
	"aws:elasticache/subnetGroup:SubnetGroup": {fixed(8.0 / 60), "8 s in the same apply (turbot/steampipe-plugin-aws#184)"},
	"aws:ec2/natGateway:NatGateway": {fixed(2),
		"estimate: a NAT gateway goes from pending to available in minutes; the AWS CLI's waiter allows 10"},
	"aws:efs/fileSystem:FileSystem":   {fixed(0.5), "estimate: created at once, then waited on until available"},
	"aws:efs/mountTarget:MountTarget": {fixed(1.5), "estimate: a network interface is made in the subnet, then waited on until available"},
	"aws:lb/loadBalancer:LoadBalancer": {fixed(3),
		"estimate: a network load balancer stays 'provisioning' for minutes before 'active'"},
	"aws:kms/key:Key": {fixed(0.25),
		"estimate: CreateKey, then the provider reads rotation and tags back until each holds five times in a row, a second or more apart (terraform-provider-aws internal/service/kms/key.go), some 10-15 s"},
	"kubernetes:apps/v1:Deployment": {func(inputs map[string]any) float64 {
		if runsGitLab(inputs) {
			return 5
		}
		return 0.5
	}, "estimate: GitLab's start reconfigures and boots Puma, within the 15 minutes its startup probe allows (migrations ran before, in a Job); other Deployments half a minute"},
	"aws:ec2/instance:Instance": {fixed(1),
		"estimate: EC2 reports a new instance running within a minute; what its user data installs comes after, and is counted where something waits for it"},
	"aws:ec2/volumeAttachment:VolumeAttachment": {fixed(0.5),
		"estimate: the provider waits until EC2 reports the volume attached, some seconds to half a minute"},
	"aws:lb/targetGroupAttachment:TargetGroupAttachment": {func(inputs map[string]any) float64 {
		if port, _ := inputs["port"].(float64); port == praefectPort {
			return 7
		}
		return 0.1
	}, "estimate: a Praefect's attachment stands for Praefect's start, which GitLab's migrations wait for: its instance downloads GitLab's package (about 1.4 GB) and reconfigures Praefect, some 5-8 minutes after it runs"},
	"kubernetes:apps/v1:StatefulSet": {func(inputs map[string]any) float64 {
		if runsGitLab(inputs) {
			return 3
		}
		return 0.5
	}, "estimate: a zone's Gitaly (the Omnibus image in its Gitaly role) waits for its block volume to be made and attached in the zone, then reconfigures Gitaly alone, well under the 15 minutes its startup probe allows"},
	"kubernetes:batch/v1:Job": {func(inputs map[string]any) float64 {
		if runsGitLab(inputs) {
			return 5
		}
		return 0.5
	}, "estimate: a migration Job reconfigures, then loads the schema (first install) or migrates (upgrade), well within the hour GitLab's chart gives its own migrations Job"},
}

// praefectPort is Praefect's, the port a Praefect's target group attachment names.
const praefectPort = 2305

// runsGitLab reports whether a workload's first container runs a GitLab image.
func runsGitLab(inputs map[string]any) bool {
	image, _ := lookup(inputs, "spec", "template", "spec", "containers", 0, "image").(string)
	return strings.HasPrefix(image, "gitlab/")
}

// minutesOf is the provisioning estimate for one resource: components, providers and random values take none.
func minutesOf(r Resource) float64 {
	switch {
	case !r.Custom, strings.HasPrefix(r.Type, "pulumi:providers:"), strings.HasPrefix(r.Type, "random:"):
		return 0
	case strings.HasPrefix(r.Type, "kubernetes:") && durations[r.Type].minutes == nil:
		return 0.05 // estimate: the API server accepts an object in well under a second; a little for the client
	}
	if d, ok := durations[r.Type]; ok {
		return d.minutes(r.Inputs)
	}
	return apiCall.minutes(r.Inputs)
}

// lookup walks maps and slices by key and index.
func lookup(v any, path ...any) any {
	for _, step := range path {
		switch key := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[key]
		case int:
			a, ok := v.([]any)
			if !ok || key >= len(a) {
				return nil
			}
			v = a[key]
		}
	}
	return v
}
