package stacks

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/cluster"
	"github.com/gitlab-ha/gitlab-ha/components/database"
	"github.com/gitlab-ha/gitlab-ha/components/filesystem"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer"
	"github.com/gitlab-ha/gitlab-ha/components/network"
	"github.com/gitlab-ha/gitlab-ha/providers"
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

func linodeStandIns(cfg *Config) linodeRefs {
	refs := linodeRefs{subnetID: pulumi.Int(1), nfsServer: pulumi.String("10.0.0.10"), nodeSelectors: map[string]map[string]string{},
		db: gitlab.Database{Host: pulumi.String("db"), Password: pulumi.String("password")}, loadBalancer: pulumi.String("192.0.2.1")}
	for _, zone := range cfg.Zones {
		refs.nodeSelectors[zone] = map[string]string{cluster.PoolLabel: zone}
	}
	return refs
}

func subnetCIDR(cfg *Config) string {
	if cfg.Linode.SubnetCIDR == "" {
		return network.DefaultLinodeSubnetCIDR
	}
	return cfg.Linode.SubnetCIDR
}

// clientCIDRs may reach the database and the NFS server: the VPC subnet, and what the stack adds.
func clientCIDRs(cfg *Config) []string {
	return append([]string{subnetCIDR(cfg)}, cfg.Linode.ClientCIDRs...)
}

func vpcArgs(cfg *Config) *network.LinodeVPCArgs {
	return &network.LinodeVPCArgs{Region: cfg.Region, SubnetCIDR: cfg.Linode.SubnetCIDR}
}

func lkeArgs(cfg *Config) *cluster.LKEArgs {
	l := cfg.Linode
	nodeType := l.NodeType
	if nodeType == "" {
		nodeType = "g6-standard-6"
	}
	return &cluster.LKEArgs{
		Region: cfg.Region, Version: l.KubernetesVersion, Zones: cfg.Zones, NodeType: nodeType,
		Nodes:            cluster.NodeCounts{Min: l.NodesPerPool.Min, Desired: l.NodesPerPool.Desired, Max: l.NodesPerPool.Max},
		HighAvailability: l.HighAvailability, APIAllowedCIDRs: l.APIAllowedCIDRs, Protect: cfg.Protect,
	}
}

func linodeDatabaseArgs(cfg *Config) *database.LinodePostgresArgs {
	return &database.LinodePostgresArgs{
		Region: cfg.Region, Type: cfg.Linode.DatabaseType, ClusterSize: cfg.Linode.DatabaseClusterSize,
		AllowedCIDRs: clientCIDRs(cfg), Protect: cfg.Protect,
	}
}

func nfsArgs(cfg *Config, refs linodeRefs) *filesystem.LinodeNFSArgs {
	return &filesystem.LinodeNFSArgs{
		Region: cfg.Region, SubnetID: refs.subnetID, SubnetCIDR: subnetCIDR(cfg), ClientCIDRs: clientCIDRs(cfg),
		InstanceType: cfg.Linode.NFSInstanceType, VolumeGiB: cfg.Linode.NFSVolumeGiB, Protect: cfg.Protect,
	}
}

func nodeBalancerArgs(cfg *Config) *loadbalancer.NodeBalancerArgs {
	return &loadbalancer.NodeBalancerArgs{Region: cfg.Region, Ports: []int{80, 22}, AllowedCIDRs: cfg.GitLab.AllowedCIDRs}
}

// linodeGitLabArgs runs each zone's GitLab on its pool, on the NFS server (or a Block Storage volume of its
// own), behind the stack's NodeBalancer.
func linodeGitLabArgs(cfg *Config, refs linodeRefs) *gitlab.GitLabArgs {
	args := gitLabArgs(cfg, externalURL(cfg, refs.loadBalancer), refs.db, nil)
	for _, zone := range cfg.Zones {
		storage := gitlab.Storage{NFS: &gitlab.NFS{Server: refs.nfsServer, Path: filesystem.ExportPath}}
		if cfg.Linode.FileStorage == LinodeBlock {
			storage = gitlab.Storage{StorageClass: blockStorageClass}
		}
		args.Zones = append(args.Zones, gitlab.Zone{Name: zone, NodeSelector: refs.nodeSelectors[zone], Storage: storage})
	}
	args.Service = gitlab.Service{Type: "LoadBalancer", Annotations: refs.annotations}
	return args
}

func linodeChecks(cfg *Config) []check {
	refs := linodeStandIns(cfg)
	keys := func(section string) func(string) string {
		return renames(section, map[string]string{
			"region": "region", "zones": "zones", "subnetCidr": "linode.subnetCidr", "nodes": "linode.nodesPerPool",
			"nodeType": "linode.nodeType", "apiAllowedCidrs": "linode.apiAllowedCidrs", "version": "linode.kubernetesVersion",
			"clusterSize": "linode.databaseClusterSize", "type": "linode.databaseType", "allowedCidrs": "linode.clientCidrs",
			"clientCidrs": "linode.clientCidrs", "volumeGiB": "linode.nfsVolumeGiB", "instanceType": "linode.nfsInstanceType",
		})
	}
	checks := []check{
		{"network", func() error { return network.ValidateLinodeVPC(vpcArgs(cfg)) }, keys("linode")},
		{"cluster", func() error { return cluster.ValidateLKE(lkeArgs(cfg)) }, keys("linode")},
		{"database", func() error { return database.ValidateLinodePostgres(linodeDatabaseArgs(cfg)) }, keys("linode")},
		{"load balancer", func() error { return loadbalancer.ValidateNodeBalancer(nodeBalancerArgs(cfg)) },
			renames("gitlab", map[string]string{"region": "region"})},
		{"gitlab", func() error { return gitlab.Validate(gitlabName, linodeGitLabArgs(cfg, refs)) }, linodeGitLabKey(cfg.Zones)},
	}
	if cfg.Linode.FileStorage != LinodeBlock {
		checks = append(checks, check{"file system", func() error { return filesystem.ValidateLinodeNFS(nfsArgs(cfg, refs)) }, keys("linode")})
	}
	return checks
}

// linodeGitLabKey maps the GitLab component's fields as gitlabKey does, except a zone's storage, which on
// Linode is linode.fileStorage for every pool.
func linodeGitLabKey(zones []string) func(string) string {
	key := gitlabKey(zones)
	return func(field string) string {
		if m := zoneField.FindStringSubmatch(field); m != nil && strings.HasPrefix(m[2], ".storage") {
			return "linode.fileStorage"
		}
		return key(field)
	}
}

// deployLinode builds the Linode stack: VPC, LKE with a pool per zone, managed PostgreSQL, the NFS server
// (or Block Storage), a NodeBalancer the GitLab Service adopts, and GitLab. The provider reads LINODE_TOKEN.
func deployLinode(ctx *pulumi.Context, cfg *Config) (*Outputs, error) {
	provider, err := providers.Linode(ctx, "linode", nil)
	if err != nil {
		return nil, err
	}
	onLinode := pulumi.Provider(provider)
	vpc, err := network.NewLinodeVPC(ctx, "gitlab", vpcArgs(cfg), onLinode)
	if err != nil {
		return nil, err
	}
	lke, err := cluster.NewLKE(ctx, "gitlab", lkeArgs(cfg), onLinode)
	if err != nil {
		return nil, err
	}
	refs := linodeRefs{subnetID: vpc.SubnetID, nodeSelectors: map[string]map[string]string{}}
	for _, zone := range cfg.Zones {
		refs.nodeSelectors[zone] = lke.NodeSelector(zone)
	}
	db, err := database.NewLinodePostgres(ctx, "gitlab-db", linodeDatabaseArgs(cfg), onLinode)
	if err != nil {
		return nil, err
	}
	refs.db = gitlab.Database{Host: db.Address, Port: db.Port, Name: db.DatabaseName, User: db.Username, Password: db.Password}

	fileSystemID, mountTargets := pulumi.String(LinodeBlock).ToStringOutput(), pulumi.StringMap{}
	if cfg.Linode.FileStorage != LinodeBlock {
		nfs, err := filesystem.NewLinodeNFS(ctx, "gitlab-nfs", nfsArgs(cfg, refs), onLinode)
		if err != nil {
			return nil, err
		}
		refs.nfsServer = nfs.Server
		fileSystemID = pulumi.Sprintf("linode/%d", nfs.InstanceID)
		for _, zone := range cfg.Zones {
			mountTargets[zone] = nfs.Server
		}
	}

	balancer, err := loadbalancer.NewNodeBalancer(ctx, "gitlab", nodeBalancerArgs(cfg), onLinode)
	if err != nil {
		return nil, err
	}
	refs.annotations, refs.loadBalancer = balancer.ServiceAnnotations(), balancer.IPv4

	site, err := gitlab.NewGitLab(ctx, gitlabName, linodeGitLabArgs(cfg, refs), pulumi.Provider(lke.Provider))
	if err != nil {
		return nil, err
	}
	return &Outputs{
		URL: site.URL, SSHEndpoint: sshEndpoint(cfg, balancer.IPv4), LoadBalancer: balancer.IPv4,
		ClusterName: pulumi.Sprintf("lke%d", lke.ClusterID), Kubeconfig: lke.Kubeconfig,
		DatabaseEndpoint: pulumi.Sprintf("%s:%d", db.Address, db.Port),
		FileSystemID:     fileSystemID, MountTargets: mountTargets.ToStringMapOutput(),
		RootPassword: site.RootPassword, GitLab: site,
	}, nil
}
