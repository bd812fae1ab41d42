// Package linode composes the Linode stack: LKE with a node pool per zone, managed PostgreSQL that admits the
// cluster's nodes (and a reconciler in the cluster that keeps it admitting them), the NFS server inside the
// cluster, a NodeBalancer and GitLab. It compiles the Linode and Kubernetes SDKs and no other cloud's.
package linode

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/cluster/lke"
	"github.com/gitlab-ha/gitlab-ha/components/database/linodedb"
	"github.com/gitlab-ha/gitlab-ha/components/filesystem/linodenfs"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer/nodebalancer"
	"github.com/gitlab-ha/gitlab-ha/components/objectstorage/linodeobj"
	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
	"github.com/gitlab-ha/gitlab-ha/providers/linodeprovider"
	"github.com/gitlab-ha/gitlab-ha/stacks"
)

// blockStorageClass is the Linode CSI driver's class that keeps a volume when its claim goes.
const blockStorageClass = "linode-block-storage-retain"

// linodeRefs are the values one Linode component takes from another; standIns for the pre-flight.
type linodeRefs struct {
	nfsServer     pulumi.StringInput
	gitStorage    gitlab.GitStorage
	nodeSelectors map[string]map[string]string
	db            gitlab.Database
	annotations   pulumi.StringMapInput
	loadBalancer  pulumi.StringInput
	// proxySources are where the NodeBalancer's PROXY protocol comes from.
	proxySources  []string
	objectStorage *gitlab.ObjectStorage
	backup        *gitlab.Backup
	nodeAddresses pulumi.StringArrayInput
}

func linodeStandIns(cfg *stacks.Config) linodeRefs {
	refs := linodeRefs{nfsServer: pulumi.String(linodenfs.DefaultServerIP), nodeSelectors: map[string]map[string]string{},
		db: gitlab.Database{Host: pulumi.String("db"), Password: pulumi.String("password")}, loadBalancer: pulumi.String("192.0.2.1"),
		proxySources: []string{linodekit.NodeBalancerRange}, nodeAddresses: pulumi.StringArray{}}
	for _, zone := range cfg.Zones {
		refs.nodeSelectors[zone] = map[string]string{lke.PoolLabel: zone}
	}
	if cfg.GitKind() == stacks.GitGitaly {
		refs.gitStorage = stacks.StandInGitalyStorage(cfg)
	}
	standIn := func(what string) pulumi.StringInput { return pulumi.String("stand-in-" + what) }
	endpoint := "https://" + cfg.Region + "-1.linodeobjects.com"
	refs.objectStorage, refs.backup = linodeStorage(cfg, pulumi.String(signingRegion(endpoint)), pulumi.String(endpoint),
		stacks.StandInBuckets(), standIn("backups"), objectKeys{standIn("id"), standIn("secret"), standIn("backup-id"), standIn("backup-secret")})
	return refs
}

func objectStorageArgs(cfg *stacks.Config) *linodeobj.LinodeObjectStorageArgs {
	return &linodeobj.LinodeObjectStorageArgs{Region: cfg.Region, Protect: cfg.Protect}
}

// objectKeys are the two limited keys: GitLab's over the object buckets, the backup job's over the backups.
type objectKeys struct {
	id, secret, backupID, backupSecret pulumi.StringInput
}

// linodeStorage connects GitLab and its backup job to the stack's buckets, each with its own key, which
// reaches the pods through GitLab's Secret. Linode's buckets expire nothing here, so the job deletes the
// archives past backup.retentionDays itself. Nil for what the configuration turns off.
func linodeStorage(cfg *stacks.Config, region, endpoint pulumi.StringInput, buckets map[string]pulumi.StringInput,
	backupBucket pulumi.StringInput, keys objectKeys) (*gitlab.ObjectStorage, *gitlab.Backup) {
	if !cfg.ObjectStorageOn() {
		return nil, nil
	}
	connection := func(id, secret pulumi.StringInput) gitlab.ObjectStoreConnection {
		return gitlab.ObjectStoreConnection{Region: region, Endpoint: endpoint, AccessKeyID: id, SecretAccessKey: secret}
	}
	objects := &gitlab.ObjectStorage{Buckets: buckets, Connection: connection(keys.id, keys.secret)}
	var backup *gitlab.Backup
	if cfg.BackupOn() {
		backup = stacks.GitLabBackup(cfg, backupBucket, connection(keys.backupID, keys.backupSecret), cfg.BackupRetentionDays())
	}
	return objects, backup
}

// signingRegion is the region S3 clients sign Linode requests with: the cluster ID that starts the
// endpoint's host ("eu-central-1" of https://eu-central-1.linodeobjects.com), not the Linode region.
func signingRegion(endpoint string) string {
	host := strings.TrimPrefix(endpoint, "https://")
	if i := strings.Index(host, "."); i > 0 {
		return host[:i]
	}
	return host
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

// linodeDatabaseArgs admit the cluster's nodes, by their public addresses, and linode.clientCidrs.
func linodeDatabaseArgs(cfg *stacks.Config, nodeAddresses pulumi.StringArrayInput) *linodedb.LinodePostgresArgs {
	return &linodedb.LinodePostgresArgs{
		Region: cfg.Region, Type: cfg.Linode.DatabaseType, ClusterSize: cfg.Linode.DatabaseClusterSize,
		NodeAddresses: nodeAddresses, ClientCIDRs: cfg.Linode.ClientCIDRs, Protect: cfg.Protect,
	}
}

// allowListArgs keep the database admitting the nodes the autoscaler gives the cluster, and the clients.
func allowListArgs(cfg *stacks.Config, databaseID pulumi.IntInput) *linodedb.NodeAllowListArgs {
	return &linodedb.NodeAllowListArgs{DatabaseID: databaseID, ClientCIDRs: cfg.Linode.ClientCIDRs}
}

// nfsArgs admit the cluster's pods and nodes to the NFS server, and nothing outside the cluster: a kubelet
// mounting from another node arrives from its tunnel address (in the pod network) or, where Calico routes
// without encapsulation, from its node's private address; the nodes' firewall admits no NFS from anywhere.
func nfsArgs(cfg *stacks.Config) *linodenfs.LinodeNFSArgs {
	return &linodenfs.LinodeNFSArgs{
		Region: cfg.Region, ClientCIDRs: []string{linodekit.PodCIDR, linodekit.PrivateRange}, VolumeGiB: cfg.Linode.NFSVolumeGiB,
		Encryption: cfg.Linode.NFSVolumeEncryption, ServerIP: cfg.Linode.NFSServerIP, Protect: cfg.Protect,
	}
}

// nodeBalancerArgs: a TCP-mode NodeBalancer hides the client's address, so it sends PROXY protocol v2 on
// both ports, which GitLab reads (linodeGitLabArgs).
func nodeBalancerArgs(cfg *stacks.Config) *nodebalancer.NodeBalancerArgs {
	return &nodebalancer.NodeBalancerArgs{Region: cfg.Region, Ports: []int{80, 22}, AllowedCIDRs: cfg.GitLab.AllowedCIDRs,
		ProxyProtocol: nodebalancer.ProxyProtocolV2}
}

// linodeGitLabArgs runs each zone's GitLab on its pool, on the NFS server (or a Block Storage volume of its
// own), behind the stack's NodeBalancer.
func linodeGitLabArgs(cfg *stacks.Config, refs linodeRefs) *gitlab.GitLabArgs {
	args := stacks.GitLabArgs(cfg, stacks.ExternalURL(cfg, refs.loadBalancer), refs.db, nil)
	for _, zone := range cfg.Zones {
		storage := gitlab.Storage{NFS: &gitlab.NFS{Server: refs.nfsServer, Path: linodenfs.ExportPath}}
		switch {
		case cfg.StatelessZones():
			storage = gitlab.Storage{} // Git data lives in Gitaly, everything else in object storage
		case cfg.Linode.FileStorage == stacks.LinodeBlock:
			storage = gitlab.Storage{StorageClass: blockStorageClass}
		}
		args.Zones = append(args.Zones, gitlab.Zone{Name: zone, NodeSelector: refs.nodeSelectors[zone], Storage: storage})
	}
	args.GitStorage = refs.gitStorage
	args.Service = gitlab.Service{Type: "LoadBalancer", Annotations: refs.annotations, HealthCheckNodePort: cfg.GitLab.HealthCheckNodePort,
		ProxyProtocol: &gitlab.ProxyProtocol{TrustedCIDRs: refs.proxySources}}
	args.ObjectStorage, args.Backup = refs.objectStorage, refs.backup
	return args
}

// Program is the Pulumi program of a Linode stack; it refuses a stack configured for another platform.
var Program = stacks.Program(Deploy)

// checks are the pre-flight checks of a Linode stack, each component's with its keys.
func checks(cfg *stacks.Config) []stacks.Check {
	refs := linodeStandIns(cfg)
	keys := func(section string) func(string) string {
		return stacks.Renames(section, map[string]string{
			"region": "region", "zones": "zones", "nodes": "linode.nodesPerPool",
			"nodeType": "linode.nodeType", "apiAllowedCidrs": "linode.apiAllowedCidrs", "version": "linode.kubernetesVersion",
			"clusterSize": "linode.databaseClusterSize", "type": "linode.databaseType", "volumeGiB": "linode.nfsVolumeGiB",
			"clientCidrs": "linode.clientCidrs", "encryption": "linode.nfsVolumeEncryption", "serverIp": "linode.nfsServerIp",
		})
	}
	checks := []stacks.Check{
		{Component: "linode", Validate: func() error { return retiredKeys(cfg) }, Key: func(field string) string { return field }},
		{Component: "cluster", Validate: func() error { return lke.ValidateLKE(lkeArgs(cfg)) }, Key: keys("linode")},
		{Component: "database", Validate: func() error { return linodedb.ValidateLinodePostgres(linodeDatabaseArgs(cfg, refs.nodeAddresses)) }, Key: keys("linode")},
		{Component: "database allow-list", Validate: func() error { return linodedb.ValidateNodeAllowList(allowListArgs(cfg, pulumi.Int(1))) }, Key: keys("linode")},
		{Component: "load balancer", Validate: func() error { return nodebalancer.ValidateNodeBalancer(nodeBalancerArgs(cfg)) },
			Key: stacks.Renames("gitlab", map[string]string{"region": "region"})},
		{Component: "gitlab", Validate: func() error { return gitlab.Validate(stacks.GitLabName, linodeGitLabArgs(cfg, refs)) }, Key: stacks.GitLabKeyWithStorage(cfg.Zones, "linode.fileStorage")},
	}
	if cfg.ObjectStorageOn() {
		checks = append(checks, stacks.Check{Component: "object storage",
			Validate: func() error { return linodeobj.Validate(objectStorageArgs(cfg), cfg.Project, cfg.Stack) }, Key: keys("objectStorage")})
	}
	if buildsNFS(cfg) {
		checks = append(checks, stacks.Check{Component: "file system", Validate: func() error { return linodenfs.ValidateLinodeNFS(nfsArgs(cfg)) }, Key: keys("linode")})
	}
	if cfg.GitKind() == stacks.GitGitaly {
		checks = append(checks, stacks.Check{Component: "gitaly",
			Validate: func() error { return gitaly.Validate(stacks.GitalyName, gitalyArgs(cfg, refs.nodeSelectors)) },
			Key:      stacks.Renames("gitStorage", map[string]string{"zones": "zones", "volumeSize": "gitStorage.volumeSizeGiB"})})
	}
	return checks
}

// cloudChecks ask Linode, through the stack's provider, whether it offers what the configuration chose: the
// Kubernetes version, and Block Storage Encryption in the region for the NFS server's volume.
func cloudChecks(ctx *pulumi.Context, cfg *stacks.Config, provider pulumi.ProviderResource) []stacks.Check {
	onLinode := pulumi.Provider(provider)
	checks := []stacks.Check{{Component: "cluster", Validate: func() error { return lke.OfferedVersion(ctx, cfg.Linode.KubernetesVersion, onLinode) },
		Key: stacks.Renames("linode", map[string]string{"version": "linode.kubernetesVersion"})}}
	if buildsNFS(cfg) {
		checks = append(checks, stacks.Check{Component: "file system", Validate: func() error { return linodenfs.EncryptionOffered(ctx, nfsArgs(cfg), onLinode) },
			Key: stacks.Renames("linode", map[string]string{"encryption": "linode.nfsVolumeEncryption"})})
	}
	return checks
}

// retiredKeys refuses the settings of the NFS server instance and its VPC, which the stack no longer builds,
// rather than let a stack believe they still apply.
func retiredKeys(cfg *stacks.Config) error {
	if cfg.Linode.SubnetCIDR != "" {
		return validate.Errorf("linode.subnetCidr", cfg.Linode.SubnetCIDR,
			"is no longer used: the stack builds no VPC (LKE nodes cannot join one in this provider version; the NFS server runs in the cluster); remove it")
	}
	if cfg.Linode.NFSInstanceType != "" {
		return validate.Errorf("linode.nfsInstanceType", cfg.Linode.NFSInstanceType,
			"is no longer used: the NFS server runs in the cluster, on the node pools; remove it")
	}
	return nil
}

// Deploy checks the configuration and every component's arguments, then builds the Linode stack: LKE with a
// pool per zone, managed PostgreSQL, the NFS server in the cluster (or Block Storage), a NodeBalancer the
// GitLab Service adopts, and GitLab. A bad configuration returns one error naming its key, and registers
// nothing. The provider reads LINODE_TOKEN.
func Deploy(ctx *pulumi.Context, cfg *stacks.Config) (*stacks.Outputs, error) {
	if err := stacks.Preflight(cfg, stacks.PlatformLinode, checks); err != nil {
		return nil, err
	}
	provider, err := linodeprovider.New(ctx, "linode", nil)
	if err != nil {
		return nil, err
	}
	if err := stacks.CloudPreflight(cloudChecks(ctx, cfg, provider)); err != nil {
		return nil, err
	}
	onLinode := pulumi.Provider(provider)
	cluster, err := lke.NewLKE(ctx, "gitlab", lkeArgs(cfg), onLinode)
	if err != nil {
		return nil, err
	}
	refs := linodeRefs{nodeSelectors: map[string]map[string]string{}}
	for _, zone := range cfg.Zones {
		refs.nodeSelectors[zone] = cluster.NodeSelector(zone)
	}
	db, err := linodedb.NewLinodePostgres(ctx, "gitlab-db", linodeDatabaseArgs(cfg, cluster.NodeAddresses), onLinode)
	if err != nil {
		return nil, err
	}
	refs.db = gitlab.Database{Host: db.Address, Port: db.Port, Name: db.DatabaseName, User: db.Username, Password: db.Password}
	// What runs in the cluster beside its firewall waits for a database GitLab can use: one Linode created
	// without a primary host fails the update here, with nothing of GitLab's, Gitaly's, the NFS server's or
	// the allow-list's registered. (The node firewall, part of the cluster, does not wait.)
	afterDatabase := db.Ready()
	if _, err := linodedb.NewNodeAllowList(ctx, "gitlab-db-allow-list", allowListArgs(cfg, db.DatabaseID),
		pulumi.Providers(provider, cluster.Provider), afterDatabase); err != nil {
		return nil, err
	}

	fileSystemID, mountTargets := pulumi.String(stacks.LinodeBlock).ToStringOutput(), pulumi.StringMap{}
	if cfg.StatelessZones() {
		fileSystemID = pulumi.String("").ToStringOutput()
	}
	if buildsNFS(cfg) {
		nfs, err := linodenfs.NewLinodeNFS(ctx, "gitlab-nfs", nfsArgs(cfg), pulumi.Providers(provider, cluster.Provider), afterDatabase)
		if err != nil {
			return nil, err
		}
		refs.nfsServer = nfs.Server
		fileSystemID = pulumi.Sprintf("linode-volume/%d", nfs.VolumeID)
		for _, zone := range cfg.Zones {
			mountTargets[zone] = nfs.Server
		}
	}

	objectBuckets, backupBucket, notes, err := buildObjectStorage(ctx, cfg, &refs, onLinode)
	if err != nil {
		return nil, err
	}

	balancer, err := nodebalancer.NewNodeBalancer(ctx, "gitlab", nodeBalancerArgs(cfg), onLinode)
	if err != nil {
		return nil, err
	}
	refs.annotations, refs.loadBalancer, refs.proxySources = balancer.ServiceAnnotations(), balancer.IPv4, balancer.ProxyProtocolSources

	if cfg.GitKind() == stacks.GitGitaly {
		git, err := gitaly.NewGitaly(ctx, stacks.GitalyName, gitalyArgs(cfg, refs.nodeSelectors), pulumi.Provider(cluster.Provider), afterDatabase)
		if err != nil {
			return nil, err
		}
		refs.gitStorage = stacks.GitalyStorage(cfg, git)
		notes = append(notes, stacks.GitStorageNote(cfg, fmt.Sprintf("a Gitaly StatefulSet per pool on Linode Block Storage (%s)", gitalyStorageClass(cfg))))
	}

	site, err := gitlab.NewGitLab(ctx, stacks.GitLabName, linodeGitLabArgs(cfg, refs), pulumi.Provider(cluster.Provider), afterDatabase)
	if err != nil {
		return nil, err
	}
	return &stacks.Outputs{
		URL: site.URL, SSHEndpoint: stacks.SSHEndpoint(cfg, balancer.IPv4), LoadBalancer: balancer.IPv4,
		ClusterName: pulumi.Sprintf("lke%d", cluster.ClusterID), Kubeconfig: cluster.Kubeconfig,
		DatabaseEndpoint: pulumi.Sprintf("%s:%d", db.Address, db.Port),
		FileSystemID:     fileSystemID, MountTargets: mountTargets.ToStringMapOutput(),
		RootPassword: site.RootPassword, GitLab: site,
		ObjectBuckets: objectBuckets, BackupBucket: backupBucket, Notes: notes,
	}, nil
}

// objectStorageName names the object storage component, and so its buckets' and keys' resources: never
// change it.
const objectStorageName = "gitlab-objects"

// buildObjectStorage builds the buckets and keys when the configuration asks for them and hands GitLab its
// connections through refs; it returns the buckets' names and the plan's lines on them.
func buildObjectStorage(ctx *pulumi.Context, cfg *stacks.Config, refs *linodeRefs, onLinode pulumi.ResourceOption) (
	pulumi.StringMapOutput, pulumi.StringOutput, []string, error) {
	notes := stacks.StorageNotes(cfg, fmt.Sprintf("Linode Object Storage in %s, a private bucket per object type (%s), "+
		"reached with a key limited to them; no versions are kept", cfg.Region, strings.Join(gitlab.ObjectTypes(), ", ")),
		fmt.Sprintf("the Linode backup bucket with a key of its own; the job deletes archives older than %d days", cfg.BackupRetentionDays()))
	if !cfg.ObjectStorageOn() {
		return pulumi.StringMap{}.ToStringMapOutput(), pulumi.String("").ToStringOutput(), notes, nil
	}
	storage, err := linodeobj.NewLinodeObjectStorage(ctx, objectStorageName, objectStorageArgs(cfg), onLinode)
	if err != nil {
		return pulumi.StringMapOutput{}, pulumi.StringOutput{}, nil, err
	}
	region := storage.Endpoint.ApplyT(signingRegion).(pulumi.StringOutput)
	refs.objectStorage, refs.backup = linodeStorage(cfg, region, storage.Endpoint, stacks.PerType(storage.Buckets), storage.BackupBucket,
		objectKeys{storage.AccessKeyID, storage.SecretAccessKey, storage.BackupAccessKeyID, storage.BackupSecretAccessKey})
	return storage.Buckets, storage.BackupBucket, notes, nil
}

// buildsNFS says whether the stack runs the NFS server: the zones share it unless they keep no volume, or each
// has a Block Storage volume of its own.
func buildsNFS(cfg *stacks.Config) bool {
	return cfg.NeedsNFS() && cfg.Linode.FileStorage != stacks.LinodeBlock
}

// gitalyStorageClass is gitStorage.storageClass, or the CSI driver's class that keeps a volume when its claim
// goes.
func gitalyStorageClass(cfg *stacks.Config) string {
	if cfg.GitStorage.StorageClass != "" {
		return cfg.GitStorage.StorageClass
	}
	return blockStorageClass
}

// gitalyArgs run each pool's Gitaly on that pool's nodes, on a Block Storage volume.
func gitalyArgs(cfg *stacks.Config, selectors map[string]map[string]string) *gitaly.GitalyArgs {
	return stacks.GitalyArgs(cfg, selectors, gitalyStorageClass(cfg))
}
