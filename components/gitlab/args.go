package gitlab

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/objectstore"
)

// DefaultImage is the GitLab Omnibus image the component runs unless GitLabArgs.Image says otherwise.
// 18.11 is the last 18.x minor: it runs on PostgreSQL 16 (the database components' default) and 17, and it
// is the required upgrade stop before 19.x, which needs PostgreSQL 17.
const DefaultImage = "gitlab/gitlab-ce:18.11.11-ce.0"

// DefaultRedisImage is the image of the in-cluster Redis, used when GitLabArgs.Redis is nil.
const DefaultRedisImage = "redis:7.4.6-alpine"

// ZoneLabel is the well-known node label that carries a node's zone; the default node selector of a zone.
const ZoneLabel = "topology.kubernetes.io/zone"

// GitLabArgs configures a highly available GitLab: one Deployment per zone, each pinned to its zone's nodes
// and mounting its zone's volume, behind one Service.
type GitLabArgs struct {
	// Namespace to deploy into. Default "gitlab".
	Namespace string
	// UseExistingNamespace makes the component deploy into Namespace without creating it. Default false:
	// the component creates the namespace and owns its lifecycle.
	UseExistingNamespace bool

	// Zones are the units of failure, at least one. Each gets its own volume and Deployment. Zone names
	// key every per-zone resource, so adding a zone never renames another's. More than one zone requires
	// every zone to mount the same NFS export: zones on volumes of their own would split repositories and
	// uploads between them behind one Service. No default.
	Zones []Zone
	// ReplicasPerZone is the number of GitLab pods in each zone. Default 1.
	ReplicasPerZone *int

	// Image is the GitLab Omnibus image. Default DefaultImage.
	Image string
	// Version is the GitLab version Image runs, such as "18.11.11": it names the release's migration Jobs,
	// is checked against the image's own version before they migrate, and is recorded for the next upgrade's
	// check of the upgrade path. Default: the version Image's tag names (gitlab/gitlab-ce:18.11.11-ce.0 ->
	// 18.11.11); required when the tag names none (a digest, a custom tag).
	Version string
	// ExternalURL is the URL users reach GitLab at, http:// or https://, with no path. Required.
	ExternalURL pulumi.StringInput
	// TLSSecretName names an existing kubernetes.io/tls Secret in Namespace that GitLab's NGINX serves
	// HTTPS with. Default "": GitLab serves plain HTTP on port 80 and, when ExternalURL is https, expects
	// TLS to end at the load balancer in front of it.
	TLSSecretName string

	// Database is the external PostgreSQL. Required.
	Database Database
	// Redis is an external Redis. Default nil: the component runs a single in-cluster Redis with a
	// generated password, fit for development; production stacks should pass a managed, replicated one.
	Redis *Redis
	// RedisImage is the image of the in-cluster Redis. Default DefaultRedisImage.
	RedisImage string

	// ObjectStorage is where GitLab keeps artifacts, uploads, LFS objects, packages and its other objects:
	// GitLab's consolidated object storage, on any S3-compatible service. Default nil: objects stay on the
	// zones' shared volume, the layout GitLab documents for a single node only.
	ObjectStorage *ObjectStorage
	// Backup schedules GitLab's own backup of the database and repositories to a bucket. Default nil: no
	// scheduled backup; the platform's own snapshots are all there is.
	Backup *Backup
	// GitStorage says where Git repositories live. Default: on the zones' shared NFS volume, served by a
	// Gitaly in every zone's pod (see gitstorage.go).
	GitStorage GitStorage

	// Keys are saved values of keys the component otherwise generates, by their names in its Secrets
	// (KeyNames): "GITLAB_DB_KEY_BASE", "ssh_host_rsa_key", and so on. A stack restored into a new cluster
	// passes the old stack's, saved from its Secrets; an installation made before the component generated every
	// key passes those adopted once from the gitlab-secrets.json on its volume (README: "Keys"). Each is used as
	// it is, in place of the generated value, which stays in the state unused; kept secret. The key set must be
	// known when the program runs (a map of inputs, not an output of one). Default none: every key is
	// generated.
	Keys pulumi.StringMap

	// ExtraConfig is Ruby appended to the Omnibus configuration (gitlab.rb) after the component's own
	// settings, for what the component does not model. It lands in a ConfigMap, so it must hold no secret:
	// read secrets with ENV.fetch from variables of the Secret. Default "".
	ExtraConfig string

	// Resources of each GitLab pod. Defaults: see Resources.
	Resources Resources
	// Service says how GitLab is exposed. Default: a ClusterIP Service, reachable only inside the cluster.
	Service Service
	// Metrics says who may scrape the pods' exporters. Default: the pods of namespace "monitoring".
	Metrics Metrics
}

// Zone is one unit of failure: the nodes GitLab may run on there, and the storage it mounts there.
type Zone struct {
	// Name of the zone, e.g. "eu-west-1a" or "pool-a": a DNS label, unique among the zones. It names the
	// zone's Kubernetes objects and is the value of their "zone" label. Required.
	Name string
	// NodeSelector pins the zone's pods to its nodes. Default {ZoneLabel: Name}.
	NodeSelector map[string]string
	// Storage is the zone's volume. Required, unless GitStorage keeps Git data outside the zones' pods (its
	// Repositories without KeepNFS): the zones then have no volume, and Storage must be empty.
	Storage Storage
}

// Storage is a zone's volume: exactly one of NFS or StorageClass.
type Storage struct {
	// NFS is a shared NFS export, such as the zone's mount target of a shared file system. The component
	// creates a PersistentVolume for it, labelled with the zone, and a claim bound only to that volume.
	// Every NFS zone must export the same file system (as the mount targets of one EFS do): the replicas
	// share repositories, uploads and authorized_keys through it. The export must not squash root: Omnibus
	// chowns what it creates there, and a replica refuses to start, naming the server, when it cannot.
	NFS *NFS
	// StorageClass provisions a ReadWriteOnce volume through this class (Block Storage on a platform
	// without shared NFS). Such a zone can run only one replica, and must be the only zone. Default "": use
	// NFS.
	StorageClass string
	// Size of the volume. Default "100Gi". NFS ignores it, but Kubernetes requires a capacity.
	Size string
}

// NFS is an NFS export.
type NFS struct {
	// Server is the NFS server's address or DNS name, such as a mount target's IP. Required.
	Server pulumi.StringInput
	// Path is the exported path. Default "/".
	Path string
}

// Database is how GitLab reaches PostgreSQL.
type Database struct {
	// Host of the PostgreSQL server. Required.
	Host pulumi.StringInput
	// Port of the PostgreSQL server. Default 5432.
	Port pulumi.IntInput
	// Name of the database. Default "gitlabhq_production".
	Name pulumi.StringInput
	// User GitLab connects as. Default "gitlab".
	User pulumi.StringInput
	// Password of User. Required; it is kept secret whether or not the caller marked it so.
	Password pulumi.StringInput
	// SSLMode is libpq's sslmode. Default "require": the connection is encrypted. "disable" is for a
	// database that cannot do TLS and must be chosen by name.
	SSLMode string
}

// Redis is how GitLab reaches an external Redis.
type Redis struct {
	// Host of the Redis server. Required.
	Host pulumi.StringInput
	// Port of the Redis server. Default 6379.
	Port pulumi.IntInput
	// Password, if the server requires one. Default none. Kept secret.
	Password pulumi.StringInput
	// TLS connects with TLS, as managed Redis with encryption in transit requires. Default false.
	TLS bool
}

// Resources of a GitLab pod. GitLab's documented minimum for an all-in-one node is 4 vCPU and 8 GB; a zone
// replica here runs everything but PostgreSQL and Redis, so the defaults sit just under that. The limits
// size Puma's workers and Sidekiq's threads (see sizing.go): the CPU limit caps the workers, and the memory
// limit must hold Sidekiq, the other processes and at least two workers, 5537Mi.
type Resources struct {
	// CPURequest. Default "2".
	CPURequest string
	// MemoryRequest. Default "8Gi", equal to the limit so that a busy node cannot OOM-kill GitLab first.
	MemoryRequest string
	// CPULimit. Default "4".
	CPULimit string
	// MemoryLimit. Default "8Gi".
	MemoryLimit string
	// EphemeralStorageRequest: logs and runtime state live in emptyDirs on the node's disk. Default "2Gi".
	EphemeralStorageRequest string
	// EphemeralStorageLimit: a pod past it is evicted rather than filling the node's disk. Default "20Gi".
	EphemeralStorageLimit string
}

// Service says how the one Service over all zones is exposed. A NodePort or LoadBalancer Service sends what
// arrives at a node only to the GitLab pods on that node (externalTrafficPolicy Local): nothing is forwarded
// to another node or zone, and GitLab sees the address the connection came from rather than a node's.
type Service struct {
	// Type is "ClusterIP", "NodePort" or "LoadBalancer". Default "ClusterIP": nothing outside the cluster
	// can reach GitLab until a platform chooses how. Only a LoadBalancer Service gets the health-check port
	// a load balancer needs to follow GitLab's readiness: for a load balancer of your own in front of the
	// node ports, choose LoadBalancer with LoadBalancerClass ExternalLoadBalancerClass rather than NodePort.
	Type string
	// Annotations on the Service, for the cloud controller (e.g. Linode's NodeBalancer ID). Default none.
	Annotations pulumi.StringMapInput
	// NodePorts fixes the node ports, so that a load balancer managed outside Kubernetes can target them.
	// Only with NodePort or LoadBalancer. Default: Kubernetes assigns them.
	NodePorts NodePorts
	// HealthCheckNodePort is the node port on which each node's kube-proxy answers the load balancer's HTTP
	// health check (any path; /healthz by convention): 200 while the node holds a ready GitLab pod, 503
	// while it holds none, and nothing at all when the node is down. 30000-32767, and none of NodePorts.
	// Only with LoadBalancer, the only type Kubernetes gives one to. Kubernetes refuses to change it once
	// set: a new value means replacing the Service. Default DefaultHealthCheckNodePort.
	HealthCheckNodePort int
	// LoadBalancerClass names the controller that implements the load balancer; the cloud's own controller
	// and the AWS Load Balancer Controller leave a Service of another class alone. ExternalLoadBalancerClass
	// is the class no controller implements, for a load balancer managed outside Kubernetes (the AWS stack's
	// NLB, yours) that targets the node ports and checks HealthCheckNodePort. Kubernetes refuses to change
	// it once set. Only with LoadBalancer. Default "": the cluster's own controller builds one.
	LoadBalancerClass string
	// LoadBalancerSourceRanges limits who may connect through a LoadBalancer. Only with LoadBalancer.
	// Default none: open to all, as a public GitLab is.
	LoadBalancerSourceRanges pulumi.StringArrayInput
	// HTTPRedirect adds the Service port "http-redirect" (HTTPRedirectPort), where GitLab's NGINX answers
	// every request with a permanent redirect to ExternalURL: for a load balancer that ends TLS itself and
	// sends its plain-HTTP listener there, so that http:// brings a browser to https:// rather than to a
	// page on which no sign-in works (GitLab's session cookies are Secure under an https ExternalURL). Only
	// with an https ExternalURL and no TLSSecretName (GitLab's NGINX then redirects port 80 itself), and not
	// with ClusterIP. Default false.
	HTTPRedirect bool
	// ProxyProtocol makes GitLab take each client's address from a PROXY protocol header, for a load
	// balancer that hides it (a TCP-mode NodeBalancer): the Service's HTTP port reaches a listener of
	// GitLab's NGINX that requires PROXY protocol (HTTP/HTTPS only; TLSSecretName is not supported with it),
	// and its SSH port reaches gitlab-sshd, GitLab's own SSH server, in place of OpenSSH, which cannot read
	// PROXY protocol. The load balancer must send PROXY protocol v2 (or v1) on every port: a connection to
	// the HTTP port without the header is refused. Not with ClusterIP: nothing sends it to one. Default nil:
	// connections arrive with the client's own address (an NLB with instance targets keeps it), and GitLab
	// trusts no proxy at all.
	ProxyProtocol *ProxyProtocol
}

// ProxyProtocol is a load balancer that prepends a PROXY protocol header to every connection.
type ProxyProtocol struct {
	// TrustedCIDRs are the addresses the load balancer connects to the nodes from (a NodeBalancer's
	// 192.168.255.0/24): GitLab's NGINX, gitlab-sshd and Rails believe a header, and the client address in
	// it, only on a connection from these, and gitlab-sshd refuses a header from anywhere else. Required, at
	// least one.
	TrustedCIDRs []string
}

// NodePorts are fixed node ports, 30000-32767; 0 lets Kubernetes choose.
type NodePorts struct {
	HTTP         int // default 0
	HTTPS        int // default 0; used only with TLSSecretName
	SSH          int // default 0
	HTTPRedirect int // default 0; used only with Service.HTTPRedirect
}

// DefaultHealthCheckNodePort is the Service's health-check node port unless Service.HealthCheckNodePort says
// otherwise. It lies in the band of the node-port range (30000-30085 of the default 30000-32767) from which
// Kubernetes assigns a port at random only once the rest is taken, so that another Service of the cluster
// rarely holds it first (k8s.io/kubernetes v1.33 pkg/registry/core/service/portallocator, calculateRangeOffset).
const DefaultHealthCheckNodePort = 30056

// ExternalLoadBalancerClass is the Service.LoadBalancerClass that no controller implements: the Service gets
// its node ports and health-check port, and no cloud builds a load balancer for it.
const ExternalLoadBalancerClass = "gitlab-ha.io/external"

// HTTPRedirectPort is the Service port of Service.HTTPRedirect.
const HTTPRedirectPort = 8084

// ObjectStorage is GitLab's consolidated object storage: one connection, one bucket per object type.
type ObjectStorage struct {
	// Connection is the S3-compatible service and who GitLab's pods are to it. Required.
	Connection ObjectStoreConnection
	// Buckets maps each of GitLab's object types, ObjectTypes, to its bucket. All of them, and nothing else:
	// the consolidated form turns object storage on for every type, and GitLab refuses to start when one has
	// no bucket. No two types may share a bucket. Required.
	Buckets map[string]pulumi.StringInput
}

// ObjectTypes are the object types of GitLab 18.11's consolidated object storage, under
// gitlab_rails['object_store']['objects'].
func ObjectTypes() []string {
	names := make([]string, len(objectstore.Types))
	for i, t := range objectstore.Types {
		names[i] = t.Name
	}
	return names
}

// ObjectStoreConnection is an S3-compatible service, and the credentials a workload uses there: a static
// key, or the cluster's workload identity.
type ObjectStoreConnection struct {
	// Region the buckets are in: the AWS region, or the region an S3-compatible service signs requests with
	// (Linode's cluster ID such as "eu-central-1"; "us-east-1" for most others). Required.
	Region pulumi.StringInput
	// Endpoint is the service's https:// URL. Default nil: Amazon S3, found from Region. Leave it unset for
	// S3 with workload identity: an explicit endpoint breaks the STS exchange.
	Endpoint pulumi.StringInput
	// PathStyle addresses buckets as <endpoint>/<bucket> instead of <bucket>.<endpoint>, as MinIO and most
	// stores run on premises need. Default false.
	PathStyle bool

	// AccessKeyID and SecretAccessKey are a static key. They reach the pods through a Secret and are kept
	// secret in the state; the ConfigMap only names the variables that hold them. Default nil: use
	// WorkloadIdentity. Exactly one of a key and WorkloadIdentity is required.
	AccessKeyID     pulumi.StringInput
	SecretAccessKey pulumi.StringInput
	// WorkloadIdentity are the annotations of the service account the pods run as, through which the cluster
	// gives them short-lived credentials: {"eks.amazonaws.com/role-arn": <role ARN>} for IAM roles for
	// service accounts on EKS. No key exists anywhere. Default nil: use a static key.
	WorkloadIdentity pulumi.StringMapInput
}

// Backup is a scheduled gitlab-backup: the database and the repositories, uploaded to a bucket of their own.
// What object storage holds is skipped, as GitLab advises: the buckets keep it, versioned.
type Backup struct {
	// Bucket the archives go to. It must not be one of ObjectStorage's buckets. Required.
	Bucket pulumi.StringInput
	// Connection to Bucket, with an identity of its own: GitLab's pods cannot read or delete a backup, and
	// the backup job's identity need reach no live object. Required.
	Connection ObjectStoreConnection
	// Schedule in cron syntax, in the cluster's time zone (UTC on EKS and LKE). Default DefaultBackupSchedule.
	Schedule string
	// PruneAfterDays makes every run delete, after its upload, the archives in Bucket older than this many
	// days, for stores whose buckets cannot expire objects by themselves. GitLab prunes only local archives,
	// never uploaded ones. Default 0: the bucket's own lifecycle rules are the retention, as on S3.
	PruneAfterDays int
	// ScratchSize is the node disk the archive is assembled on before its upload: the database dump plus every
	// repository, uncompressed. The job is stopped past it, rather than filling the node's disk. Default "20Gi".
	ScratchSize string
}

// DefaultBackupSchedule runs the backup daily at 01:00, outside the RDS backup window (03:00-04:00) and
// maintenance window the database component sets by default.
const DefaultBackupSchedule = "0 1 * * *"
