package stacks

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Git storage kinds, gitlab-ha:gitStorage.kind.
const (
	// GitNFS keeps Git data on the zones' shared NFS volume, served by a Gitaly in every zone's pod: the
	// design this project was first asked for, which GitLab does not support. The default of dev and prod.
	GitNFS = "nfs"
	// GitGitaly runs one Gitaly StatefulSet per zone on that zone's block volume, each zone a repository
	// storage (what GitLab's Helm chart runs).
	GitGitaly = "gitaly"
	// GitGitalyCluster builds Gitaly Cluster on AWS instances: a Gitaly and a Praefect in every zone, an
	// internal load balancer for Praefect (GitLab's Cloud Native Hybrid reference architecture).
	GitGitalyCluster = "gitaly-cluster"
)

// GitStorageConfig is gitlab-ha:gitStorage: where Git repositories live.
type GitStorageConfig struct {
	// Kind is GitNFS (default), GitGitaly or GitGitalyCluster.
	Kind string `json:"kind,omitempty"`
	// KeepNFS keeps the NFS storage, as "default", beside the new one: for moving a running stack off NFS.
	KeepNFS bool `json:"keepNfs,omitempty"`
	// NFSWeight is the share of new repositories NFS takes while kept. Default 0.
	NFSWeight *int `json:"nfsWeight,omitempty"`
	// Weights are the zones' shares of new repositories with gitaly (zone to 0-100). Default 100 each.
	Weights map[string]int `json:"weights,omitempty"`
	// VolumeSizeGiB of each zone's Gitaly volume. Default 100.
	VolumeSizeGiB int `json:"volumeSizeGiB,omitempty"`
	// StorageClass (gitaly) provisions the zones' volumes: required on existing; linode's Block Storage class
	// and, on aws, the class the stack builds on the EBS CSI driver by default.
	StorageClass string `json:"storageClass,omitempty"`
	// VirtualStorage (gitaly-cluster) is the name GitLab knows the cluster by. Default "default", or "cluster"
	// while keepNfs holds "default".
	VirtualStorage string `json:"virtualStorage,omitempty"`
	// GitalyInstanceType and PraefectInstanceType (gitaly-cluster) size the instances.
	GitalyInstanceType   string `json:"gitalyInstanceType,omitempty"`
	PraefectInstanceType string `json:"praefectInstanceType,omitempty"`
}

// GitKind is gitStorage.kind, or GitNFS.
func (c *Config) GitKind() string {
	if c.GitStorage.Kind == "" {
		return GitNFS
	}
	return c.GitStorage.Kind
}

// StatelessZones reports whether the zones' GitLab pods keep no volume: Git data outside them, NFS not kept.
func (c *Config) StatelessZones() bool { return c.GitKind() != GitNFS && !c.GitStorage.KeepNFS }

// NeedsNFS reports whether the stack builds (or, on existing, mounts) the zones' NFS.
func (c *Config) NeedsNFS() bool { return !c.StatelessZones() }

// validateGitStorage checks gitStorage against the platform, the zones and the other keys.
func (c *Config) validateGitStorage(key func(string) string) error {
	g := c.GitStorage
	kind := c.GitKind()
	switch kind {
	case GitNFS, GitGitaly, GitGitalyCluster:
	default:
		return validate.Errorf(key("gitStorage.kind"), g.Kind, "is not %s, %s or %s", GitNFS, GitGitaly, GitGitalyCluster)
	}
	if kind == GitGitalyCluster {
		if c.Platform != PlatformAWS {
			return validate.Errorf(key("gitStorage.kind"), kind, "is available on platform aws only (Gitaly Cluster runs on instances; "+
				"GitLab does not support it in Kubernetes); choose %s on %s", GitGitaly, c.Platform)
		}
		if n := len(c.Zones); n < 3 || n%2 == 0 {
			return validate.Errorf(key("gitStorage.kind"), kind, "needs an odd number of zones, at least 3, one Gitaly and one Praefect "+
				"in each (Praefect's transactions need a tie-breaker); the stack has %d", n)
		}
	}
	only := func(field string, set bool, value any, kinds ...string) error {
		if set && !slices.Contains(kinds, kind) {
			return validate.Errorf(key("gitStorage."+field), value, "is set, but gitStorage.kind is %s", kind)
		}
		return nil
	}
	for _, f := range []struct {
		field string
		set   bool
		value any
		kinds []string
	}{
		{"keepNfs", g.KeepNFS, g.KeepNFS, []string{GitGitaly, GitGitalyCluster}},
		{"nfsWeight", g.NFSWeight != nil, g.NFSWeight, []string{GitGitaly, GitGitalyCluster}},
		{"weights", len(g.Weights) > 0, nil, []string{GitGitaly}},
		{"storageClass", g.StorageClass != "", g.StorageClass, []string{GitGitaly}},
		{"volumeSizeGiB", g.VolumeSizeGiB != 0, g.VolumeSizeGiB, []string{GitGitaly, GitGitalyCluster}},
		{"gitalyInstanceType", g.GitalyInstanceType != "", g.GitalyInstanceType, []string{GitGitalyCluster}},
		{"praefectInstanceType", g.PraefectInstanceType != "", g.PraefectInstanceType, []string{GitGitalyCluster}},
		{"virtualStorage", g.VirtualStorage != "", g.VirtualStorage, []string{GitGitalyCluster}},
	} {
		if err := only(f.field, f.set, f.value, f.kinds...); err != nil {
			return err
		}
	}
	if kind == GitGitalyCluster && c.Network.NATStrategy == "None" {
		return validate.Errorf(key("network.natStrategy"), "None", "leaves the private subnets without egress, but gitStorage.kind %s "+
			"installs GitLab's package on its instances from packages.gitlab.com and reads their secrets from SSM", kind)
	}
	if kind == GitGitalyCluster {
		if _, err := c.PackageRelease(); err != nil {
			return validate.Errorf(key("gitlab.image"), c.GitLab.Image, "%v", err)
		}
	}
	if g.NFSWeight != nil && !g.KeepNFS {
		return validate.Errorf(key("gitStorage.nfsWeight"), *g.NFSWeight, "is set, but gitStorage.keepNfs is false")
	}
	for zone := range g.Weights {
		if !slices.Contains(c.Zones, zone) {
			return validate.Errorf(key(fmt.Sprintf("gitStorage.weights[%q]", zone)), zone, "is not one of the stack's zones")
		}
	}
	if g.VolumeSizeGiB < 0 {
		return validate.Errorf(key("gitStorage.volumeSizeGiB"), g.VolumeSizeGiB, "is negative")
	}
	if kind == GitGitaly && c.Platform == PlatformExisting && g.StorageClass == "" {
		return validate.Errorf(key("gitStorage.storageClass"), nil, "is required with gitStorage.kind %s on platform existing: "+
			"the StorageClass that provisions each zone's block volume", GitGitaly)
	}
	if c.StatelessZones() {
		if !c.ObjectStorageOn() {
			return validate.Errorf(key("gitStorage.kind"), kind, "needs object storage: the zones' pods then keep no volume, so uploads, "+
				"artifacts and GitLab's other objects must live in buckets; turn objectStorage on, or set gitStorage.keepNfs")
		}
		if c.set["fileStorage"] {
			return validate.Errorf(key("fileStorage"), nil, "is set, but gitStorage.kind %s builds no shared file system (gitStorage.keepNfs is false)", kind)
		}
		if c.Platform == PlatformLinode && (c.Linode.FileStorage != "" || c.Linode.NFSVolumeGiB != 0) {
			return validate.Errorf(key("linode.fileStorage"), c.Linode.FileStorage, "is set, but gitStorage.kind %s gives the zones no volume "+
				"and builds no NFS server (gitStorage.keepNfs is false); remove linode.fileStorage and linode.nfsVolumeGiB", kind)
		}
		if c.Platform == PlatformExisting && (len(c.Existing.NFSServers) > 0 || c.Existing.NFSPath != "") {
			return validate.Errorf(key("existing.nfsServers"), nil, "is set, but gitStorage.kind %s mounts no NFS (gitStorage.keepNfs is false); remove it", kind)
		}
	}
	return nil
}

// GitVolumeSize is each Gitaly volume's size, as a Kubernetes quantity and in GiB.
func (c *Config) GitVolumeSizeGiB() int {
	if c.GitStorage.VolumeSizeGiB == 0 {
		return 100
	}
	return c.GitStorage.VolumeSizeGiB
}

// ZoneWeight is a zone's share of new repositories with gitaly; nil for the default.
func (c *Config) ZoneWeight(zone string) *int {
	if w, ok := c.GitStorage.Weights[zone]; ok {
		return &w
	}
	return nil
}

// GitStorageArgs are GitLab's Git storage arguments for repositories on servers outside its pods.
func GitStorageArgs(cfg *Config, repositories []gitlab.RepositoryStorage, shellSecret pulumi.StringInput, dependsOn []pulumi.Resource) gitlab.GitStorage {
	return gitlab.GitStorage{
		Repositories: repositories, KeepNFS: cfg.GitStorage.KeepNFS, NFSWeight: cfg.GitStorage.NFSWeight,
		ShellSecret: shellSecret, DependsOn: dependsOn,
	}
}

// GitStorageNote is the plan summary's line on where Git repositories live, with gitaly or gitaly-cluster;
// where says what holds them.
func GitStorageNote(cfg *Config, where string) string {
	if cfg.GitStorage.KeepNFS {
		return "Git storage: " + cfg.GitKind() + " — " + where + "; NFS kept as the storage \"default\" until its repositories are moved (README: \"A way off NFS\")"
	}
	return "Git storage: " + cfg.GitKind() + " — " + where + "; the zones' GitLab pods run no Gitaly and mount no volume"
}

// VirtualStorageName is the Gitaly Cluster's name in GitLab: gitStorage.virtualStorage, else "cluster" while
// NFS holds "default", else "default".
func (c *Config) VirtualStorageName() string {
	switch {
	case c.GitStorage.VirtualStorage != "":
		return c.GitStorage.VirtualStorage
	case c.GitStorage.KeepNFS:
		return "cluster"
	}
	return gitlab.DefaultStorageName
}

// omnibusTag is an Omnibus image tag, 18.11.11-ce.0: the version and the package's release.
var omnibusTag = regexp.MustCompile(`:([0-9]+\.[0-9]+\.[0-9]+)-((ce|ee)\.[0-9]+)$`)

// PackageRelease is the GitLab package the image's tag names, which Gitaly Cluster's instances install: the same
// release as GitLab's pods.
func (c *Config) PackageRelease() ([2]string, error) {
	image := c.GitLab.Image
	if image == "" {
		image = gitlab.DefaultImage
	}
	m := omnibusTag.FindStringSubmatch(image)
	if m == nil {
		return [2]string{}, fmt.Errorf("has no tag such as 18.11.11-ce.0, but gitStorage.kind %s installs the package the tag names on its instances", GitGitalyCluster)
	}
	return [2]string{m[1], m[2]}, nil
}
