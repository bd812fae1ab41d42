// Package stacks is what every platform's composition shares, with no cloud SDK: the typed configuration,
// the pre-flight, the stack's outputs and the program around a deployment. The compositions are
// stacks/aws, stacks/linode and stacks/existing, one package a platform, so that a program importing one
// compiles that platform's SDKs and no other; stacks/all picks one by gitlab-ha:platform, and is what
// `pulumi up -s dev` runs.
package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

// GitLabName names the GitLab component, and so its Kubernetes objects, on every platform.
const GitLabName = "gitlab"

// Outputs are what a deployment leaves for its users: the stack's outputs, and the GitLab component.
type Outputs struct {
	URL              pulumi.StringOutput
	SSHEndpoint      pulumi.StringOutput
	LoadBalancer     pulumi.StringOutput
	ClusterName      pulumi.StringOutput
	Kubeconfig       pulumi.StringOutput // secret
	DatabaseEndpoint pulumi.StringOutput
	FileSystemID     pulumi.StringOutput
	MountTargets     pulumi.StringMapOutput // zone → NFS server
	RootPassword     pulumi.StringOutput    // secret
	// ObjectBuckets are GitLab's buckets by object type, BackupBucket the backups': empty without them.
	ObjectBuckets pulumi.StringMapOutput
	BackupBucket  pulumi.StringOutput
	GitLab        *gitlab.GitLab

	// Notes are lines for the plan's summary: what the stack chose where its resources alone do not say it.
	Notes []string
}

// DeployFunc builds one platform's stack from a configuration: stacks/aws, stacks/linode and
// stacks/existing each have one (Deploy), and stacks/all one that picks by gitlab-ha:platform.
type DeployFunc func(ctx *pulumi.Context, cfg *Config) (*Outputs, error)

// Program is the Pulumi program around deploy: load the configuration, deploy, watch what was deployed (Monitor,
// with monitoring.prometheusOperator), export the outputs.
func Program(deploy DeployFunc) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := Load(ctx)
		if err != nil {
			return err
		}
		out, err := deploy(ctx, cfg)
		if err != nil {
			return err
		}
		if _, err := Monitor(ctx, cfg, out); err != nil {
			return err
		}
		out.Export(ctx)
		return nil
	}
}

// Export publishes the outputs as the stack's.
func (o *Outputs) Export(ctx *pulumi.Context) {
	ctx.Export("url", o.URL)
	ctx.Export("sshEndpoint", o.SSHEndpoint)
	ctx.Export("loadBalancer", o.LoadBalancer)
	ctx.Export("clusterName", o.ClusterName)
	ctx.Export("kubeconfig", pulumi.ToSecret(o.Kubeconfig))
	ctx.Export("databaseEndpoint", o.DatabaseEndpoint)
	ctx.Export("fileSystemId", o.FileSystemID)
	ctx.Export("mountTargets", o.MountTargets)
	ctx.Export("initialRootPassword", pulumi.ToSecret(o.RootPassword))
	buckets, backup := o.ObjectBuckets, o.BackupBucket
	if buckets.OutputState == nil {
		buckets = pulumi.StringMap{}.ToStringMapOutput()
	}
	if backup.OutputState == nil {
		backup = pulumi.String("").ToStringOutput()
	}
	ctx.Export("objectBuckets", buckets)
	ctx.Export("backupBucket", backup)
}

// GitLabArgs are the GitLab arguments every platform shares; zones, storage and the Service are the
// platform's to add.
func GitLabArgs(cfg *Config, url pulumi.StringInput, db gitlab.Database, redis *gitlab.Redis) *gitlab.GitLabArgs {
	g := cfg.GitLab
	var keys pulumi.StringMap
	for name, value := range cfg.GitLabKeys {
		if keys == nil {
			keys = pulumi.StringMap{}
		}
		keys[name] = pulumi.String(value) // the component keeps each secret; a literal lets it check the form
	}
	return &gitlab.GitLabArgs{
		Keys:      keys,
		Namespace: GitLabNamespace, ExternalURL: url, Image: g.Image, ReplicasPerZone: g.ReplicasPerZone, Database: db, Redis: redis,
		Resources: gitlab.Resources{
			CPURequest: g.Resources.CPURequest, MemoryRequest: g.Resources.MemoryRequest,
			CPULimit: g.Resources.CPULimit, MemoryLimit: g.Resources.MemoryLimit,
		},
		Metrics: gitlab.Metrics{ScraperNamespace: cfg.Monitoring.PrometheusNamespace, ScraperLabels: cfg.Monitoring.PrometheusPodLabels},
	}
}

// ExternalURL is https://host with a certificate, http://host without, and the load balancer's address
// when no host is configured.
func ExternalURL(cfg *Config, loadBalancer pulumi.StringInput) pulumi.StringInput {
	switch {
	case cfg.GitLab.Host != "" && cfg.GitLab.CertificateARN != "":
		return pulumi.String("https://" + cfg.GitLab.Host)
	case cfg.GitLab.Host != "":
		return pulumi.String("http://" + cfg.GitLab.Host)
	case loadBalancer == nil:
		return nil
	}
	return pulumi.Sprintf("http://%s", loadBalancer)
}

// SSHEndpoint is where users clone over SSH.
func SSHEndpoint(cfg *Config, loadBalancer pulumi.StringInput) pulumi.StringOutput {
	host := loadBalancer
	if cfg.GitLab.Host != "" {
		host = pulumi.String(cfg.GitLab.Host)
	}
	return pulumi.Sprintf("ssh://git@%s:22", host)
}
