package stacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Namespace of every configuration key: gitlab-ha:platform, gitlab-ha:zones, …
const Namespace = "gitlab-ha"

// Platforms.
const (
	PlatformAWS      = "aws"
	PlatformLinode   = "linode"
	PlatformExisting = "existing"
)

// Redis modes.
const (
	RedisInCluster = "in-cluster"
	RedisManaged   = "managed"
)

// Config is the whole stack configuration, read once from gitlab-ha:* keys. Unset fields take the
// components' defaults, which Pulumi.yaml's descriptions repeat.
type Config struct {
	Platform    string
	Region      string
	Zones       []string
	Network     NetworkConfig
	Cluster     ClusterConfig
	Database    DatabaseConfig
	FileStorage FileStorageConfig
	Redis       RedisConfig
	GitLab      GitLabConfig
	Existing    ExistingConfig
	Linode      LinodeConfig
	Protect     bool
	Tags        map[string]string

	ObjectStorage ObjectStorageConfig
	Backup        BackupConfig
	GitStorage    GitStorageConfig
	Monitoring    MonitoringConfig

	// Kubeconfig of an existing cluster (platform existing). Secret.
	Kubeconfig pulumi.StringInput
	// DatabasePassword of an external database (platform existing). Secret.
	DatabasePassword pulumi.StringInput
	// GitLabKeys are saved GitLab keys, by their names in the GitLab component's Secrets (GitLabArgs.Keys):
	// gitlab-ha:gitlabKeys, secret config holding a JSON object. Nil: every key is generated.
	GitLabKeys map[string]string
	// ObjectStorageKey is the key GitLab uses on an existing cluster's S3-compatible service, BackupKey the
	// backup job's (default: ObjectStorageKey). Secret, both halves.
	ObjectStorageKey, BackupKey AccessKey

	// Project and Stack name this deployment: components derive names that must differ between stacks.
	Project, Stack string

	// Preview is true for `pulumi preview` (and the offline plan), false for `pulumi up`: a placeholder the
	// stack files ship may pass a preview, never an update.
	Preview bool

	// set records which keys the stack set, for checks that one key excludes another.
	set map[string]bool
}

// NetworkConfig is gitlab-ha:network.
type NetworkConfig struct {
	CIDR                     string            `json:"cidr,omitempty"`
	NATStrategy              string            `json:"natStrategy,omitempty"`
	FlowLogs                 bool              `json:"flowLogs,omitempty"`
	ExistingVpcID            string            `json:"existingVpcId,omitempty"`
	ExistingVpcCIDR          string            `json:"existingVpcCidr,omitempty"`
	ExistingPublicSubnetIDs  map[string]string `json:"existingPublicSubnetIds,omitempty"`
	ExistingPrivateSubnetIDs map[string]string `json:"existingPrivateSubnetIds,omitempty"`
}

// ClusterConfig is gitlab-ha:cluster.
type ClusterConfig struct {
	Version       string     `json:"version,omitempty"`
	InstanceTypes []string   `json:"instanceTypes,omitempty"`
	NodesPerZone  NodeCounts `json:"nodesPerZone,omitempty"`
	DiskSizeGiB   int        `json:"diskSizeGiB,omitempty"`
	// APIAccess is how Pulumi reaches the Kubernetes API: APIPublic or APIPrivate. Required.
	APIAccess          string         `json:"apiAccess,omitempty"`
	PublicAccessCIDRs  []string       `json:"publicAccessCidrs,omitempty"`
	PrivateAccessCIDRs []string       `json:"privateAccessCidrs,omitempty"`
	ServiceCIDR        string         `json:"serviceCidr,omitempty"`
	Addons             *AddonVersions `json:"addons,omitempty"`
	// UpgradePolicy is EKS's support type, STANDARD (the default) or EXTENDED.
	UpgradePolicy string `json:"upgradePolicy,omitempty"`
	// AdminPrincipalARNs get cluster-admin through EKS access entries, beside the cluster's creator.
	AdminPrincipalARNs []string `json:"adminPrincipalArns,omitempty"`
}

// Ways Pulumi reaches the cluster's API: gitlab-ha:cluster.apiAccess (EKS: public or private) and
// gitlab-ha:linode.apiAccess (LKE: public or open).
const (
	// APIPublic: the public endpoint, open to cluster.publicAccessCidrs alone.
	APIPublic = "public"
	// APIPrivate: the private endpoint only, from cluster.privateAccessCidrs inside an existing VPC.
	APIPrivate = "private"
	// APIOpen (Linode): LKE's default, the API reachable from any address holding the cluster's token.
	APIOpen = "open"
)

// AddonVersions pin the EKS managed add-ons (gitlab-ha:cluster.addons).
type AddonVersions struct {
	VPCCNI    string `json:"vpcCni"`
	KubeProxy string `json:"kubeProxy"`
	CoreDNS   string `json:"coreDns"`
}

// NodeCounts size each zone's node pool.
type NodeCounts struct {
	Min     int `json:"min"`
	Desired int `json:"desired"`
	Max     int `json:"max"`
}

// DatabaseConfig is gitlab-ha:database.
type DatabaseConfig struct {
	EngineVersion          string `json:"engineVersion,omitempty"`
	InstanceClass          string `json:"instanceClass,omitempty"`
	AllocatedStorageGiB    int    `json:"allocatedStorageGiB,omitempty"`
	MaxAllocatedStorageGiB *int   `json:"maxAllocatedStorageGiB,omitempty"`
	MultiAZ                *bool  `json:"multiAz,omitempty"`
	BackupRetentionDays    *int   `json:"backupRetentionDays,omitempty"`
	DeletionProtection     *bool  `json:"deletionProtection,omitempty"`
	SkipFinalSnapshot      bool   `json:"skipFinalSnapshot,omitempty"`
}

// FileStorageConfig is gitlab-ha:fileStorage.
type FileStorageConfig struct {
	ThroughputMode string `json:"throughputMode,omitempty"`
	TransitionToIA string `json:"transitionToIA,omitempty"`
	Backup         *bool  `json:"backup,omitempty"`
}

// RedisConfig is gitlab-ha:redis.
type RedisConfig struct {
	Mode     string `json:"mode,omitempty"`
	NodeType string `json:"nodeType,omitempty"`
}

// GitLabConfig is gitlab-ha:gitlab.
type GitLabConfig struct {
	Host            string          `json:"host,omitempty"`
	CertificateARN  string          `json:"certificateArn,omitempty"`
	Image           string          `json:"image,omitempty"`
	ReplicasPerZone *int            `json:"replicasPerZone,omitempty"`
	Resources       ResourcesConfig `json:"resources,omitempty"`
	AllowedCIDRs    []string        `json:"allowedCidrs,omitempty"`
	// HealthCheckNodePort is the GitLab Service's health-check node port, which the load balancer checks.
	// Default gitlab.DefaultHealthCheckNodePort.
	HealthCheckNodePort int `json:"healthCheckNodePort,omitempty"`
}

// ResourcesConfig sizes each GitLab pod.
type ResourcesConfig struct {
	CPURequest    string `json:"cpuRequest,omitempty"`
	MemoryRequest string `json:"memoryRequest,omitempty"`
	CPULimit      string `json:"cpuLimit,omitempty"`
	MemoryLimit   string `json:"memoryLimit,omitempty"`
}

// LinodeConfig is gitlab-ha:linode: what a Linode stack builds.
type LinodeConfig struct {
	KubernetesVersion   string     `json:"kubernetesVersion,omitempty"`
	NodeType            string     `json:"nodeType,omitempty"`
	NodesPerPool        NodeCounts `json:"nodesPerPool,omitempty"`
	HighAvailability    *bool      `json:"highAvailability,omitempty"`
	APIAccess           string     `json:"apiAccess,omitempty"`
	APIAllowedCIDRs     []string   `json:"apiAllowedCidrs,omitempty"`
	SubnetCIDR          string     `json:"subnetCidr,omitempty"`
	ClientCIDRs         []string   `json:"clientCidrs,omitempty"`
	DatabaseType        string     `json:"databaseType,omitempty"`
	DatabaseClusterSize int        `json:"databaseClusterSize,omitempty"`
	FileStorage         string     `json:"fileStorage,omitempty"`
	NFSInstanceType     string     `json:"nfsInstanceType,omitempty"`
	NFSVolumeGiB        int        `json:"nfsVolumeGiB,omitempty"`
	// NFSVolumeEncryption encrypts the NFS server's Block Storage volume (default true); the region must
	// offer Block Storage Encryption.
	NFSVolumeEncryption *bool `json:"nfsVolumeEncryption,omitempty"`
	// NFSServerIP is the NFS Service's cluster IP (default linodenfs.DefaultServerIP).
	NFSServerIP string `json:"nfsServerIp,omitempty"`
}

// Linode file storage modes.
const (
	// LinodeNFS serves every zone from one NFS server inside the cluster, on a Block Storage volume.
	LinodeNFS = "nfs"
	// LinodeBlock gives each zone a Block Storage volume of its own, through the CSI driver: lighter, for a
	// one-zone development stack.
	LinodeBlock = "block"
)

// ObjectStorageConfig is gitlab-ha:objectStorage: where GitLab keeps artifacts, uploads, LFS objects,
// packages and its other objects.
type ObjectStorageConfig struct {
	// Enabled defaults to true on aws and linode, which build the buckets; on existing, to whether Buckets
	// are set.
	Enabled *bool `json:"enabled,omitempty"`

	// aws: how long S3 keeps overwritten and deleted objects (default 30 days), and whether deleting the
	// stack deletes the buckets with their objects (default false).
	NoncurrentVersionDays int  `json:"noncurrentVersionDays,omitempty"`
	ForceDestroy          bool `json:"forceDestroy,omitempty"`

	// existing: the team's S3-compatible service. Endpoint defaults to Amazon S3 in Region; Buckets map each
	// of GitLab's object types to a bucket. The key is gitlab-ha:objectStorageAccessKeyId and
	// gitlab-ha:objectStorageSecretAccessKey, secret config.
	Endpoint  string            `json:"endpoint,omitempty"`
	Region    string            `json:"region,omitempty"`
	PathStyle bool              `json:"pathStyle,omitempty"`
	Buckets   map[string]string `json:"buckets,omitempty"`
}

// BackupConfig is gitlab-ha:backup: GitLab's own scheduled backup of its database and repositories.
type BackupConfig struct {
	// Enabled defaults to true where object storage is on (aws, linode); on existing, to whether Bucket is set.
	Enabled *bool `json:"enabled,omitempty"`
	// Schedule in cron syntax, UTC. Default gitlab.DefaultBackupSchedule.
	Schedule string `json:"schedule,omitempty"`
	// RetentionDays is how long an archive is kept. Default DefaultBackupRetentionDays.
	RetentionDays *int `json:"retentionDays,omitempty"`
	// ScratchSize is the node disk an archive is assembled on. Default: the GitLab component's.
	ScratchSize string `json:"scratchSize,omitempty"`
	// Bucket (existing) on the objectStorage service; aws and linode build their own.
	Bucket string `json:"bucket,omitempty"`
}

// DefaultBackupRetentionDays is how long a backup archive is kept unless backup.retentionDays says otherwise.
const DefaultBackupRetentionDays = 30

// AccessKey is an S3 access key read from secret configuration; nil halves are unset.
type AccessKey struct {
	ID, Secret pulumi.StringInput
}

// ExistingConfig is gitlab-ha:existing: what an existing cluster provides.
type ExistingConfig struct {
	ZoneLabel   string            `json:"zoneLabel,omitempty"`
	NFSServers  map[string]string `json:"nfsServers,omitempty"`
	NFSPath     string            `json:"nfsPath,omitempty"`
	Database    ExternalDatabase  `json:"database,omitempty"`
	ServiceType string            `json:"serviceType,omitempty"`
	// ProxyProtocolFrom are the addresses of a load balancer of the team's own (serviceType NodePort) that
	// sends PROXY protocol: GitLab then reads each client's address from it. Default none.
	ProxyProtocolFrom []string `json:"proxyProtocolFrom,omitempty"`
}

// ExternalDatabase is an existing PostgreSQL; its password is gitlab-ha:databasePassword.
type ExternalDatabase struct {
	Host    string `json:"host,omitempty"`
	Port    int    `json:"port,omitempty"`
	Name    string `json:"name,omitempty"`
	User    string `json:"user,omitempty"`
	SSLMode string `json:"sslMode,omitempty"`
}

// ConfigKeys lists every key the program reads, under Namespace. Pulumi.yaml declares exactly these.
var ConfigKeys = []string{"platform", "region", "zones", "network", "cluster", "database", "fileStorage", "redis",
	"gitlab", "existing", "linode", "protect", "tags", "kubeconfig", "databasePassword", "objectStorage", "backup",
	"objectStorageAccessKeyId", "objectStorageSecretAccessKey", "backupAccessKeyId", "backupSecretAccessKey", "gitlabKeys", "gitStorage",
	"monitoring"}

// Load reads every gitlab-ha:* key into a Config; a value that cannot be read is one error naming the key.
// The platforms' Deploy check the configuration as a whole (Preflight), before anything is registered.
func Load(ctx *pulumi.Context) (*Config, error) {
	get := func(key string) (string, bool) { return ctx.GetConfig(Namespace + ":" + key) }
	cfg := &Config{Preview: ctx.DryRun(), Project: ctx.Project(), Stack: ctx.Stack(), set: map[string]bool{}}
	text := func(key string, into *string) {
		if v, ok := get(key); ok {
			*into, cfg.set[key] = v, true
		}
	}
	text("platform", &cfg.Platform)
	text("region", &cfg.Region)
	objects := []struct {
		key  string
		into any
	}{
		{"zones", &cfg.Zones}, {"network", &cfg.Network}, {"cluster", &cfg.Cluster}, {"database", &cfg.Database},
		{"fileStorage", &cfg.FileStorage}, {"redis", &cfg.Redis}, {"gitlab", &cfg.GitLab},
		{"existing", &cfg.Existing}, {"linode", &cfg.Linode}, {"protect", &cfg.Protect}, {"tags", &cfg.Tags},
		{"objectStorage", &cfg.ObjectStorage}, {"backup", &cfg.Backup}, {"gitStorage", &cfg.GitStorage},
		{"monitoring", &cfg.Monitoring},
	}
	for _, o := range objects {
		raw, ok := get(o.key)
		if !ok {
			continue
		}
		// The engine fills Pulumi.yaml's empty defaults in; only a value with content counts as set.
		cfg.set[o.key] = !isEmpty(raw)
		decoder := json.NewDecoder(bytes.NewReader([]byte(raw)))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(o.into); err != nil {
			return nil, validate.Errorf(Namespace+":"+o.key, raw, "cannot be read: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	for _, secret := range []struct {
		key  string
		into *pulumi.StringInput
	}{
		{"kubeconfig", &cfg.Kubeconfig}, {"databasePassword", &cfg.DatabasePassword},
		{"objectStorageAccessKeyId", &cfg.ObjectStorageKey.ID}, {"objectStorageSecretAccessKey", &cfg.ObjectStorageKey.Secret},
		{"backupAccessKeyId", &cfg.BackupKey.ID}, {"backupSecretAccessKey", &cfg.BackupKey.Secret},
	} {
		if v, ok := get(secret.key); ok {
			cfg.set[secret.key] = true
			if !ctx.IsConfigSecret(Namespace + ":" + secret.key) {
				return nil, validate.Errorf(Namespace+":"+secret.key, nil, "is in plain text; set it with `pulumi config set --secret`")
			}
			*secret.into = pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput)
		}
	}
	if err := loadGitLabKeys(ctx, cfg); err != nil {
		return nil, err
	}
	if cfg.Platform == "" {
		cfg.Platform = PlatformAWS
	}
	if cfg.Redis.Mode == "" {
		cfg.Redis.Mode = RedisInCluster
	}
	return cfg, nil
}

// loadGitLabKeys reads gitlab-ha:gitlabKeys, which must be secret: a JSON object of key names and values, as
// `go run ./internal/cmd/gitlabkeys` prints it.
func loadGitLabKeys(ctx *pulumi.Context, cfg *Config) error {
	key := Namespace + ":gitlabKeys"
	raw, ok := ctx.GetConfig(key)
	if !ok || isEmpty(raw) {
		return nil
	}
	cfg.set["gitlabKeys"] = true
	if !ctx.IsConfigSecret(key) {
		return validate.Errorf(key, nil, "is in plain text; set it with `pulumi config set --secret gitlabKeys < gitlab-keys.json`")
	}
	if err := json.Unmarshal([]byte(raw), &cfg.GitLabKeys); err != nil {
		// The message names no value: it could quote a key.
		return validate.Errorf(key, nil, "is not a JSON object of key names and values, as `go run ./internal/cmd/gitlabkeys` prints")
	}
	return nil
}

// Validate checks what no component can: the platform, which keys go together, and what each platform
// requires. Each component's own checks run in the stack's pre-flight (see preflight.go).
func (c *Config) Validate() error {
	key := func(k string) string { return Namespace + ":" + k }
	switch c.Platform {
	case PlatformAWS, PlatformLinode, PlatformExisting:
	default:
		return validate.Errorf(key("platform"), c.Platform, "is not %s, %s or %s", PlatformAWS, PlatformLinode, PlatformExisting)
	}
	if len(c.Zones) == 0 {
		return validate.Errorf(key("zones"), nil, "is empty: name at least one zone")
	}
	switch c.Redis.Mode {
	case RedisInCluster:
		if c.Redis.NodeType != "" {
			return validate.Errorf(key("redis.nodeType"), c.Redis.NodeType, "is set, but redis.mode is %s", RedisInCluster)
		}
	case RedisManaged:
		if c.Platform != PlatformAWS {
			return validate.Errorf(key("redis.mode"), c.Redis.Mode, "is available on aws only; %s has no managed Redis", c.Platform)
		}
	default:
		return validate.Errorf(key("redis.mode"), c.Redis.Mode, "is not %s or %s", RedisInCluster, RedisManaged)
	}
	if c.GitLab.CertificateARN != "" && c.GitLab.Host == "" {
		return validate.Errorf(key("gitlab.certificateArn"), c.GitLab.CertificateARN, "needs gitlab.host, the name the certificate is for")
	}
	if c.GitLab.Host != "" {
		if err := validateHost(key("gitlab.host"), c.GitLab.Host); err != nil {
			return err
		}
	}
	if err := c.validateObjectStorage(key); err != nil {
		return err
	}
	if err := c.validateGitStorage(key); err != nil {
		return err
	}
	if err := c.validateMonitoring(key); err != nil {
		return err
	}
	if c.Platform == PlatformExisting {
		return c.validateExisting(key)
	}
	if c.Platform == PlatformLinode {
		if err := c.validateLinode(key); err != nil {
			return err
		}
	} else if c.set["linode"] {
		return validate.Errorf(key("linode"), nil, "is set, but platform is %s; it applies to platform linode only", c.Platform)
	}
	for _, k := range append([]string{"existing", "kubeconfig", "databasePassword"}, objectStorageSecretKeys...) {
		if c.set[k] {
			return validate.Errorf(key(k), nil, "is set, but platform is %s; it applies to platform existing only", c.Platform)
		}
	}
	if c.Region == "" {
		return validate.Missing(key("region"))
	}
	if c.Platform == PlatformAWS {
		return c.validateAPIAccess(key)
	}
	return nil
}

// validateAPIAccess refuses an AWS stack that Pulumi could not reach once the cluster exists: the Namespace,
// the first Kubernetes object, would time out after the cluster, database and file system were built.
func (c *Config) validateAPIAccess(key func(string) string) error {
	cl := c.Cluster
	switch cl.APIAccess {
	case "":
		return validate.Errorf(key("cluster.apiAccess"), nil, "is not set: Pulumi creates GitLab through the Kubernetes API and "+
			"must reach it; choose %q with cluster.publicAccessCidrs naming the networks it runs from, or %q from inside an "+
			"existing VPC (network.existingVpcId) with cluster.privateAccessCidrs", APIPublic, APIPrivate)
	case APIPublic:
		if len(cl.PublicAccessCIDRs) == 0 {
			return validate.Errorf(key("cluster.publicAccessCidrs"), nil, "is empty, but cluster.apiAccess is %s: name the networks Pulumi runs from", APIPublic)
		}
	case APIPrivate:
		if len(cl.PublicAccessCIDRs) > 0 {
			return validate.Errorf(key("cluster.publicAccessCidrs"), nil, "is set, but cluster.apiAccess is %s; remove them or choose %s", APIPrivate, APIPublic)
		}
		if c.Network.ExistingVpcID == "" {
			return validate.Errorf(key("cluster.apiAccess"), APIPrivate, "needs network.existingVpcId: a VPC this run creates cannot hold "+
				"the machine that runs it; choose %q with cluster.publicAccessCidrs, or run Pulumi inside an existing VPC", APIPublic)
		}
		if len(cl.PrivateAccessCIDRs) == 0 {
			return validate.Errorf(key("cluster.privateAccessCidrs"), nil, "is empty, but cluster.apiAccess is %s: name the networks inside the VPC that Pulumi runs from", APIPrivate)
		}
	default:
		return validate.Errorf(key("cluster.apiAccess"), cl.APIAccess, "is not %s or %s", APIPublic, APIPrivate)
	}
	if err := c.refusePlaceholders(key("cluster.publicAccessCidrs"), cl.PublicAccessCIDRs); err != nil {
		return err
	}
	return c.refusePlaceholders(key("cluster.privateAccessCidrs"), cl.PrivateAccessCIDRs)
}

// validateLinodeAPIAccess makes the LKE control plane's exposure a choice the stack names, in the shape
// EKS's has: LKE has no private endpoint, so the choice is an ACL of named networks or LKE's default.
func (c *Config) validateLinodeAPIAccess(key func(string) string) error {
	l := c.Linode
	switch l.APIAccess {
	case "":
		return validate.Errorf(key("linode.apiAccess"), nil, "is not set: Pulumi creates GitLab through the cluster's Kubernetes API; "+
			"choose %q with linode.apiAllowedCidrs naming the networks it runs from, or %q for LKE's default, any address "+
			"holding the cluster's token", APIPublic, APIOpen)
	case APIPublic:
		if len(l.APIAllowedCIDRs) == 0 {
			return validate.Errorf(key("linode.apiAllowedCidrs"), nil, "is empty, but linode.apiAccess is %s: name the networks Pulumi runs from", APIPublic)
		}
	case APIOpen:
		if len(l.APIAllowedCIDRs) > 0 {
			return validate.Errorf(key("linode.apiAllowedCidrs"), nil, "is set, but linode.apiAccess is %s; remove them or choose %s", APIOpen, APIPublic)
		}
	default:
		return validate.Errorf(key("linode.apiAccess"), l.APIAccess, "is not %s or %s", APIPublic, APIOpen)
	}
	return c.refusePlaceholders(key("linode.apiAllowedCidrs"), l.APIAllowedCIDRs)
}

// refusePlaceholders refuses, on pulumi up, a network in a documentation range: the stack files ship one as
// a placeholder, which a preview (and the offline plan) accepts, but from which nobody reaches the API.
func (c *Config) refusePlaceholders(field string, cidrs []string) error {
	if c.Preview {
		return nil
	}
	for i, cidr := range cidrs {
		if isDocumentationRange(cidr) {
			return validate.Errorf(fmt.Sprintf("%s[%d]", field, i), cidr, "is a documentation range, the stack file's placeholder: "+
				"pulumi up would build a cluster it cannot reach; set the networks Pulumi runs from")
		}
	}
	return nil
}

// documentationRanges are RFC 5737's, which no network routes: the placeholders the stack files ship.
var documentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
}

func isDocumentationRange(cidr string) bool {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return false // the cluster component reports a malformed range
	}
	for _, placeholder := range documentationRanges {
		if placeholder.Overlaps(prefix) && prefix.Bits() >= placeholder.Bits() {
			return true
		}
	}
	return false
}

func (c *Config) validateLinode(key func(string) string) error {
	for _, k := range []string{"network", "cluster", "database", "fileStorage"} {
		if c.set[k] {
			return validate.Errorf(key(k), nil, "is set, but platform linode takes its settings from the linode key; remove it")
		}
	}
	if c.GitLab.CertificateARN != "" {
		return validate.Errorf(key("gitlab.certificateArn"), c.GitLab.CertificateARN, "is an AWS certificate; platform linode has none")
	}
	switch c.Linode.FileStorage {
	case "", LinodeNFS, LinodeBlock:
	default:
		return validate.Errorf(key("linode.fileStorage"), c.Linode.FileStorage, "is not %s or %s", LinodeNFS, LinodeBlock)
	}
	return c.validateLinodeAPIAccess(key)
}

func (c *Config) validateExisting(key func(string) string) error {
	for _, k := range []string{"network", "cluster", "database", "fileStorage", "linode"} {
		if c.set[k] {
			return validate.Errorf(key(k), nil, "is set, but platform existing builds no %s; remove it", k)
		}
	}
	if c.Kubeconfig == nil {
		return validate.Errorf(key("kubeconfig"), nil, "is required with platform existing: `pulumi config set --secret kubeconfig < path/to/kubeconfig`")
	}
	if c.DatabasePassword == nil {
		return validate.Errorf(key("databasePassword"), nil, "is required with platform existing")
	}
	switch c.Existing.ServiceType {
	case "", "LoadBalancer", "NodePort", "ClusterIP":
	default:
		return validate.Errorf(key("existing.serviceType"), c.Existing.ServiceType, "is not LoadBalancer, NodePort or ClusterIP")
	}
	if len(c.Existing.ProxyProtocolFrom) > 0 && c.Existing.ServiceType != "NodePort" {
		serviceType := c.Existing.ServiceType
		if serviceType == "" {
			serviceType = "LoadBalancer"
		}
		reason := "the cluster's own controller builds that load balancer, and this stack cannot tell it to send PROXY protocol"
		if serviceType == "ClusterIP" {
			reason = "a ClusterIP Service has no load balancer to send it"
		}
		return validate.Errorf(key("existing.proxyProtocolFrom"), c.Existing.ProxyProtocolFrom,
			"is set, but existing.serviceType is %s: %s; it is for a load balancer of your own in front of the node ports (serviceType NodePort)", serviceType, reason)
	}
	return nil
}

func isEmpty(raw string) bool {
	switch strings.TrimSpace(raw) {
	case "", "{}", "[]", "null", "false":
		return true
	}
	return false
}

func validateHost(field, host string) error {
	if len(host) > 253 {
		return validate.Errorf(field, host, "is longer than a DNS name may be")
	}
	for _, label := range strings.Split(host, ".") {
		if err := validate.DNSLabel(field, label); err != nil {
			return validate.Errorf(field, host, "is not a DNS name such as gitlab.example.com")
		}
	}
	return nil
}
