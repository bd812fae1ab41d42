// Package gitalycluster builds Gitaly Cluster (Praefect) on AWS instances, as GitLab's Cloud Native Hybrid
// reference architectures do (Gitaly Cluster is not supported in Kubernetes): in every zone's private subnet a
// Gitaly instance, whose repositories live on an encrypted gp3 volume of its own, and a Praefect instance;
// an internal network load balancer in front of Praefect; Praefect's database on the stack's PostgreSQL. Every
// repository is replicated to every zone's Gitaly, so losing a zone loses no repository.
//
// Each instance installs the GitLab package of the release GitLab runs at its first start, from GitLab's own
// package repository, and configures Omnibus's Gitaly role or Praefect alone. Every token and password is
// generated here (pulumi-random) and reaches the instances through SSM SecureString parameters encrypted with a
// key of the component's, which each instance's role alone may read; the user data names the parameters and
// holds none of them. Instances have no public address, answer only IMDSv2, and admit only the ports their
// clients need, from those clients' security groups.
//
// A new GitLab version replaces the instances in GitLab's upgrade order (Gitaly zone by zone, then Praefect
// zone by zone, the first Praefect migrating its database): each instance's user data names the version, and
// a changed user data replaces the instance. A Gitaly's volume and its private address (a network interface of
// its own) are separate resources that no instance change replaces; the volume is protected.
package gitalycluster

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "gitlab-ha:gitaly:GitalyCluster"

// componentTag is the component tag on every AWS resource it makes.
const componentTag = "gitaly-cluster"

// Ports: Praefect's and Gitaly's (GitLab's defaults).
const (
	PraefectPort = 2305
	GitalyPort   = 8075
)

// DefaultVirtualStorage is the name GitLab knows the cluster by, its repository storage, unless
// GitalyClusterArgs.VirtualStorage says otherwise.
const DefaultVirtualStorage = "default"

// GitalyClusterArgs configures the cluster.
type GitalyClusterArgs struct {
	// VpcID is the VPC the instances run in. Required.
	VpcID pulumi.StringInput
	// Zones, an odd number, at least 3: a Gitaly and a Praefect in each. Transactions need a majority of
	// Gitaly nodes to agree. Required.
	Zones []string
	// SubnetIDs maps each zone to its private subnet. Required for every zone.
	SubnetIDs map[string]pulumi.StringInput
	// ClientSecurityGroupID is the group of GitLab's nodes: the only clients Praefect's load balancer admits,
	// and what the load balancer forwards GitLab's internal API to. Required.
	ClientSecurityGroupID pulumi.StringInput
	// GitLabNodePort is GitLab's HTTP node port on those nodes: the load balancer's internal API listener
	// sends Gitaly's and Praefect's calls to GitLab there. Required.
	GitLabNodePort int
	// GitLabHealthCheckNodePort is the GitLab Service's health-check node port (externalTrafficPolicy Local):
	// the internal API's target group checks it, so that Gitaly's calls reach only nodes that hold a ready
	// GitLab pod, as the public load balancer's do. Required.
	GitLabHealthCheckNodePort int
	// GitLabAutoscalingGroups are the node groups' autoscaling groups by zone, the internal API listener's
	// targets. Required for every zone.
	GitLabAutoscalingGroups map[string]pulumi.StringInput
	// Database is where Praefect keeps its state: a database and user of its own on the stack's PostgreSQL,
	// connected to directly (Praefect requires a direct connection, not a pooler in transaction mode).
	Database Database
	// Version is the GitLab version to install, the one GitLab runs, such as "18.11.11". Required.
	Version string
	// Release is the package's release, "ce.0" or "ee.0", from the image's tag. Required.
	Release string
	// VirtualStorage is the name GitLab knows the cluster by. Default DefaultVirtualStorage: GitLab requires
	// a storage named "default" (gitlab-org/gitlab#237861); while the zones' NFS still holds "default" (the
	// way off NFS), name it otherwise.
	VirtualStorage string
	// GitalyInstanceType and PraefectInstanceType size the instances. Defaults "m6i.xlarge" (4 vCPU, 16 GiB,
	// GitLab's 3k reference architecture's Gitaly) and "c6i.large" (its Praefect).
	GitalyInstanceType, PraefectInstanceType string
	// VolumeSizeGiB of each Gitaly's repository volume: every zone holds every repository. Default 100.
	VolumeSizeGiB int
	// AMI of every instance. Required: an Amazon Linux 2023 image (GitLab packages it for amazon/2023, and
	// its AWS CLI reads the parameters). Instances ignore a new AMI until they are replaced for another
	// reason, so that a newer image never replaces Gitaly on its own.
	AMI pulumi.StringInput
	// Region the parameters are read from. Required.
	Region string
	// ParameterPrefix is the SSM path of the secrets, unique per stack, such as "/gitlab-ha/prod". Required.
	ParameterPrefix string
	// Tags are added to every AWS resource.
	Tags map[string]string
}

// Database is the PostgreSQL server Praefect's database lives on.
type Database struct {
	// Host and Port of the server. Required; Port defaults to 5432.
	Host pulumi.StringInput
	Port pulumi.IntInput
	// SecurityGroupID is the server's group, which is given a rule admitting Praefect's group. Required.
	SecurityGroupID pulumi.StringInput
	// Name and User of Praefect's database and role, which GitLab's migration Job makes (GitStorage's
	// Databases). Defaults "praefect_production" and "praefect".
	Name, User string
}

func withDefaults(a GitalyClusterArgs) GitalyClusterArgs {
	set := func(field *string, value string) {
		if *field == "" {
			*field = value
		}
	}
	set(&a.VirtualStorage, DefaultVirtualStorage)
	set(&a.GitalyInstanceType, "m6i.xlarge")
	set(&a.PraefectInstanceType, "c6i.large")
	set(&a.Database.Name, "praefect_production")
	set(&a.Database.User, "praefect")
	if a.Database.Port == nil {
		a.Database.Port = pulumi.Int(5432)
	}
	if a.VolumeSizeGiB == 0 {
		a.VolumeSizeGiB = 100
	}
	return a
}

var (
	versionPattern   = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	releasePattern   = regexp.MustCompile(`^(ce|ee)\.[0-9]+$`)
	parameterPattern = regexp.MustCompile(`^(/[a-zA-Z0-9_.-]+)+$`)
	storagePattern   = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
)

// Validate reports the first problem with args, as NewGitalyCluster would, without registering anything.
func Validate(args *GitalyClusterArgs) error {
	return validateArgs(withDefaults(*args))
}

func validateArgs(a GitalyClusterArgs) error {
	if n := len(a.Zones); n < 3 || n%2 == 0 {
		return validate.Errorf("zones", nil, "has %d zones; Gitaly Cluster needs an odd number, at least 3, for its transactions' majority", n)
	}
	if err := validate.ZoneNames(a.Zones); err != nil {
		return err
	}
	for _, zone := range a.Zones {
		if err := validate.RequiredString(fmt.Sprintf("subnetIds[%q]", zone), a.SubnetIDs[zone]); err != nil {
			return err
		}
		if err := validate.RequiredString(fmt.Sprintf("gitLabAutoscalingGroups[%q]", zone), a.GitLabAutoscalingGroups[zone]); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		field string
		in    pulumi.StringInput
	}{{"vpcId", a.VpcID}, {"clientSecurityGroupId", a.ClientSecurityGroupID}, {"database.host", a.Database.Host},
		{"database.securityGroupId", a.Database.SecurityGroupID}, {"ami", a.AMI}} {
		if err := validate.RequiredString(f.field, f.in); err != nil {
			return err
		}
	}
	if a.GitLabNodePort < 30000 || a.GitLabNodePort > 32767 {
		return validate.Errorf("gitLabNodePort", a.GitLabNodePort, "is outside the node port range 30000-32767")
	}
	if a.GitLabHealthCheckNodePort < 30000 || a.GitLabHealthCheckNodePort > 32767 || a.GitLabHealthCheckNodePort == a.GitLabNodePort {
		return validate.Errorf("gitLabHealthCheckNodePort", a.GitLabHealthCheckNodePort,
			"is outside the node port range 30000-32767 or is gitLabNodePort")
	}
	if !versionPattern.MatchString(a.Version) {
		return validate.Errorf("version", a.Version, "is not a GitLab version such as 18.11.11")
	}
	if !releasePattern.MatchString(a.Release) {
		return validate.Errorf("release", a.Release, "is not a package release such as ce.0")
	}
	if !storagePattern.MatchString(a.VirtualStorage) {
		return validate.Errorf("virtualStorage", a.VirtualStorage, "is not a storage name: letters, digits, '-' and '_'")
	}
	if a.Region == "" {
		return validate.Missing("region")
	}
	if !parameterPattern.MatchString(a.ParameterPrefix) {
		return validate.Errorf("parameterPrefix", a.ParameterPrefix, "is not an SSM path such as /gitlab-ha/prod")
	}
	if a.VolumeSizeGiB < 1 || a.VolumeSizeGiB > 16384 {
		return validate.Errorf("volumeSizeGiB", a.VolumeSizeGiB, "is outside gp3's 1-16384 GiB")
	}
	for _, d := range []struct{ field, value string }{{"database.name", a.Database.Name}, {"database.user", a.Database.User}} {
		if !storagePattern.MatchString(d.value) {
			return validate.Errorf(d.field, d.value, "is not a PostgreSQL name of letters, digits and '_'")
		}
	}
	return nil
}

// StorageName is the Gitaly storage a zone's node serves, as Praefect knows it.
func StorageName(zone string) string { return "gitaly-" + zone }

// GitalyCluster is the component.
type GitalyCluster struct {
	pulumi.ResourceState

	// Address is Praefect's load balancer, tcp://<name>:2305: GitLab's repository storage.
	Address pulumi.StringOutput
	// GitLabURL is GitLab's internal API as the instances reach it, through the same load balancer.
	GitLabURL pulumi.StringOutput
	// ExternalToken authenticates GitLab to Praefect; ShellSecret Gitaly's hooks to GitLab; DatabasePassword
	// is Praefect's PostgreSQL password, for the job that makes its database. All secret.
	ExternalToken, ShellSecret, DatabasePassword pulumi.StringOutput
	// VirtualStorage is the storage's name in GitLab; Database and DatabaseUser Praefect's on the server.
	VirtualStorage, DatabaseName, DatabaseUser string
	// GitalyInstances, PraefectInstances and Volumes by zone; VolumeAttachments likewise.
	GitalyInstances, PraefectInstances map[string]*ec2.Instance
	Volumes                            map[string]*ebs.Volume
	VolumeAttachments                  map[string]*ec2.VolumeAttachment

	// last is what a client's upgrade waits for: every zone's Praefect in the load balancer.
	last []pulumi.Resource
}

// Ready are what GitLab's migrations wait for: every Praefect, the last of the upgrade order, behind the load
// balancer.
func (c *GitalyCluster) Ready() []pulumi.Resource { return c.last }

// NewGitalyCluster validates args, then builds the cluster. Bad args return one error naming the field, and
// nothing is registered.
func NewGitalyCluster(ctx *pulumi.Context, name string, args *GitalyClusterArgs, opts ...pulumi.ResourceOption) (*GitalyCluster, error) {
	if args == nil {
		return nil, fmt.Errorf("gitalycluster %q: args are required", name)
	}
	a := withDefaults(*args)
	if err := validateArgs(a); err != nil {
		return nil, fmt.Errorf("gitalycluster %q: %w", name, err)
	}
	c := &GitalyCluster{
		VirtualStorage: a.VirtualStorage, DatabaseName: a.Database.Name, DatabaseUser: a.Database.User,
		GitalyInstances: map[string]*ec2.Instance{}, PraefectInstances: map[string]*ec2.Instance{},
		Volumes: map[string]*ebs.Volume{}, VolumeAttachments: map[string]*ec2.VolumeAttachment{},
	}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, err
	}
	if err := c.build(ctx, name, a); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"address": c.Address, "gitLabUrl": c.GitLabURL, "externalToken": c.ExternalToken, "shellSecret": c.ShellSecret,
		"databasePassword": c.DatabasePassword, "virtualStorage": pulumi.String(c.VirtualStorage),
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *GitalyCluster) build(ctx *pulumi.Context, name string, a GitalyClusterArgs) error {
	s, err := c.newSecrets(ctx, name, a)
	if err != nil {
		return err
	}
	g, err := c.newSecurityGroups(ctx, name, a)
	if err != nil {
		return err
	}
	b, err := c.newBalancer(ctx, name, a, g)
	if err != nil {
		return err
	}
	gitalyProfile, err := c.newInstanceRole(ctx, name, "gitaly", a, s)
	if err != nil {
		return err
	}
	praefectProfile, err := c.newInstanceRole(ctx, name, "praefect", a, s)
	if err != nil {
		return err
	}
	c.GitLabURL = pulumi.Sprintf("http://%s", b.lb.DnsName)
	r := release{version: a.Version, release: a.Release}

	// Gitaly first, zone by zone, then Praefect, zone by zone: GitLab's upgrade order, which Pulumi follows when
	// a new version replaces them.
	var after []pulumi.Resource
	var nodes []*gitalyNode
	for _, zone := range a.Zones {
		zone := zone
		userData := func(volumeID pulumi.StringOutput) pulumi.StringOutput {
			return pulumi.All(volumeID, c.GitLabURL).ApplyT(func(v []any) (string, error) {
				script := startScript(a.Region, a.ParameterPrefix+"/"+name, readers["gitaly"], v[0].(string), r)
				return cloudConfig(r.edition(), gitalyConfig(StorageName(zone), v[1].(string)), script)
			}).(pulumi.StringOutput)
		}
		node, err := c.newGitalyNode(ctx, name, zone, a, g, gitalyProfile, userData, after)
		if err != nil {
			return err
		}
		nodes = append(nodes, node)
		after = []pulumi.Resource{node.attachment}
		c.GitalyInstances[zone], c.Volumes[zone], c.VolumeAttachments[zone] = node.instance, node.volume, node.attachment
	}
	addresses := make([]any, 0, len(nodes)+2)
	for _, node := range nodes {
		addresses = append(addresses, node.address.PrivateIp)
	}
	addresses = append(addresses, a.Database.Host, a.Database.Port)
	for i, zone := range a.Zones {
		deploy := i == 0
		userData := pulumi.All(addresses...).ApplyT(func(v []any) (string, error) {
			settings := praefectSettings{deploy: deploy, virtualStorage: a.VirtualStorage, dbHost: v[len(nodes)].(string),
				dbPort: v[len(nodes)+1].(int), dbName: a.Database.Name, dbUser: a.Database.User}
			for j, node := range nodes {
				settings.nodes = append(settings.nodes, praefectNodeConfig{storage: StorageName(node.zone),
					address: fmt.Sprintf("tcp://%s:%d", v[j].(string), GitalyPort)})
			}
			script := startScript(a.Region, a.ParameterPrefix+"/"+name, readers["praefect"], "", r)
			return cloudConfig(r.edition(), praefectConfig(settings), script)
		}).(pulumi.StringOutput)
		node, err := c.newPraefectNode(ctx, name, zone, a, g, b, praefectProfile, userData, after)
		if err != nil {
			return err
		}
		after = []pulumi.Resource{node.instance}
		c.PraefectInstances[zone] = node.instance
		c.last = append(c.last, node.target)
	}
	c.Address = pulumi.Sprintf("tcp://%s:%d", b.lb.DnsName, PraefectPort)
	c.ExternalToken, c.ShellSecret, c.DatabasePassword = s.values[externalToken], s.values[shellSecret], s.values[databasePassword]
	return nil
}
