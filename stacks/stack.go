// Package stacks is the Pulumi program behind `pulumi up -s dev` and `-s prod`: typed configuration in,
// components composed for the chosen platform, stack outputs out. Other programs import Deploy to get the
// same composition from a Config of their own.
package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// gitlabName names the GitLab component, and so its Kubernetes objects.
const gitlabName = "gitlab"

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
	GitLab           *gitlab.GitLab
}

// Program is the Pulumi program: load and check the configuration, deploy, export.
func Program(ctx *pulumi.Context) error {
	return run(ctx, "")
}

// ProgramFor is Program for one platform only: a program of its own (an example, a team's wrapper) refuses
// a stack configured for another.
func ProgramFor(platform string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error { return run(ctx, platform) }
}

// run loads, deploys and exports; a platform other than "" must be the configured one.
func run(ctx *pulumi.Context, platform string) error {
	cfg, err := Load(ctx)
	if err != nil {
		return err
	}
	if platform != "" && cfg.Platform != platform {
		return validate.Errorf(Namespace+":platform", cfg.Platform, "is not %s, the only platform this program builds", platform)
	}
	out, err := Deploy(ctx, cfg)
	if err != nil {
		return err
	}
	out.Export(ctx)
	return nil
}

// Deploy checks every component's arguments, then builds the stack for cfg.Platform. A bad configuration
// returns one error naming its key, and registers nothing.
func Deploy(ctx *pulumi.Context, cfg *Config) (*Outputs, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Platform {
	case PlatformAWS:
		if err := preflight(awsChecks(cfg)...); err != nil {
			return nil, err
		}
		return deployAWS(ctx, cfg)
	case PlatformLinode:
		if err := preflight(linodeChecks(cfg)...); err != nil {
			return nil, err
		}
		return deployLinode(ctx, cfg)
	case PlatformExisting:
		if err := preflight(existingChecks(cfg)...); err != nil {
			return nil, err
		}
		return deployExisting(ctx, cfg)
	}
	return nil, validate.Errorf(Namespace+":platform", cfg.Platform, "is not built")
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
}

// gitLabArgs are the GitLab arguments every platform shares; zones, storage and the Service are the
// platform's to add.
func gitLabArgs(cfg *Config, url pulumi.StringInput, db gitlab.Database, redis *gitlab.Redis) *gitlab.GitLabArgs {
	g := cfg.GitLab
	return &gitlab.GitLabArgs{
		ExternalURL: url, Image: g.Image, ReplicasPerZone: g.ReplicasPerZone, Database: db, Redis: redis,
		Resources: gitlab.Resources{
			CPURequest: g.Resources.CPURequest, MemoryRequest: g.Resources.MemoryRequest,
			CPULimit: g.Resources.CPULimit, MemoryLimit: g.Resources.MemoryLimit,
		},
	}
}

// externalURL is https://host with a certificate, http://host without, and the load balancer's address
// when no host is configured.
func externalURL(cfg *Config, loadBalancer pulumi.StringInput) pulumi.StringInput {
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

// sshEndpoint is where users clone over SSH.
func sshEndpoint(cfg *Config, loadBalancer pulumi.StringInput) pulumi.StringOutput {
	host := loadBalancer
	if cfg.GitLab.Host != "" {
		host = pulumi.String(cfg.GitLab.Host)
	}
	return pulumi.Sprintf("ssh://git@%s:22", host)
}
