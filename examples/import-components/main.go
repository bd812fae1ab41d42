// Command import-components uses three gitlab-ha components directly: an EFS file system with a mount target in
// each of your zones, GitLab's S3 buckets with roles your cluster's service accounts assume, and GitLab on your
// own EKS cluster, one Deployment per zone on that zone's mount target, its objects in the buckets.
package main

import (
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/gitlab-ha/gitlab-ha/components/filesystem"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/components/objectstorage"
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

	// Your cluster's issuer must be registered with IAM (the cluster component does it for the stacks).
	buckets, err := objectstorage.NewS3(ctx, "gitlab-objects", &objectstorage.S3Args{
		OIDCProviderARN: pulumi.String(conf.Require("oidcProviderArn")), OIDCIssuer: pulumi.String(conf.Require("oidcIssuer")),
		ServiceAccount: gitlab.ServiceAccountName("gitlab"), BackupServiceAccount: gitlab.BackupServiceAccountName("gitlab"),
	}, pulumi.Provider(aws))
	if err != nil {
		return err
	}
	identity := func(role pulumi.StringInput) gitlab.ObjectStoreConnection {
		return gitlab.ObjectStoreConnection{Region: buckets.Region, WorkloadIdentity: pulumi.StringMap{"eks.amazonaws.com/role-arn": role}}
	}
	objectBuckets := map[string]pulumi.StringInput{}
	for _, objectType := range gitlab.ObjectTypes() {
		objectBuckets[objectType] = buckets.Buckets.MapIndex(pulumi.String(objectType))
	}

	cluster, err := providers.Kubernetes(ctx, "cluster", conf.RequireSecret("kubeconfig"))
	if err != nil {
		return err
	}
	args := &gitlab.GitLabArgs{
		ExternalURL:   pulumi.String("http://" + conf.Get("host")),
		Database:      gitlab.Database{Host: pulumi.String(conf.Require("databaseHost")), Password: conf.RequireSecret("databasePassword")},
		Service:       gitlab.Service{Type: "LoadBalancer"},
		ObjectStorage: &gitlab.ObjectStorage{Connection: identity(buckets.RoleARN), Buckets: objectBuckets},
		Backup:        &gitlab.Backup{Bucket: buckets.BackupBucket, Connection: identity(buckets.BackupRoleARN)},
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
	ctx.Export("buckets", buckets.Buckets)
	ctx.Export("backupBucket", buckets.BackupBucket)
	return nil
}
