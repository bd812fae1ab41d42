// Package existing composes GitLab alone onto a cluster that exists already (any kubeconfig), with the
// team's own PostgreSQL, an NFS server per zone and, when configured, their S3-compatible object storage. It
// compiles the Kubernetes SDK and no cloud's.
package existing

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/gitaly"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/providers"
	"github.com/gitlab-ha/gitlab-ha/stacks"
)

// existingGitLabArgs deploys GitLab onto a cluster that exists already: zones are node label values, each
// zone's storage an NFS server of the team's, the database theirs.
func existingGitLabArgs(cfg *stacks.Config, gitStorage gitlab.GitStorage) *gitlab.GitLabArgs {
	e := cfg.Existing
	db := gitlab.Database{Host: optionalString(e.Database.Host), Password: cfg.DatabasePassword, SSLMode: e.Database.SSLMode}
	if e.Database.Port != 0 {
		db.Port = pulumi.Int(e.Database.Port)
	}
	if e.Database.Name != "" {
		db.Name = pulumi.String(e.Database.Name)
	}
	if e.Database.User != "" {
		db.User = pulumi.String(e.Database.User)
	}
	args := stacks.GitLabArgs(cfg, stacks.ExternalURL(cfg, nil), db, nil)
	selectors := zoneSelectors(cfg)
	for _, zone := range cfg.Zones {
		selector := selectors[zone]
		storage := gitlab.Storage{NFS: &gitlab.NFS{Server: optionalString(e.NFSServers[zone]), Path: e.NFSPath}}
		if cfg.StatelessZones() {
			storage = gitlab.Storage{} // Git data lives in Gitaly, everything else in object storage
		}
		args.Zones = append(args.Zones, gitlab.Zone{Name: zone, NodeSelector: selector, Storage: storage})
	}
	args.GitStorage = gitStorage
	args.Service = existingService(cfg)
	args.ObjectStorage, args.Backup = existingStorage(cfg)
	return args
}

// existingService is the GitLab Service on the team's cluster: a LoadBalancer one by default, which the
// cluster's controller builds a load balancer for, and which checks the health-check port if the controller
// follows Kubernetes' convention for a Local Service. serviceType NodePort is for a load balancer of the
// team's own in front of the node ports: Kubernetes gives a health-check port to a LoadBalancer Service
// only, so it is a LoadBalancer Service of a class no controller implements, which no cloud acts on. With
// existing.proxyProtocolFrom, GitLab reads that load balancer's PROXY protocol.
func existingService(cfg *stacks.Config) gitlab.Service {
	e := cfg.Existing
	switch e.ServiceType {
	case "ClusterIP":
		return gitlab.Service{Type: "ClusterIP", HealthCheckNodePort: cfg.GitLab.HealthCheckNodePort} // refused if set: no load balancer checks it
	case "NodePort":
		s := gitlab.Service{Type: "LoadBalancer", LoadBalancerClass: gitlab.ExternalLoadBalancerClass, HealthCheckNodePort: cfg.GitLab.HealthCheckNodePort}
		if len(e.ProxyProtocolFrom) > 0 {
			s.ProxyProtocol = &gitlab.ProxyProtocol{TrustedCIDRs: e.ProxyProtocolFrom}
		}
		return s
	}
	return gitlab.Service{Type: "LoadBalancer", HealthCheckNodePort: cfg.GitLab.HealthCheckNodePort}
}

// existingStorage connects GitLab to the team's S3-compatible service, when objectStorage.buckets names
// buckets there, and the backup job to backup.bucket, with the backup key if one is given and GitLab's
// otherwise. The job deletes archives past backup.retentionDays itself, unless that is 0: the bucket's own
// rules then bound their age. Nil for what is not configured.
func existingStorage(cfg *stacks.Config) (*gitlab.ObjectStorage, *gitlab.Backup) {
	o := cfg.ObjectStorage
	connection := func(key stacks.AccessKey) gitlab.ObjectStoreConnection {
		return gitlab.ObjectStoreConnection{
			Region: optionalString(o.Region), Endpoint: optionalString(o.Endpoint), PathStyle: o.PathStyle,
			AccessKeyID: key.ID, SecretAccessKey: key.Secret,
		}
	}
	var objects *gitlab.ObjectStorage
	if cfg.ObjectStorageOn() {
		buckets := map[string]pulumi.StringInput{}
		for objectType, bucket := range o.Buckets {
			buckets[objectType] = pulumi.String(bucket)
		}
		objects = &gitlab.ObjectStorage{Connection: connection(cfg.ObjectStorageKey), Buckets: buckets}
	}
	var backup *gitlab.Backup
	if cfg.BackupOn() {
		key := cfg.BackupKey
		if key.ID == nil {
			key = cfg.ObjectStorageKey
		}
		backup = stacks.GitLabBackup(cfg, optionalString(cfg.Backup.Bucket), connection(key), cfg.BackupRetentionDays())
	}
	return objects, backup
}

// storageNotes say where the team's service keeps GitLab's objects and backups.
func storageNotes(cfg *stacks.Config) []string {
	o := cfg.ObjectStorage
	service := "Amazon S3 in " + o.Region
	if o.Endpoint != "" {
		service = "the S3-compatible service at " + o.Endpoint
	}
	retention := fmt.Sprintf("the job deletes archives older than %d days", cfg.BackupRetentionDays())
	if cfg.BackupRetentionDays() == 0 {
		retention = "the bucket's own rules bound the archives' age (backup.retentionDays 0)"
	}
	return stacks.StorageNotes(cfg, service+", in the buckets objectStorage.buckets names",
		fmt.Sprintf("bucket %s on %s; %s", cfg.Backup.Bucket, service, retention))
}

// optionalString is nil for "", so that a missing value reads as missing.
func optionalString(s string) pulumi.StringInput {
	if s == "" {
		return nil
	}
	return pulumi.String(s)
}

// Program is the Pulumi program of an existing-cluster stack; it refuses a stack configured for another
// platform.
var Program = stacks.Program(Deploy)

// checks are the pre-flight checks of an existing-cluster stack: the GitLab component's, and Gitaly's.
func checks(cfg *stacks.Config) []stacks.Check {
	var gitStorage gitlab.GitStorage
	if cfg.GitKind() == stacks.GitGitaly {
		gitStorage = stacks.StandInGitalyStorage(cfg)
	}
	checks := []stacks.Check{{Component: "gitlab", Validate: func() error { return gitlab.Validate(stacks.GitLabName, existingGitLabArgs(cfg, gitStorage)) }, Key: stacks.GitLabKey(cfg.Zones)}}
	if cfg.GitKind() == stacks.GitGitaly {
		checks = append(checks, stacks.Check{Component: "gitaly",
			Validate: func() error { return gitaly.Validate(stacks.GitalyName, gitalyArgs(cfg)) },
			Key: stacks.Renames("gitStorage", map[string]string{"zones": "zones", "volumeSize": "gitStorage.volumeSizeGiB",
				"nodeSelector": "existing.zoneLabel"})})
	}
	return checks
}

// zoneSelectors are each zone's node selector: the zone label's value.
func zoneSelectors(cfg *stacks.Config) map[string]map[string]string {
	label := cfg.Existing.ZoneLabel
	if label == "" {
		label = gitlab.ZoneLabel
	}
	selectors := map[string]map[string]string{}
	for _, zone := range cfg.Zones {
		selectors[zone] = map[string]string{label: zone}
	}
	return selectors
}

// gitalyArgs run each zone's Gitaly on the zone's nodes, on volumes of gitStorage.storageClass.
func gitalyArgs(cfg *stacks.Config) *gitaly.GitalyArgs {
	return stacks.GitalyArgs(cfg, zoneSelectors(cfg), cfg.GitStorage.StorageClass)
}

// Deploy checks the configuration and the GitLab component's arguments, then builds only the GitLab
// component, on the cluster the kubeconfig names. A bad configuration returns one error naming its key, and
// registers nothing.
func Deploy(ctx *pulumi.Context, cfg *stacks.Config) (*stacks.Outputs, error) {
	if err := stacks.Preflight(cfg, stacks.PlatformExisting, checks); err != nil {
		return nil, err
	}
	provider, err := providers.Kubernetes(ctx, "existing", cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	var gitStorage gitlab.GitStorage
	notes := storageNotes(cfg)
	if cfg.GitKind() == stacks.GitGitaly {
		git, err := gitaly.NewGitaly(ctx, stacks.GitalyName, gitalyArgs(cfg), pulumi.Provider(provider))
		if err != nil {
			return nil, err
		}
		gitStorage = stacks.GitalyStorage(cfg, git)
		notes = append(notes, stacks.GitStorageNote(cfg, "a Gitaly StatefulSet per zone on StorageClass "+cfg.GitStorage.StorageClass))
	}
	site, err := gitlab.NewGitLab(ctx, stacks.GitLabName, existingGitLabArgs(cfg, gitStorage), pulumi.Provider(provider))
	if err != nil {
		return nil, err
	}
	servers := pulumi.StringMap{}
	for zone, server := range cfg.Existing.NFSServers {
		servers[zone] = pulumi.String(server)
	}
	return &stacks.Outputs{
		URL: site.URL, SSHEndpoint: stacks.SSHEndpoint(cfg, site.ServiceName), LoadBalancer: serviceAddress(site),
		ClusterName: pulumi.String("existing").ToStringOutput(), Kubeconfig: pulumi.ToSecret(cfg.Kubeconfig).(pulumi.StringOutput),
		DatabaseEndpoint: pulumi.Sprintf("%s:%d", cfg.Existing.Database.Host, portOr(cfg.Existing.Database.Port, 5432)),
		FileSystemID:     pulumi.String("").ToStringOutput(), MountTargets: servers.ToStringMapOutput(),
		RootPassword: site.RootPassword, GitLab: site,
		ObjectBuckets: configuredBuckets(cfg), BackupBucket: pulumi.String(cfg.Backup.Bucket).ToStringOutput(),
		Notes: notes,
	}, nil
}

// serviceAddress is the address a cloud controller gave the GitLab Service, or "" while it has none (and
// always for a NodePort or ClusterIP Service, which has no load balancer status at all).
func serviceAddress(site *gitlab.GitLab) pulumi.StringOutput {
	return site.Service.Status.ApplyT(func(status *corev1.ServiceStatus) string {
		if status == nil || status.LoadBalancer == nil {
			return ""
		}
		for _, ingress := range status.LoadBalancer.Ingress {
			if ingress.Hostname != nil && *ingress.Hostname != "" {
				return *ingress.Hostname
			}
			if ingress.Ip != nil && *ingress.Ip != "" {
				return *ingress.Ip
			}
		}
		return ""
	}).(pulumi.StringOutput)
}

// configuredBuckets are the team's buckets GitLab uses, by object type; none without object storage.
func configuredBuckets(cfg *stacks.Config) pulumi.StringMapOutput {
	buckets := pulumi.StringMap{}
	if cfg.ObjectStorageOn() {
		for objectType, bucket := range cfg.ObjectStorage.Buckets {
			buckets[objectType] = pulumi.String(bucket)
		}
	}
	return buckets.ToStringMapOutput()
}

func portOr(port, fallback int) int {
	if port == 0 {
		return fallback
	}
	return port
}
