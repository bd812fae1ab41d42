package gitlab_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

func TestBadArgsGiveOneClearErrorAndRegisterNothing(t *testing.T) {
	cases := []struct {
		name string
		edit func(*gitlab.GitLabArgs)
		want string // the error names the field and the bad value
	}{
		{"no zones", func(a *gitlab.GitLabArgs) { a.Zones = nil }, "zones: needs at least one zone"},
		{"duplicate zone names", func(a *gitlab.GitLabArgs) { a.Zones[2].Name = "eu-west-1a" },
			`zones[2].name: "eu-west-1a" repeats zones[0].name`},
		{"zone name not a valid label value", func(a *gitlab.GitLabArgs) { a.Zones[1].Name = "EU_West" },
			`zones[1].name: "EU_West" is not a valid DNS label`},
		{"zone name too long for object names", func(a *gitlab.GitLabArgs) { a.Zones[0].Name = strings.Repeat("z", 60) },
			`zones[0].name: "zzzz`},
		{"replicas below one", func(a *gitlab.GitLabArgs) { a.ReplicasPerZone = pulumi.IntRef(0) },
			"replicasPerZone: 0 must be at least 1"},
		{"missing database host", func(a *gitlab.GitLabArgs) { a.Database.Host = nil }, "database.host: is required"},
		{"empty database host", func(a *gitlab.GitLabArgs) { a.Database.Host = pulumi.String("") }, "database.host: is required"},
		{"missing database password", func(a *gitlab.GitLabArgs) { a.Database.Password = nil }, "database.password: is required"},
		{"database port out of range", func(a *gitlab.GitLabArgs) { a.Database.Port = pulumi.Int(70000) },
			"database.port: 70000 is not a TCP port"},
		{"unknown sslmode", func(a *gitlab.GitLabArgs) { a.Database.SSLMode = "sometimes" }, `database.sslMode: "sometimes"`},
		{"NFS zone without a server", func(a *gitlab.GitLabArgs) { a.Zones[1].Storage.NFS.Server = nil },
			"zones[1].storage.nfs.server: is required"},
		{"NFS path not absolute", func(a *gitlab.GitLabArgs) { a.Zones[0].Storage.NFS.Path = "data" },
			`zones[0].storage.nfs.path: "data" is not an absolute path`},
		{"zone with no storage", func(a *gitlab.GitLabArgs) { a.Zones[0].Storage = gitlab.Storage{} },
			"zones[0].storage: sets neither nfs nor storageClass"},
		{"zone with both kinds of storage", func(a *gitlab.GitLabArgs) { a.Zones[0].Storage.StorageClass = "linode-block-storage" },
			"zones[0].storage: sets both nfs and storageClass"},
		{"ReadWriteOnce storage with two replicas", func(a *gitlab.GitLabArgs) {
			a.Zones[0].Storage = gitlab.Storage{StorageClass: "linode-block-storage"}
			a.ReplicasPerZone = pulumi.IntRef(2)
		}, `zones[0].storage.storageClass: "linode-block-storage" gives a ReadWriteOnce volume`},
		{"bad volume size", func(a *gitlab.GitLabArgs) { a.Zones[0].Storage.Size = "lots" }, `zones[0].storage.size: "lots"`},
		{"empty node selector", func(a *gitlab.GitLabArgs) { a.Zones[0].NodeSelector = map[string]string{} },
			"zones[0].nodeSelector: is empty"},
		{"missing external URL", func(a *gitlab.GitLabArgs) { a.ExternalURL = nil }, "externalURL: is required"},
		{"external URL without scheme", func(a *gitlab.GitLabArgs) { a.ExternalURL = pulumi.String("gitlab.example.com") },
			`externalURL: "gitlab.example.com" is not an http:// or https:// URL`},
		{"external URL with a path", func(a *gitlab.GitLabArgs) { a.ExternalURL = pulumi.String("https://example.com/gitlab") },
			`externalURL: "https://example.com/gitlab" has a path`},
		{"TLS secret with an http URL", func(a *gitlab.GitLabArgs) {
			a.ExternalURL = pulumi.String("http://gitlab.example.com")
			a.TLSSecretName = "gitlab-tls"
		}, `tlsSecretName: "gitlab-tls" is set, but externalURL "http://gitlab.example.com" is not https`},
		{"unknown Service type", func(a *gitlab.GitLabArgs) { a.Service.Type = "Ingress" }, `service.type: "Ingress"`},
		{"node port on a ClusterIP Service", func(a *gitlab.GitLabArgs) { a.Service.NodePorts.HTTP = 30080 },
			"service.nodePorts.http: 30080 is set, but a ClusterIP Service has no node ports"},
		{"node port out of range", func(a *gitlab.GitLabArgs) {
			a.Service.Type = "NodePort"
			a.Service.NodePorts.SSH = 2222
		}, "service.nodePorts.ssh: 2222 is outside the node port range"},
		{"node port used twice", func(a *gitlab.GitLabArgs) {
			a.Service.Type = "NodePort"
			a.Service.NodePorts = gitlab.NodePorts{HTTP: 30080, SSH: 30080}
		}, "service.nodePorts.ssh: 30080 is also service.nodePorts.http"},
		{"source range that is not a CIDR", func(a *gitlab.GitLabArgs) {
			a.Service.Type = "LoadBalancer"
			a.Service.LoadBalancerSourceRanges = pulumi.StringArray{pulumi.String("10.0.0.0/8"), pulumi.String("office")}
		}, `service.loadBalancerSourceRanges[1]: "office" is not a CIDR block`},
		{"source ranges without a load balancer", func(a *gitlab.GitLabArgs) {
			a.Service.LoadBalancerSourceRanges = pulumi.StringArray{pulumi.String("10.0.0.0/8")}
		}, "service.loadBalancerSourceRanges: is set, but the Service type is ClusterIP"},
		{"bad memory limit", func(a *gitlab.GitLabArgs) { a.Resources.MemoryLimit = "8GB" }, `resources.memoryLimit: "8GB"`},
		{"bad namespace", func(a *gitlab.GitLabArgs) { a.Namespace = "GitLab" }, `namespace: "GitLab"`},
		{"external Redis without a host", func(a *gitlab.GitLabArgs) { a.Redis = &gitlab.Redis{} }, "redis.host: is required"},
		{"several zones, one on a volume of its own", func(a *gitlab.GitLabArgs) {
			a.Zones[1].Storage = gitlab.Storage{StorageClass: "gp3"}
		}, `zones[1].storage.storageClass: "gp3" gives zone eu-west-1b a volume of its own, but there are 3 zones: with more than one zone, every zone must mount the same NFS export (storage.nfs)`},
		{"several zones, each on a volume of its own", func(a *gitlab.GitLabArgs) {
			for i := range a.Zones {
				a.Zones[i].Storage = gitlab.Storage{StorageClass: "linode-block-storage-retain"}
			}
		}, `zones[0].storage.storageClass: "linode-block-storage-retain" gives zone eu-west-1a a volume of its own, but there are 3 zones`},
		{"zones mounting different exports", func(a *gitlab.GitLabArgs) { a.Zones[2].Storage.NFS.Path = "/zone-c" },
			`zones[2].storage.nfs.path: "/zone-c" differs from zones[0].storage.nfs.path "/": every zone must mount the same export`},
		{"object storage missing a type's bucket", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			delete(a.ObjectStorage.Buckets, "pages")
		}, `objectStorage.buckets["pages"]: is missing: GitLab's consolidated object storage needs a bucket for every object type`},
		{"object storage with a type GitLab does not have", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			a.ObjectStorage.Buckets["registry"] = pulumi.String("dev-registry")
		}, `objectStorage.buckets["registry"]: is not one of GitLab's object types`},
		{"two types in one bucket", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			a.ObjectStorage.Buckets["lfs"] = pulumi.String(bucketOf("artifacts"))
		}, `objectStorage.buckets["lfs"]: "dev-artifacts-1a2b3c4d" is also the bucket of artifacts`},
		{"object storage without a region", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			a.ObjectStorage.Connection.Region = nil
		}, "objectStorage.connection.region: is required"},
		{"object storage without credentials", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			a.ObjectStorage.Connection.WorkloadIdentity = nil
		}, "objectStorage.connection: sets neither a key (accessKeyID, secretAccessKey) nor workloadIdentity"},
		{"object storage with a key and workload identity", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			a.ObjectStorage.Connection.AccessKeyID = pulumi.String(accessKeyID)
		}, "objectStorage.connection: sets both a key"},
		{"a key without its secret", func(a *gitlab.GitLabArgs) {
			*a = *withKeys()
			a.ObjectStorage.Connection.SecretAccessKey = nil
		}, "objectStorage.connection.secretAccessKey: is required"},
		{"an endpoint in the clear", func(a *gitlab.GitLabArgs) {
			*a = *withKeys()
			a.ObjectStorage.Connection.Endpoint = pulumi.String("http://minio.storage:9000")
		}, `objectStorage.connection.endpoint: "http://minio.storage:9000" is not an https:// URL`},
		{"backups into an object bucket", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			a.Backup.Bucket = pulumi.String(bucketOf("uploads"))
		}, `backup.bucket: "dev-uploads-1a2b3c4d" is also the uploads bucket`},
		{"backup without a bucket", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			a.Backup.Bucket = nil
		}, "backup.bucket: is required"},
		{"backup without credentials", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			a.Backup.Connection.WorkloadIdentity = nil
		}, "backup.connection: sets neither"},
		{"backup schedule that is not cron", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			a.Backup.Schedule = "nightly"
		}, `backup.schedule: "nightly" is not a cron schedule`},
		{"negative retention", func(a *gitlab.GitLabArgs) {
			*a = *withKeys()
			a.Backup.PruneAfterDays = -1
		}, "backup.pruneAfterDays: -1 is not between 0"},
		{"bad scratch size", func(a *gitlab.GitLabArgs) {
			*a = *onS3()
			a.Backup.ScratchSize = "lots"
		}, `backup.scratchSize: "lots"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := threeZones()
			tc.edit(args)
			result := componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := gitlab.NewGitLab(ctx, "gitlab", args)
				return err
			}, `gitlab "gitlab": `+tc.want)
			require.Error(t, result.Err)
			assert.Equal(t, 1, strings.Count(result.Err.Error(), `gitlab "gitlab":`), "one error, not a list")
		})
	}
}

func TestAComponentNameThatCannotNameAServiceIsRejected(t *testing.T) {
	componenttest.Rejects(t, func(ctx *pulumi.Context) error {
		_, err := gitlab.NewGitLab(ctx, "1st-gitlab", threeZones())
		return err
	}, `name: "1st-gitlab" is not a valid Service name`)
}

func TestValuesKnownOnlyAtDeployTimeAreLeftToTheProvider(t *testing.T) {
	// An Output cannot be checked up front; it must not be mistaken for a missing value.
	var component *gitlab.GitLab
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		args := threeZones()
		args.Database.Host = pulumi.String("db.internal").ToStringOutput()
		args.ExternalURL = pulumi.Sprintf("https://%s", "gitlab.example.com")
		var err error
		component, err = gitlab.NewGitLab(ctx, "gitlab", args)
		return err
	})
	require.NoError(t, result.Err)
	assert.Equal(t, "https://gitlab.example.com", componenttest.MustAwait(t, component.URL).Value)
}
