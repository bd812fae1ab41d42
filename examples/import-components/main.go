// Command import-components uses two gitlab-ha components directly: an EFS file system with a mount target in
// each of your zones, and GitLab on your own EKS cluster, one Deployment per zone on that zone's mount target.
package main

import (
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/gitlab-ha/gitlab-ha/components/filesystem"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/providers"
	"github.com/gitlab-ha/gitlab-ha/providers/awsprovider"
)

func main() {
	pulumi.Run(run)
}

func run(ctx *pulumi.Context) error {
	conf := config.New(ctx, "")
	var subnets map[string]string
	conf.RequireObject("privateSubnetIds", &subnets)
	zones := make([]string, 0, len(subnets))
	subnetIDs := map[string]pulumi.StringInput{}
	for zone, id := range subnets {
		zones = append(zones, zone)
		subnetIDs[zone] = pulumi.String(id)
	}
	sort.Strings(zones)

	aws, err := awsprovider.New(ctx, "aws", awsprovider.Args{Region: conf.Get("region")})
	if err != nil {
		return err
	}
	files, err := filesystem.NewEFS(ctx, "gitlab-data", &filesystem.EFSArgs{
		VpcID: pulumi.String(conf.Require("vpcId")), Zones: zones, SubnetIDs: subnetIDs,
		ClientSecurityGroupID: pulumi.String(conf.Require("nodeSecurityGroupId")),
		AllowNonTLSClients:    true, // GitLab's volumes are Kubernetes NFS volumes, which cannot use TLS
	}, pulumi.Provider(aws))
	if err != nil {
		return err
	}

	cluster, err := providers.Kubernetes(ctx, "cluster", conf.RequireSecret("kubeconfig"))
	if err != nil {
		return err
	}
	args := &gitlab.GitLabArgs{
		ExternalURL: pulumi.String("http://" + conf.Get("host")),
		Database:    gitlab.Database{Host: pulumi.String(conf.Require("databaseHost")), Password: conf.RequireSecret("databasePassword")},
		Service:     gitlab.Service{Type: "LoadBalancer"},
	}
	for _, zone := range zones {
		args.Zones = append(args.Zones, gitlab.Zone{Name: zone, Storage: gitlab.Storage{NFS: &gitlab.NFS{Server: files.MountTargetIP(zone)}}})
	}
	site, err := gitlab.NewGitLab(ctx, "gitlab", args, pulumi.Provider(cluster))
	if err != nil {
		return err
	}
	ctx.Export("fileSystemId", files.FileSystemID)
	ctx.Export("mountTargets", files.MountTargetIPs)
	ctx.Export("deployments", site.Deployments)
	ctx.Export("url", site.URL)
	return nil
}
