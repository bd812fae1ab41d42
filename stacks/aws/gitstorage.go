package aws

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/cluster"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly/ebs"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/stacks"
)

// Names of the Git storage's components, and so of their resources: never change them.
const ebsStorageName = "gitaly-volumes"

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
