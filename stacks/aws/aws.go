// Package aws composes the AWS stack: VPC, EKS, RDS, EFS, the NLB, ElastiCache and GitLab, wired zone by
// zone. It compiles the AWS and Kubernetes SDKs and no other cloud's.
package aws

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/cluster"
	"github.com/gitlab-ha/gitlab-ha/components/database"
	"github.com/gitlab-ha/gitlab-ha/components/filesystem"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer"
	"github.com/gitlab-ha/gitlab-ha/components/network"
	"github.com/gitlab-ha/gitlab-ha/components/objectstorage"
	"github.com/gitlab-ha/gitlab-ha/components/redis"
	"github.com/gitlab-ha/gitlab-ha/providers/awsprovider"
	"github.com/gitlab-ha/gitlab-ha/stacks"
)

// Fixed node ports of the GitLab Service: the load balancer's target groups send to them, and check its
// health-check node port (gitlab-ha:gitlab.healthCheckNodePort).
const (
	httpNodePort         = 30080
	sshNodePort          = 30022
	httpRedirectNodePort = 30081 // where TLS ends at the NLB, its port 80 sends here
)

// healthCheckNodePort is the configured health-check port, or the GitLab component's default.
func healthCheckNodePort(cfg *stacks.Config) int {
	if port := cfg.GitLab.HealthCheckNodePort; port != 0 {
		return port
	}
	return gitlab.DefaultHealthCheckNodePort
}

// terminatesTLS: with a certificate, TLS ends at the NLB and GitLab serves plain HTTP behind it.
func terminatesTLS(cfg *stacks.Config) bool { return cfg.GitLab.CertificateARN != "" }

// awsRefs are the values one AWS component takes from another. The pre-flight fills them with stand-ins
// (the builders below are the same for both), the deployment with real outputs.
type awsRefs struct {
	vpcID, vpcCIDR                pulumi.StringInput
	publicSubnets, privateSubnets map[string]pulumi.StringInput
	nodeSecurityGroup             pulumi.StringInput
	autoscalingGroups             map[string]pulumi.StringInput
	mountTargets                  map[string]pulumi.StringInput
	loadBalancerDNS               pulumi.StringInput
	db                            gitlab.Database
	redis                         *gitlab.Redis
	oidcProviderARN, oidcIssuer   pulumi.StringInput
	objectStorage                 *gitlab.ObjectStorage
	backup                        *gitlab.Backup
	clusterName                   pulumi.StringInput
	gitStorage                    gitlab.GitStorage
	dbSecurityGroup, ami          pulumi.StringInput
	awsProvider                   pulumi.ProviderResource
	// gitalyInstances are the Gitaly Cluster's instances (gitaly-<zone>, praefect-<zone>), for the alarms.
	gitalyInstances map[string]pulumi.StringInput
}

// standIns are references for the pre-flight: literal, non-empty, and for the VPC's CIDR the value the
// network will have, so that checks against it are real.
func standIns(cfg *stacks.Config) awsRefs {
	zoneMap := func(what string) map[string]pulumi.StringInput {
		m := map[string]pulumi.StringInput{}
		for _, zone := range cfg.Zones {
			m[zone] = pulumi.String(what + "-" + zone)
		}
		return m
	}
	cidr := cfg.Network.CIDR
	if cfg.Network.ExistingVpcCIDR != "" {
		cidr = cfg.Network.ExistingVpcCIDR
	}
	if cidr == "" {
		cidr = "10.0.0.0/16"
	}
	refs := awsRefs{
		vpcID: pulumi.String("vpc"), vpcCIDR: pulumi.String(cidr), publicSubnets: zoneMap("public"),
		privateSubnets: zoneMap("private"), nodeSecurityGroup: pulumi.String("nodes"),
		autoscalingGroups: zoneMap("asg"), mountTargets: zoneMap("mount-target"), loadBalancerDNS: pulumi.String("lb.example.com"),
		db: gitlab.Database{Host: pulumi.String("db"), Password: pulumi.String("password")},
	}
	if cfg.Redis.Mode == stacks.RedisManaged {
		refs.redis = &gitlab.Redis{Host: pulumi.String("redis")}
	}
	issuer := "oidc.eks." + cfg.Region + ".amazonaws.com/id/STANDIN"
	refs.oidcIssuer = pulumi.String("https://" + issuer)
	refs.oidcProviderARN = pulumi.String("arn:aws:iam::123456789012:oidc-provider/" + issuer)
	role := func(name string) pulumi.StringInput { return pulumi.String("arn:aws:iam::123456789012:role/" + name) }
	refs.objectStorage, refs.backup = s3Storage(cfg, pulumi.String(cfg.Region), stacks.StandInBuckets(), pulumi.String("stand-in-backups"),
		role("stand-in-gitlab"), role("stand-in-backup"))
	refs.clusterName = pulumi.String("stand-in-cluster")
	refs.dbSecurityGroup, refs.ami = pulumi.String("sg-database"), pulumi.String("ami-stand-in")
	switch cfg.GitKind() {
	case stacks.GitGitaly:
		refs.gitStorage = stacks.StandInGitalyStorage(cfg)
	case stacks.GitGitalyCluster:
		standIn := pulumi.String("stand-in")
		refs.gitStorage = clusterStorage(cfg, pulumi.String("tcp://praefect.internal:2305"), standIn, standIn, standIn, nil)
		if needsDefaultGitaly(cfg) {
			refs.gitStorage.Repositories = append(refs.gitStorage.Repositories, gitlab.RepositoryStorage{
				Name: gitlab.DefaultStorageName, Address: pulumi.String("tcp://gitaly-default:8075"), Token: standIn, Weight: pulumi.IntRef(0)})
		}
	}
	return refs
}

func networkArgs(cfg *stacks.Config) *network.NetworkArgs {
	args := &network.NetworkArgs{
		Region: cfg.Region, Zones: cfg.Zones, CIDR: cfg.Network.CIDR, NATStrategy: cfg.Network.NATStrategy,
		FlowLogs: cfg.Network.FlowLogs,
	}
	if cfg.Network.ExistingVpcID != "" {
		args.Existing = &network.ExistingNetwork{
			VpcID: pulumi.String(cfg.Network.ExistingVpcID), CIDR: pulumi.String(cfg.Network.ExistingVpcCIDR),
			PublicSubnetIDs: toInputs(cfg.Network.ExistingPublicSubnetIDs), PrivateSubnetIDs: toInputs(cfg.Network.ExistingPrivateSubnetIDs),
		}
	}
	return args
}

func clusterArgs(cfg *stacks.Config, refs awsRefs) *cluster.EKSArgs {
	c := cfg.Cluster
	return &cluster.EKSArgs{
		Region: cfg.Region, Version: c.Version, VpcID: refs.vpcID, VpcCIDR: refs.vpcCIDR, Zones: cfg.Zones,
		PrivateSubnetIDs: refs.privateSubnets, PublicEndpoint: c.APIAccess == stacks.APIPublic,
		PublicAccessCIDRs: c.PublicAccessCIDRs, PrivateAccessCIDRs: c.PrivateAccessCIDRs, Addons: addonVersions(c.Addons), ServiceCIDR: c.ServiceCIDR, InstanceTypes: c.InstanceTypes,
		Nodes:       cluster.NodeCounts{Min: c.NodesPerZone.Min, Desired: c.NodesPerZone.Desired, Max: c.NodesPerZone.Max},
		DiskSizeGiB: c.DiskSizeGiB, UpgradePolicy: c.UpgradePolicy, AdminPrincipalARNs: c.AdminPrincipalARNs, Protect: cfg.Protect,
	}
}

// cloudChecks ask EKS, through the stack's provider, whether it offers the cluster's Kubernetes version (in
// standard support, unless cluster.upgradePolicy chooses extended) and its add-on builds.
func cloudChecks(ctx *pulumi.Context, cfg *stacks.Config, provider pulumi.ProviderResource) []stacks.Check {
	args, onAWS := clusterArgs(cfg, standIns(cfg)), pulumi.Provider(provider)
	key := stacks.Renames("cluster", map[string]string{})
	return []stacks.Check{
		{Component: "cluster", Validate: func() error { return cluster.EKSVersionOffered(ctx, args, onAWS) }, Key: key},
		{Component: "cluster", Validate: func() error { return cluster.EKSAddonsOffered(ctx, args, onAWS) }, Key: key},
	}
}

func databaseArgs(cfg *stacks.Config, refs awsRefs) *database.RDSArgs {
	d := cfg.Database
	return &database.RDSArgs{
		VpcID: refs.vpcID, Zones: cfg.Zones, SubnetIDs: refs.privateSubnets, ClientSecurityGroupID: refs.nodeSecurityGroup,
		EngineVersion: d.EngineVersion, InstanceClass: d.InstanceClass, AllocatedStorageGiB: d.AllocatedStorageGiB,
		MaxAllocatedStorageGiB: d.MaxAllocatedStorageGiB, MultiAZ: d.MultiAZ, BackupRetentionDays: d.BackupRetentionDays,
		DeletionProtection: d.DeletionProtection, SkipFinalSnapshot: d.SkipFinalSnapshot, Protect: cfg.Protect,
	}
}

func fileSystemArgs(cfg *stacks.Config, refs awsRefs) *filesystem.EFSArgs {
	f := cfg.FileStorage
	return &filesystem.EFSArgs{
		VpcID: refs.vpcID, Zones: cfg.Zones, SubnetIDs: refs.privateSubnets, ClientSecurityGroupID: refs.nodeSecurityGroup,
		// GitLab's per-zone volumes are Kubernetes NFS volumes, which cannot mount with TLS; traffic stays in
		// the VPC, between the nodes' and the mount targets' security groups. See the README.
		AllowNonTLSClients: true,
		ThroughputMode:     f.ThroughputMode, TransitionToIA: f.TransitionToIA, Backup: f.Backup, Protect: cfg.Protect,
	}
}

// s3Args build the stack's buckets, each with a role that one of GitLab's service accounts alone assumes
// through the cluster's OIDC provider. The buckets wait for nothing of the cluster's: only the roles do.
func s3Args(cfg *stacks.Config, refs awsRefs) *objectstorage.S3Args {
	return &objectstorage.S3Args{
		OIDCProviderARN: refs.oidcProviderARN, OIDCIssuer: refs.oidcIssuer, Namespace: stacks.GitLabNamespace,
		ServiceAccount:        gitlab.ServiceAccountName(stacks.GitLabName),
		BackupServiceAccount:  gitlab.BackupServiceAccountName(stacks.GitLabName),
		NoncurrentVersionDays: cfg.ObjectStorage.NoncurrentVersionDays, BackupRetentionDays: cfg.BackupRetentionDays(),
		ForceDestroy: cfg.ObjectStorage.ForceDestroy, Protect: cfg.Protect,
	}
}

// roleAnnotation is how IAM roles for service accounts name the role a service account's pods assume.
const roleAnnotation = "eks.amazonaws.com/role-arn"

// s3Storage connects GitLab to the stack's buckets and its backup job to the backup bucket, each through a
// role of its own and with no key. S3's lifecycle keeps the backups' retention: the job prunes nothing. Nil
// for what the configuration turns off.
func s3Storage(cfg *stacks.Config, region pulumi.StringInput, buckets map[string]pulumi.StringInput, backupBucket,
	roleARN, backupRoleARN pulumi.StringInput) (*gitlab.ObjectStorage, *gitlab.Backup) {
	if !cfg.ObjectStorageOn() {
		return nil, nil
	}
	// No endpoint: with web identity, an explicit one breaks the STS exchange.
	objects := &gitlab.ObjectStorage{Buckets: buckets, Connection: gitlab.ObjectStoreConnection{
		Region: region, WorkloadIdentity: pulumi.StringMap{roleAnnotation: roleARN},
	}}
	var backup *gitlab.Backup
	if cfg.BackupOn() {
		backup = stacks.GitLabBackup(cfg, backupBucket, gitlab.ObjectStoreConnection{
			Region: region, WorkloadIdentity: pulumi.StringMap{roleAnnotation: backupRoleARN},
		}, 0)
	}
	return objects, backup
}

func redisArgs(cfg *stacks.Config, refs awsRefs) *redis.ElastiCacheArgs {
	return &redis.ElastiCacheArgs{
		VpcID: refs.vpcID, Zones: cfg.Zones, SubnetIDs: refs.privateSubnets, ClientSecurityGroupID: refs.nodeSecurityGroup,
		NodeType: cfg.Redis.NodeType,
	}
}

func loadBalancerArgs(cfg *stacks.Config, refs awsRefs) *loadbalancer.NLBArgs {
	args := &loadbalancer.NLBArgs{
		VpcID: refs.vpcID, Zones: cfg.Zones, PublicSubnetIDs: refs.publicSubnets, AutoscalingGroups: refs.autoscalingGroups,
		NodeSecurityGroupID: refs.nodeSecurityGroup, TLS: loadbalancer.TLSNone, AllowedCIDRs: cfg.GitLab.AllowedCIDRs,
		NodePorts: loadbalancer.NodePorts{HTTP: httpNodePort, SSH: sshNodePort, HTTPRedirect: httpRedirectNodePort,
			HealthCheck: healthCheckNodePort(cfg)},
	}
	if terminatesTLS(cfg) {
		args.TLS, args.CertificateARN = loadbalancer.TLSTerminate, pulumi.String(cfg.GitLab.CertificateARN)
	}
	return args
}

// awsGitLabArgs runs GitLab on the EKS nodes of each zone, on that zone's mount target, behind the NLB.
func awsGitLabArgs(cfg *stacks.Config, refs awsRefs) *gitlab.GitLabArgs {
	args := stacks.GitLabArgs(cfg, stacks.ExternalURL(cfg, refs.loadBalancerDNS), refs.db, refs.redis)
	for _, zone := range cfg.Zones {
		storage := gitlab.Storage{NFS: &gitlab.NFS{Server: refs.mountTargets[zone]}}
		if cfg.StatelessZones() {
			storage = gitlab.Storage{} // Git data lives in Gitaly, everything else in S3
		}
		args.Zones = append(args.Zones, gitlab.Zone{Name: zone, Storage: storage})
	}
	args.GitStorage = refs.gitStorage
	// The NLB is the stack's, not the cluster's: a LoadBalancer Service of a class no controller implements
	// gets the node ports it sends to and the health-check port it checks, and no second load balancer.
	args.Service = gitlab.Service{
		Type: "LoadBalancer", LoadBalancerClass: gitlab.ExternalLoadBalancerClass, HealthCheckNodePort: healthCheckNodePort(cfg),
		NodePorts: gitlab.NodePorts{HTTP: httpNodePort, SSH: sshNodePort},
	}
	if terminatesTLS(cfg) {
		args.Service.HTTPRedirect, args.Service.NodePorts.HTTPRedirect = true, httpRedirectNodePort
	}
	args.ObjectStorage, args.Backup = refs.objectStorage, refs.backup
	return args
}

// Program is the Pulumi program of an AWS stack; it refuses a stack configured for another platform.
var Program = stacks.Program(Deploy)

// checks are the pre-flight checks of an AWS stack, each component's with its keys.
func checks(cfg *stacks.Config) []stacks.Check {
	refs := standIns(cfg)
	checks := []stacks.Check{
		{Component: "network", Validate: func() error { return network.Validate(networkArgs(cfg)) }, Key: stacks.Renames("network", map[string]string{
			"region": "region", "zones": "zones", "existing.vpcId": "network.existingVpcId", "existing.cidr": "network.existingVpcCidr",
			"existing.publicSubnetIds": "network.existingPublicSubnetIds", "existing.privateSubnetIds": "network.existingPrivateSubnetIds",
		})},
		{Component: "cluster", Validate: func() error { return cluster.ValidateEKS(clusterArgs(cfg, refs)) }, Key: stacks.Renames("cluster", map[string]string{
			"region": "region", "zones": "zones", "nodes": "cluster.nodesPerZone",
		})},
		{Component: "database", Validate: func() error { return database.ValidateRDS(databaseArgs(cfg, refs)) }, Key: stacks.Renames("database", map[string]string{"zones": "zones"})},
		{Component: "load balancer", Validate: func() error { return loadbalancer.ValidateNLB(loadBalancerArgs(cfg, refs)) }, Key: stacks.Renames("gitlab", map[string]string{
			"zones": "zones", "nodePorts.healthCheck": "gitlab.healthCheckNodePort",
		})},
		{Component: "gitlab", Validate: func() error { return gitlab.Validate(stacks.GitLabName, awsGitLabArgs(cfg, refs)) }, Key: stacks.GitLabKey(cfg.Zones)},
	}
	if cfg.NeedsNFS() {
		checks = append(checks, stacks.Check{Component: "file system", Validate: func() error { return filesystem.ValidateEFS(fileSystemArgs(cfg, refs)) },
			Key: stacks.Renames("fileStorage", map[string]string{"zones": "zones"})})
	}
	checks = append(checks, gitStorageChecks(cfg, refs)...)
	if cfg.ObjectStorageOn() {
		checks = append(checks, stacks.Check{Component: "object storage",
			Validate: func() error { return objectstorage.ValidateS3(s3Args(cfg, refs), cfg.Project, cfg.Stack) },
			Key:      stacks.Renames("objectStorage", map[string]string{"backupRetentionDays": "backup.retentionDays"})})
	}
	if cfg.Redis.Mode == stacks.RedisManaged {
		checks = append(checks, stacks.Check{Component: "redis", Validate: func() error { return redis.ValidateElastiCache(redisArgs(cfg, refs)) },
			Key: stacks.Renames("redis", map[string]string{"zones": "zones"})})
	}
	if cfg.Monitoring.CloudWatch.On(stacks.PlatformAWS) {
		checks = append(checks, monitoringCheck(cfg))
	}
	return checks
}

// Deploy checks the configuration and every component's arguments, then builds the AWS stack. A bad
// configuration returns one error naming its key, and registers nothing. Each component takes only the
// outputs it consumes, so the database, file system and cluster build side by side: all three wait only for
// the network and the nodes' security group.
func Deploy(ctx *pulumi.Context, cfg *stacks.Config) (*stacks.Outputs, error) {
	if err := stacks.Preflight(cfg, stacks.PlatformAWS, checks); err != nil {
		return nil, err
	}
	provider, err := awsprovider.New(ctx, "aws", awsprovider.Args{Region: cfg.Region, Tags: cfg.Tags})
	if err != nil {
		return nil, err
	}
	if err := stacks.CloudPreflight(cloudChecks(ctx, cfg, provider)); err != nil {
		return nil, err
	}
	onAWS := pulumi.Provider(provider)
	net, err := network.NewNetwork(ctx, "gitlab", networkArgs(cfg), onAWS)
	if err != nil {
		return nil, err
	}
	refs := awsRefs{vpcID: net.VpcID, vpcCIDR: net.CIDR, publicSubnets: net.PublicSubnets(), privateSubnets: net.PrivateSubnets(),
		awsProvider: provider}

	eks, err := cluster.NewEKS(ctx, "gitlab", clusterArgs(cfg, refs), onAWS)
	if err != nil {
		return nil, err
	}
	refs.nodeSecurityGroup = eks.NodeSecurityGroupID
	refs.autoscalingGroups = perZone(cfg.Zones, eks.AutoscalingGroups)
	refs.oidcProviderARN, refs.oidcIssuer = eks.OIDCProviderARN, eks.OIDCIssuer
	refs.clusterName = eks.ClusterName

	objectBuckets, backupBucket, notes, err := buildObjectStorage(ctx, cfg, &refs, onAWS)
	if err != nil {
		return nil, err
	}

	db, err := database.NewRDS(ctx, "gitlab-db", databaseArgs(cfg, refs), onAWS)
	if err != nil {
		return nil, err
	}
	refs.db = gitlab.Database{Host: db.Address, Port: db.Port, Name: db.DatabaseName, User: db.Username, Password: db.Password}
	refs.dbSecurityGroup = db.SecurityGroupID

	fileSystemID, mountTargets := pulumi.String("").ToStringOutput(), pulumi.StringMap{}.ToStringMapOutput()
	var efs *filesystem.EFS
	if cfg.NeedsNFS() {
		efs, err = filesystem.NewEFS(ctx, "gitlab-data", fileSystemArgs(cfg, refs), onAWS)
		if err != nil {
			return nil, err
		}
		refs.mountTargets = map[string]pulumi.StringInput{}
		for _, zone := range cfg.Zones {
			refs.mountTargets[zone] = efs.MountTargetIP(zone)
		}
		fileSystemID, mountTargets = efs.FileSystemID, efs.MountTargetIPs
	}

	var cache *redis.ElastiCache
	if cfg.Redis.Mode == stacks.RedisManaged {
		cache, err = redis.NewElastiCache(ctx, "gitlab-redis", redisArgs(cfg, refs), onAWS)
		if err != nil {
			return nil, err
		}
		refs.redis = &gitlab.Redis{Host: cache.PrimaryEndpoint, Port: cache.Port, Password: cache.AuthToken, TLS: true}
	}

	nlb, err := loadbalancer.NewNLB(ctx, "gitlab", loadBalancerArgs(cfg, refs), onAWS)
	if err != nil {
		return nil, err
	}
	refs.loadBalancerDNS = nlb.DNSName

	gitNote, err := buildGitStorage(ctx, cfg, &refs, onAWS, eks)
	if err != nil {
		return nil, err
	}
	if gitNote != "" {
		notes = append(notes, gitNote)
	}
	if err := buildMonitoring(ctx, cfg, watchedOf(cfg, nlb, db, efs, cache, eks, refs.gitalyInstances), onAWS); err != nil {
		return nil, err
	}

	site, err := gitlab.NewGitLab(ctx, stacks.GitLabName, awsGitLabArgs(cfg, refs), pulumi.Provider(eks.Provider))
	if err != nil {
		return nil, err
	}
	return &stacks.Outputs{
		URL: site.URL, SSHEndpoint: stacks.SSHEndpoint(cfg, nlb.DNSName), LoadBalancer: nlb.DNSName,
		ClusterName: eks.ClusterName, Kubeconfig: eks.Kubeconfig,
		DatabaseEndpoint: pulumi.Sprintf("%s:%d", db.Address, db.Port),
		FileSystemID:     fileSystemID, MountTargets: mountTargets,
		RootPassword: site.RootPassword, GitLab: site,
		ObjectBuckets: objectBuckets, BackupBucket: backupBucket, Notes: notes,
	}, nil
}

// objectStorageName names the S3 component, and so its buckets' and roles' resources: never change it.
const objectStorageName = "gitlab-objects"

// buildObjectStorage builds the buckets and roles when the configuration asks for them and hands GitLab its
// connections through refs; it returns the buckets' names and the plan's lines on them.
func buildObjectStorage(ctx *pulumi.Context, cfg *stacks.Config, refs *awsRefs, onAWS pulumi.ResourceOption) (
	pulumi.StringMapOutput, pulumi.StringOutput, []string, error) {
	retention := fmt.Sprintf("archives expire after %d days by the bucket's lifecycle (S3 keeps them %d more as non-current versions)",
		cfg.BackupRetentionDays(), noncurrentDays(cfg))
	notes := stacks.StorageNotes(cfg, fmt.Sprintf("S3, a bucket per object type (%s), encrypted with the stack's KMS key, "+
		"versioned but for the dependency proxy, a cache (non-current versions kept %d days); GitLab's pods reach them through IRSA, with no access key",
		strings.Join(gitlab.ObjectTypes(), ", "), noncurrentDays(cfg)), "the S3 backup bucket through a role of its own; "+retention)
	if !cfg.ObjectStorageOn() {
		return pulumi.StringMap{}.ToStringMapOutput(), pulumi.String("").ToStringOutput(), notes, nil
	}
	s3, err := objectstorage.NewS3(ctx, objectStorageName, s3Args(cfg, *refs), onAWS)
	if err != nil {
		return pulumi.StringMapOutput{}, pulumi.StringOutput{}, nil, err
	}
	refs.objectStorage, refs.backup = s3Storage(cfg, s3.Region, stacks.PerType(s3.Buckets), s3.BackupBucket, s3.RoleARN, s3.BackupRoleARN)
	return s3.Buckets, s3.BackupBucket, notes, nil
}

// noncurrentDays is how long S3 keeps an overwritten or deleted object.
func noncurrentDays(cfg *stacks.Config) int {
	if days := cfg.ObjectStorage.NoncurrentVersionDays; days != 0 {
		return days
	}
	return objectstorage.DefaultNoncurrentVersionDays
}

// addonVersions are the configured add-on versions, or nil for the cluster component's defaults.
func addonVersions(configured *stacks.AddonVersions) *cluster.AddonVersions {
	if configured == nil {
		return nil
	}
	return &cluster.AddonVersions{VPCCNI: configured.VPCCNI, KubeProxy: configured.KubeProxy, CoreDNS: configured.CoreDNS}
}

// perZone turns a zone-keyed map output into inputs by zone name.
func perZone(zones []string, m pulumi.StringMapOutput) map[string]pulumi.StringInput {
	out := map[string]pulumi.StringInput{}
	for _, zone := range zones {
		out[zone] = m.MapIndex(pulumi.String(zone))
	}
	return out
}

func toInputs(m map[string]string) map[string]pulumi.StringInput {
	out := map[string]pulumi.StringInput{}
	for k, v := range m {
		out[k] = pulumi.String(v)
	}
	return out
}
