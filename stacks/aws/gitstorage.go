package aws

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/cluster"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly/ebs"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly/gitalycluster"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/stacks"
)

// Names of the Git storage's components, and so of their resources: never change them.
const (
	ebsStorageName    = "gitaly-volumes"
	gitalyClusterName = "gitaly-cluster"
)

// al2023Parameter is AWS's public parameter naming the latest Amazon Linux 2023 image for x86_64, which GitLab
// packages for (amazon/2023) and whose AWS CLI reads the cluster's secrets.
const al2023Parameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

// clusterArgs are the Gitaly Cluster's: a Gitaly and a Praefect in every zone's private subnet, Praefect's
// database on the stack's RDS, the release GitLab runs.
func gitalyClusterArgs(cfg *stacks.Config, refs awsRefs) *gitalycluster.GitalyClusterArgs {
	release, _ := cfg.PackageRelease() // the pre-flight refuses an image without one
	return &gitalycluster.GitalyClusterArgs{
		VpcID: refs.vpcID, Zones: cfg.Zones, SubnetIDs: refs.privateSubnets, ClientSecurityGroupID: refs.nodeSecurityGroup,
		GitLabNodePort: httpNodePort, GitLabHealthCheckNodePort: healthCheckNodePort(cfg), GitLabAutoscalingGroups: refs.autoscalingGroups,
		Database: gitalycluster.Database{Host: refs.db.Host, Port: refs.db.Port, SecurityGroupID: refs.dbSecurityGroup},
		Version:  release[0], Release: release[1], VirtualStorage: cfg.VirtualStorageName(),
		GitalyInstanceType: cfg.GitStorage.GitalyInstanceType, PraefectInstanceType: cfg.GitStorage.PraefectInstanceType,
		VolumeSizeGiB: cfg.GitStorage.VolumeSizeGiB, AMI: refs.ami, Region: cfg.Region,
		ParameterPrefix: "/" + cfg.Project + "/" + cfg.Stack, Tags: cfg.Tags,
	}
}

// clusterStorage hands GitLab the cluster: one repository storage, through Praefect's load balancer, and
// Praefect's database for the migration Job to make.
func clusterStorage(cfg *stacks.Config, address, token, shellSecret, dbPassword pulumi.StringInput, ready []pulumi.Resource) gitlab.GitStorage {
	storage := stacks.GitStorageArgs(cfg, []gitlab.RepositoryStorage{{Name: cfg.VirtualStorageName(), Address: address, Token: token}},
		shellSecret, ready)
	storage.Databases = []gitlab.StorageDatabase{{Name: "praefect_production", User: "praefect", Password: dbPassword}}
	return storage
}

// ebsArgs give Gitaly (gitStorage.kind gitaly) the EBS CSI driver, as a role of its own, and its class.
func ebsArgs(cfg *stacks.Config, refs awsRefs) *ebs.EBSStorageArgs {
	return &ebs.EBSStorageArgs{
		ClusterName: refs.clusterName, OIDCProviderARN: refs.oidcProviderARN, OIDCIssuer: refs.oidcIssuer,
		StorageClassName: cfg.GitStorage.StorageClass, Tags: cfg.Tags,
	}
}

// zoneSelectors pin each zone's Gitaly to the zone's nodes, as EKS labels them.
func zoneSelectors(cfg *stacks.Config) map[string]map[string]string {
	selectors := map[string]map[string]string{}
	for _, zone := range cfg.Zones {
		selectors[zone] = map[string]string{gitlab.ZoneLabel: zone}
	}
	return selectors
}

func gitalyArgs(cfg *stacks.Config, storageClass string) *gitaly.GitalyArgs {
	return stacks.GitalyArgs(cfg, zoneSelectors(cfg), storageClass)
}

// gitalyStorageClass is the class the stack builds for Gitaly's volumes.
func gitalyStorageClass(cfg *stacks.Config) string {
	if cfg.GitStorage.StorageClass != "" {
		return cfg.GitStorage.StorageClass
	}
	return "gitaly-gp3"
}

// gitStorageChecks are the pre-flight checks of the Git storage's components.
func gitStorageChecks(cfg *stacks.Config, refs awsRefs) []stacks.Check {
	if cfg.GitKind() == stacks.GitGitalyCluster {
		checks := []stacks.Check{{Component: "gitaly cluster", Validate: func() error { return gitalycluster.Validate(gitalyClusterArgs(cfg, refs)) },
			Key: stacks.Renames("gitStorage", map[string]string{"zones": "zones", "region": "region", "version": "gitlab.image", "release": "gitlab.image"})}}
		if needsDefaultGitaly(cfg) {
			checks = append(checks, stacks.Check{Component: "gitaly", Validate: func() error { return gitaly.Validate(defaultGitalyName, defaultGitalyArgs(cfg)) },
				Key: stacks.Renames("gitStorage", map[string]string{"zones": "zones"})})
		}
		return checks
	}
	if cfg.GitKind() != stacks.GitGitaly {
		return nil
	}
	return []stacks.Check{
		{Component: "gitaly volumes", Validate: func() error { return ebs.Validate(ebsArgs(cfg, refs)) },
			Key: stacks.Renames("gitStorage", map[string]string{"storageClassName": "gitStorage.storageClass"})},
		{Component: "gitaly", Validate: func() error { return gitaly.Validate(stacks.GitalyName, gitalyArgs(cfg, gitalyStorageClass(cfg))) },
			Key: stacks.Renames("gitStorage", map[string]string{"zones": "zones", "volumeSize": "gitStorage.volumeSizeGiB"})},
	}
}

// buildGitStorage builds what gitStorage.kind asks for beside GitLab, and hands GitLab its repositories
// through refs; it returns the plan's line on where Git data lives.
func buildGitStorage(ctx *pulumi.Context, cfg *stacks.Config, refs *awsRefs, onAWS pulumi.ResourceOption, eks *cluster.EKS) (string, error) {
	switch cfg.GitKind() {
	case stacks.GitGitalyCluster:
		refs.ami = ssm.LookupParameterOutput(ctx, ssm.LookupParameterOutputArgs{Name: pulumi.String(al2023Parameter)}, pulumi.Provider(refs.awsProvider)).Value()
		cluster, err := gitalycluster.NewGitalyCluster(ctx, gitalyClusterName, gitalyClusterArgs(cfg, *refs), onAWS)
		if err != nil {
			return "", err
		}
		refs.gitStorage = clusterStorage(cfg, cluster.Address, cluster.ExternalToken, cluster.ShellSecret, cluster.DatabasePassword, cluster.Ready())
		refs.gitalyInstances = map[string]pulumi.StringInput{}
		for zone, instance := range cluster.GitalyInstances {
			refs.gitalyInstances["gitaly-"+zone] = instance.ID().ToStringOutput()
		}
		for zone, instance := range cluster.PraefectInstances {
			refs.gitalyInstances["praefect-"+zone] = instance.ID().ToStringOutput()
		}
		if needsDefaultGitaly(cfg) {
			placeholder, err := defaultGitaly(ctx, cfg, refs, eks, cluster.ShellSecret)
			if err != nil {
				return "", err
			}
			refs.gitStorage.Repositories = append(refs.gitStorage.Repositories, placeholder.Repositories()...)
			refs.gitStorage.DependsOn = append(refs.gitStorage.DependsOn, placeholder.Resources()...)
		}
		return stacks.GitStorageNote(cfg, fmt.Sprintf("Gitaly Cluster, virtual storage %q: a Gitaly (its own encrypted gp3 volume) and a Praefect "+
			"instance in every zone's private subnet, Praefect behind an internal load balancer, its database on the stack's RDS; "+
			"secrets in SSM SecureString", cfg.VirtualStorageName())), nil
	case stacks.GitGitaly:
		volumes, err := ebs.NewEBSStorage(ctx, ebsStorageName, ebsArgs(cfg, *refs), pulumi.Providers(refs.awsProvider, eks.Provider))
		if err != nil {
			return "", err
		}
		git, err := gitaly.NewGitaly(ctx, stacks.GitalyName, gitalyArgs(cfg, gitalyStorageClass(cfg)), pulumi.Provider(eks.Provider),
			pulumi.DependsOn([]pulumi.Resource{volumes}))
		if err != nil {
			return "", err
		}
		refs.gitStorage = stacks.GitalyStorage(cfg, git)
		return stacks.GitStorageNote(cfg, "a Gitaly StatefulSet per zone on an encrypted gp3 EBS volume in its zone (StorageClass "+
			gitalyStorageClass(cfg)+", the EBS CSI add-on with a role of its own)"), nil
	}
	return "", nil // nfs: the plan says nothing new
}

// defaultGitalyName names the Gitaly that serves "default" beside a cluster GitLab knows by another name.
const defaultGitalyName = "gitaly-default"

// needsDefaultGitaly says whether GitLab's required "default" needs a home of its own: a stack moved off NFS
// keeps its repositories in the cluster's own name, and once NFS is retired nothing else serves "default".
func needsDefaultGitaly(cfg *stacks.Config) bool {
	return cfg.GitKind() == stacks.GitGitalyCluster && cfg.VirtualStorageName() != gitlab.DefaultStorageName && !cfg.GitStorage.KeepNFS
}

// defaultGitalyArgs serve the empty "default" (weight 0) from a small Gitaly in the first zone, on an EBS volume.
func defaultGitalyArgs(cfg *stacks.Config) *gitaly.GitalyArgs {
	args := stacks.GitalyArgs(cfg, map[string]map[string]string{cfg.Zones[0]: {gitlab.ZoneLabel: cfg.Zones[0]}}, gitalyStorageClass(cfg))
	args.Zones, args.VolumeSize, args.DefaultStorageOnly, args.WithoutDefaultStorage = args.Zones[:1], "10Gi", true, false
	return args
}

func defaultGitaly(ctx *pulumi.Context, cfg *stacks.Config, refs *awsRefs, eks *cluster.EKS, shellSecret pulumi.StringInput) (*gitaly.Gitaly, error) {
	volumes, err := ebs.NewEBSStorage(ctx, ebsStorageName, ebsArgs(cfg, *refs), pulumi.Providers(refs.awsProvider, eks.Provider))
	if err != nil {
		return nil, err
	}
	args := defaultGitalyArgs(cfg)
	args.ShellSecret = shellSecret // GitLab's is the cluster's
	return gitaly.NewGitaly(ctx, defaultGitalyName, args, pulumi.Provider(eks.Provider),
		pulumi.DependsOn([]pulumi.Resource{volumes}))
}
