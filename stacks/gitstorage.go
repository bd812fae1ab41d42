package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/gitaly"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

// GitalyName names the Gitaly component, and so its Kubernetes objects: never change it.
const GitalyName = "gitaly"

// GitLabInternalURL is GitLab's internal API as the cluster reaches it: its Service, in its namespace.
var GitLabInternalURL = pulumi.String(fmt.Sprintf("http://%s.%s.svc", GitLabName, GitLabNamespace))

// GitalyArgs are the Gitaly component's arguments for gitStorage.kind gitaly: a StatefulSet in every zone,
// on nodes the platform's selectors name, on volumes of storageClass.
func GitalyArgs(cfg *Config, selectors map[string]map[string]string, storageClass string) *gitaly.GitalyArgs {
	args := &gitaly.GitalyArgs{
		ClientNamespace: GitLabNamespace, MonitoringNamespace: cfg.PrometheusNamespaceName(), StorageClass: storageClass, VolumeSize: fmt.Sprintf("%dGi", cfg.GitVolumeSizeGiB()),
		Image: cfg.GitLab.Image, GitLabURL: GitLabInternalURL, WithoutDefaultStorage: cfg.GitStorage.KeepNFS,
	}
	for _, zone := range cfg.Zones {
		args.Zones = append(args.Zones, gitaly.Zone{Name: zone, NodeSelector: selectors[zone]})
	}
	return args
}

// GitalyStorage hands GitLab the zones' Gitaly, each with the weight gitStorage.weights gives its zone, and
// makes its migrations wait for every zone's Gitaly.
func GitalyStorage(cfg *Config, g *gitaly.Gitaly) gitlab.GitStorage {
	repositories := g.Repositories()
	for i, r := range repositories {
		for _, zone := range cfg.Zones {
			if r.Name == gitaly.StorageName(zone) {
				repositories[i].Weight = cfg.ZoneWeight(zone)
			}
		}
	}
	return GitStorageArgs(cfg, repositories, g.ShellSecret, g.Resources())
}

// StandInGitalyStorage is GitalyStorage for the pre-flight: literal addresses and tokens, the same names
// and weights.
func StandInGitalyStorage(cfg *Config) gitlab.GitStorage {
	var repositories []gitlab.RepositoryStorage
	for _, zone := range cfg.Zones {
		repositories = append(repositories, gitlab.RepositoryStorage{Name: gitaly.StorageName(zone),
			Address: pulumi.String("tcp://gitaly-" + zone + ":8075"), Token: pulumi.String("stand-in"), Weight: cfg.ZoneWeight(zone)})
	}
	if !cfg.GitStorage.KeepNFS {
		repositories = append(repositories, gitlab.RepositoryStorage{Name: gitlab.DefaultStorageName,
			Address: pulumi.String("tcp://gitaly-" + cfg.Zones[0] + ":8075"), Token: pulumi.String("stand-in"), Weight: pulumi.IntRef(0)})
	}
	return GitStorageArgs(cfg, repositories, pulumi.String("stand-in"), nil)
}
