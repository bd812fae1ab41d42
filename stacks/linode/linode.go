// Package linode composes the Linode stack: a VPC, LKE with a node pool per zone, managed PostgreSQL, the
// NFS server, a NodeBalancer and GitLab. It compiles the Linode and Kubernetes SDKs and no other cloud's.
package linode

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/cluster/lke"
	"github.com/gitlab-ha/gitlab-ha/components/database/linodedb"
	"github.com/gitlab-ha/gitlab-ha/components/filesystem/linodenfs"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer/nodebalancer"
	"github.com/gitlab-ha/gitlab-ha/components/network/linodevpc"
	"github.com/gitlab-ha/gitlab-ha/providers/linodeprovider"
	"github.com/gitlab-ha/gitlab-ha/stacks"
)

// blockStorageClass is the Linode CSI driver's class that keeps a volume when its claim goes.
const blockStorageClass = "linode-block-storage-retain"

// linodeRefs are the values one Linode component takes from another; standIns for the pre-flight.
type linodeRefs struct {
	subnetID      pulumi.IntInput
	nfsServer     pulumi.StringInput
	nodeSelectors map[string]map[string]string
	db            gitlab.Database
	annotations   pulumi.StringMapInput
	loadBalancer  pulumi.StringInput
}

func linodeStandIns(cfg *stacks.Config) linodeRefs {
	refs := linodeRefs{subnetID: pulumi.Int(1), nfsServer: pulumi.String("10.0.0.10"), nodeSelectors: map[string]map[string]string{},
		db: gitlab.Database{Host: pulumi.String("db"), Password: pulumi.String("password")}, loadBalancer: pulumi.String("192.0.2.1")}
	for _, zone := range cfg.Zones {
		refs.nodeSelectors[zone] = map[string]string{lke.PoolLabel: zone}
	}
	return refs
}

func subnetCIDR(cfg *stacks.Config) string {
	if cfg.Linode.SubnetCIDR == "" {
		return linodevpc.DefaultLinodeSubnetCIDR
	}
	return cfg.Linode.SubnetCIDR
}

// clientCIDRs may reach the database and the NFS server: the VPC subnet, and what the stack adds.
func clientCIDRs(cfg *stacks.Config) []string {
	return append([]string{subnetCIDR(cfg)}, cfg.Linode.ClientCIDRs...)
}

func vpcArgs(cfg *stacks.Config) *linodevpc.LinodeVPCArgs {
	return &linodevpc.LinodeVPCArgs{Region: cfg.Region, SubnetCIDR: cfg.Linode.SubnetCIDR}
}

func lkeArgs(cfg *stacks.Config) *lke.LKEArgs {
	l := cfg.Linode
	nodeType := l.NodeType
	if nodeType == "" {
		nodeType = "g6-standard-6"
	}
	return &lke.LKEArgs{
		Region: cfg.Region, Version: l.KubernetesVersion, Zones: cfg.Zones, NodeType: nodeType,
		Nodes:            lke.NodeCounts{Min: l.NodesPerPool.Min, Desired: l.NodesPerPool.Desired, Max: l.NodesPerPool.Max},
		HighAvailability: l.HighAvailability, APIAllowedCIDRs: l.APIAllowedCIDRs, Protect: cfg.Protect,
	}
}

func linodeDatabaseArgs(cfg *stacks.Config) *linodedb.LinodePostgresArgs {
	return &linodedb.LinodePostgresArgs{
		Region: cfg.Region, Type: cfg.Linode.DatabaseType, ClusterSize: cfg.Linode.DatabaseClusterSize,
		AllowedCIDRs: clientCIDRs(cfg), Protect: cfg.Protect,
	}
}

func nfsArgs(cfg *stacks.Config, refs linodeRefs) *linodenfs.LinodeNFSArgs {
	return &linodenfs.LinodeNFSArgs{
		Region: cfg.Region, SubnetID: refs.subnetID, SubnetCIDR: subnetCIDR(cfg), ClientCIDRs: clientCIDRs(cfg),
		InstanceType: cfg.Linode.NFSInstanceType, VolumeGiB: cfg.Linode.NFSVolumeGiB, Protect: cfg.Protect,
	}
}

func nodeBalancerArgs(cfg *stacks.Config) *nodebalancer.NodeBalancerArgs {
	return &nodebalancer.NodeBalancerArgs{Region: cfg.Region, Ports: []int{80, 22}, AllowedCIDRs: cfg.GitLab.AllowedCIDRs}
}

// linodeGitLabArgs runs each zone's GitLab on its pool, on the NFS server (or a Block Storage volume of its
// own), behind the stack's NodeBalancer.
func linodeGitLabArgs(cfg *stacks.Config, refs linodeRefs) *gitlab.GitLabArgs {
	args := stacks.GitLabArgs(cfg, stacks.ExternalURL(cfg, refs.loadBalancer), refs.db, nil)
	for _, zone := range cfg.Zones {
		storage := gitlab.Storage{NFS: &gitlab.NFS{Server: refs.nfsServer, Path: linodenfs.ExportPath}}
		if cfg.Linode.FileStorage == stacks.LinodeBlock {
			storage = gitlab.Storage{StorageClass: blockStorageClass}
		}
		args.Zones = append(args.Zones, gitlab.Zone{Name: zone, NodeSelector: refs.nodeSelectors[zone], Storage: storage})
	}
	args.Service = gitlab.Service{Type: "LoadBalancer", Annotations: refs.annotations}
	return args
}

// Program is the Pulumi program of a Linode stack; it refuses a stack configured for another platform.
var Program = stacks.Program(Deploy)

// checks are the pre-flight checks of a Linode stack, each component's with its keys.
func checks(cfg *stacks.Config) []stacks.Check {
	refs := linodeStandIns(cfg)
	keys := func(section string) func(string) string {
		return stacks.Renames(section, map[string]string{
			"region": "region", "zones": "zones", "subnetCidr": "linode.subnetCidr", "nodes": "linode.nodesPerPool",
			"nodeType": "linode.nodeType", "apiAllowedCidrs": "linode.apiAllowedCidrs", "version": "linode.kubernetesVersion",
			"clusterSize": "linode.databaseClusterSize", "type": "linode.databaseType", "allowedCidrs": "linode.clientCidrs",
			"clientCidrs": "linode.clientCidrs", "volumeGiB": "linode.nfsVolumeGiB", "instanceType": "linode.nfsInstanceType",
		})
	}
	checks := []stacks.Check{
		{Component: "network", Validate: func() error { return linodevpc.ValidateLinodeVPC(vpcArgs(cfg)) }, Key: keys("linode")},
		{Component: "cluster", Validate: func() error { return lke.ValidateLKE(lkeArgs(cfg)) }, Key: keys("linode")},
		{Component: "database", Validate: func() error { return linodedb.ValidateLinodePostgres(linodeDatabaseArgs(cfg)) }, Key: keys("linode")},
		{Component: "load balancer", Validate: func() error { return nodebalancer.ValidateNodeBalancer(nodeBalancerArgs(cfg)) },
			Key: stacks.Renames("gitlab", map[string]string{"region": "region"})},
		{Component: "gitlab", Validate: func() error { return gitlab.Validate(stacks.GitLabName, linodeGitLabArgs(cfg, refs)) }, Key: stacks.GitLabKey(cfg.Zones)},
	}
	if cfg.Linode.FileStorage != stacks.LinodeBlock {
		checks = append(checks, stacks.Check{Component: "file system", Validate: func() error { return linodenfs.ValidateLinodeNFS(nfsArgs(cfg, refs)) }, Key: keys("linode")})
	}
	return checks
}

// Deploy checks the configuration and every component's arguments, then builds the Linode stack: VPC, LKE
// with a pool per zone, managed PostgreSQL, the NFS server (or Block Storage), a NodeBalancer the GitLab
// Service adopts, and GitLab. A bad configuration returns one error naming its key, and registers nothing.
// The provider reads LINODE_TOKEN.
func Deploy(ctx *pulumi.Context, cfg *stacks.Config) (*stacks.Outputs, error) {
	if err := stacks.Preflight(cfg, stacks.PlatformLinode, checks); err != nil {
		return nil, err
	}
	provider, err := linodeprovider.New(ctx, "linode", nil)
	if err != nil {
		return nil, err
	}
	onLinode := pulumi.Provider(provider)
	vpc, err := linodevpc.NewLinodeVPC(ctx, "gitlab", vpcArgs(cfg), onLinode)
	if err != nil {
		return nil, err
	}
	cluster, err := lke.NewLKE(ctx, "gitlab", lkeArgs(cfg), onLinode)
	if err != nil {
		return nil, err
	}
	refs := linodeRefs{subnetID: vpc.SubnetID, nodeSelectors: map[string]map[string]string{}}
	for _, zone := range cfg.Zones {
		refs.nodeSelectors[zone] = cluster.NodeSelector(zone)
	}
	db, err := linodedb.NewLinodePostgres(ctx, "gitlab-db", linodeDatabaseArgs(cfg), onLinode)
	if err != nil {
		return nil, err
	}
	refs.db = gitlab.Database{Host: db.Address, Port: db.Port, Name: db.DatabaseName, User: db.Username, Password: db.Password}

	fileSystemID, mountTargets := pulumi.String(stacks.LinodeBlock).ToStringOutput(), pulumi.StringMap{}
	if cfg.Linode.FileStorage != stacks.LinodeBlock {
		nfs, err := linodenfs.NewLinodeNFS(ctx, "gitlab-nfs", nfsArgs(cfg, refs), onLinode)
		if err != nil {
			return nil, err
		}
		refs.nfsServer = nfs.Server
		fileSystemID = pulumi.Sprintf("linode/%d", nfs.InstanceID)
		for _, zone := range cfg.Zones {
			mountTargets[zone] = nfs.Server
		}
	}

	balancer, err := nodebalancer.NewNodeBalancer(ctx, "gitlab", nodeBalancerArgs(cfg), onLinode)
	if err != nil {
		return nil, err
	}
	refs.annotations, refs.loadBalancer = balancer.ServiceAnnotations(), balancer.IPv4

	site, err := gitlab.NewGitLab(ctx, stacks.GitLabName, linodeGitLabArgs(cfg, refs), pulumi.Provider(cluster.Provider))
	if err != nil {
		return nil, err
	}
	return &stacks.Outputs{
		URL: site.URL, SSHEndpoint: stacks.SSHEndpoint(cfg, balancer.IPv4), LoadBalancer: balancer.IPv4,
		ClusterName: pulumi.Sprintf("lke%d", cluster.ClusterID), Kubeconfig: cluster.Kubeconfig,
		DatabaseEndpoint: pulumi.Sprintf("%s:%d", db.Address, db.Port),
		FileSystemID:     fileSystemID, MountTargets: mountTargets.ToStringMapOutput(),
		RootPassword: site.RootPassword, GitLab: site,
	}, nil
}
