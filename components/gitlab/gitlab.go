// Package gitlab runs a highly available GitLab on any Kubernetes cluster: one Deployment per zone, each
// pinned to its zone's nodes and mounting a volume labelled with its zone, one Service over all zones, and
// shared keys so that every replica can read what another wrote. It knows nothing of clouds: zones, storage,
// database and Redis endpoints come in as arguments.
//
// Each zone gets, with <name> the component's name and <zone> the zone's name:
//   - PersistentVolume  <namespace>-<name>-<zone>  (NFS zones) labelled usage=gitlab-data, zone=<zone>
//   - PersistentVolumeClaim <name>-<zone>          selecting exactly that volume
//   - Deployment <name>-<zone>                     pinned to the zone's nodes, mounting the claim
//
// Each release (image and configuration) gets two Jobs, named after its version and a hash of their spec:
// <name>-migrations-<version>-<hash>, which the Deployments wait for, and <name>-post-migrations-<version>-
// <hash>, which waits for them; then ConfigMap <name>-migrated-version records the version.
//
// Shared: the Namespace, Secrets <name>-secrets, <name>-ssh-host-keys and <name>-initial-root-password, ConfigMap <name>-config, Service
// <name>, PodDisruptionBudget <name>, NetworkPolicies <name> and <name>-migrations, and, without an external
// Redis, <name>-redis (Deployment, Service, Secret, NetworkPolicy).
//
// With ObjectStorage on workload identity, ServiceAccount <name> (ServiceAccountName), annotated with the
// identity, which every GitLab pod runs as. With Backup, CronJob <name>-backup, ServiceAccount <name>-backup
// (BackupServiceAccountName), NetworkPolicy <name>-backup and, for a static key, Secret <name>-backup-key.
package gitlab

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "gitlab-ha:gitlab:GitLab"

// GitLab is the component. Its outputs are everything a caller wires onward.
type GitLab struct {
	pulumi.ResourceState

	// Namespace GitLab runs in.
	Namespace pulumi.StringOutput
	// ServiceName is the Service in front of all zones; Service is the resource itself, whose status carries
	// a LoadBalancer's address.
	ServiceName pulumi.StringOutput
	Service     *corev1.Service
	// URL is the external URL; SSHHost the host users clone from over SSH (port 22).
	URL     pulumi.StringOutput
	SSHHost pulumi.StringOutput
	// PersistentVolumes maps zone name to volume name, for NFS zones.
	PersistentVolumes pulumi.StringMapOutput
	// Claims maps zone name to PersistentVolumeClaim name.
	Claims pulumi.StringMapOutput
	// Deployments maps zone name to Deployment name.
	Deployments pulumi.StringMapOutput
	// MigrationJob is this release's database migration Job, which every Deployment waits for;
	// PostMigrationJob the post-deployment migrations, which wait for every Deployment.
	MigrationJob     pulumi.StringOutput
	PostMigrationJob pulumi.StringOutput
	// SecretName holds the generated keys and the passwords the pods read; ConfigMapName the configuration.
	SecretName    pulumi.StringOutput
	ConfigMapName pulumi.StringOutput
	// RootPassword is the generated initial password of GitLab's root user. Secret.
	RootPassword pulumi.StringOutput
	// RedisHost is where GitLab reaches Redis: the in-cluster Service, or the external host.
	RedisHost pulumi.StringOutput
	// BackupCronJob is the scheduled backup's CronJob, "" without Backup.
	BackupCronJob pulumi.StringOutput
}

// Validate reports the first problem with args, as NewGitLab would, without registering anything. The error
// is a *validate.Error naming the Args field.
func Validate(name string, args *GitLabArgs) error {
	return validateArgs(name, withDefaults(*args))
}

// NewGitLab validates args, then creates GitLab's objects as children of the component. Bad args return one
// error that names the field and the value, and nothing is registered.
func NewGitLab(ctx *pulumi.Context, name string, args *GitLabArgs, opts ...pulumi.ResourceOption) (*GitLab, error) {
	if args == nil {
		return nil, fmt.Errorf("gitlab %q: args are required", name)
	}
	defaulted := withDefaults(*args)
	if err := validateArgs(name, defaulted); err != nil {
		return nil, fmt.Errorf("gitlab %q: %w", name, err)
	}
	component := &GitLab{}
	if err := ctx.RegisterComponentResource(TypeToken, name, component, opts...); err != nil {
		return nil, err
	}
	if err := component.build(ctx, name, defaulted); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{
		"namespace":         component.Namespace,
		"serviceName":       component.ServiceName,
		"url":               component.URL,
		"sshHost":           component.SSHHost,
		"persistentVolumes": component.PersistentVolumes,
		"claims":            component.Claims,
		"deployments":       component.Deployments,
		"migrationJob":      component.MigrationJob,
		"postMigrationJob":  component.PostMigrationJob,
		"secretName":        component.SecretName,
		"configMapName":     component.ConfigMapName,
		"rootPassword":      component.RootPassword,
		"redisHost":         component.RedisHost,
		"backupCronJob":     component.BackupCronJob,
	}); err != nil {
		return nil, err
	}
	return component, nil
}

func (c *GitLab) build(ctx *pulumi.Context, name string, args GitLabArgs) error {
	namespace, err := c.namespace(ctx, name, args)
	if err != nil {
		return err
	}

	redis := redisEndpoint{}
	if args.Redis != nil {
		redis = externalRedis(args.Redis)
	} else if redis, err = newInClusterRedis(ctx, c, name, namespace, args.RedisImage, redisClients(args)); err != nil {
		return err
	}

	extraSecrets := objectStoreKey(args.ObjectStorage)
	for env, value := range gitStorageSecrets(args.GitStorage) {
		if extraSecrets == nil {
			extraSecrets = pulumi.StringMap{}
		}
		extraSecrets[env] = value
	}
	secrets, err := newSecrets(ctx, c, name, namespace, args.Database, redis.password, extraSecrets, args.Keys)
	if err != nil {
		return err
	}
	serviceAccount, err := c.workloadIdentity(ctx, name, namespace, args.ObjectStorage)
	if err != nil {
		return err
	}
	size, err := sizeFor(args.Resources)
	if err != nil {
		return err
	}
	configMap, checksum, err := newConfigMap(ctx, c, name, namespace, configInputs{
		externalURL: args.ExternalURL, serveTLS: args.TLSSecretName != "", extra: args.ExtraConfig,
		database: args.Database, redis: redis, sizing: size, traffic: trafficSettingsFor(args),
		metrics: metricsSettings{gitaly: !args.GitStorage.stateless(), sshd: args.Service.ProxyProtocol != nil}, objectStorage: args.ObjectStorage, backup: args.Backup,
		gitStorage: args.GitStorage, secret: secrets.secret,
	})
	if err != nil {
		return err
	}

	volumes, claims := pulumi.StringMap{}, pulumi.StringMap{}
	pods := make([]omnibusPod, len(args.Zones))
	for i, zone := range args.Zones {
		pods[i] = omnibusPod{
			storage: zone.Storage, configMapName: configMap.Metadata.Name().Elem(), secretName: secrets.secret.Metadata.Name().Elem(),
			serviceAccount: serviceAccount,
		}
		if args.GitStorage.stateless() {
			continue // Git data lives in the Git storage's servers: the zone has no volume
		}
		storage, err := newZoneStorage(ctx, c, name, args.Namespace, namespace, zone)
		if err != nil {
			return err
		}
		if storage.volume != nil {
			volumes[zone.Name] = storage.volume.Metadata.Name().Elem()
		}
		claims[zone.Name] = storage.claim.Metadata.Name().Elem()
		pods[i].claimName = storage.claim.Metadata.Name().Elem()
	}

	// The release's migrations run first, from the first zone; every zone's Deployment waits for them, and
	// the post-deployment migrations wait for every zone.
	if _, err := newOutboundOnlyNetworkPolicy(ctx, c, name, MigrationsComponent, namespace); err != nil {
		return err
	}
	migration := migrationJobArgs{name: name, namespace: namespace, args: args, version: args.Version,
		zone: args.Zones[0], pod: pods[0], configChecksum: checksum,
		rootPasswordSecret: secrets.rootPasswordSecret.Metadata.Name().Elem()}
	var redisReady []pulumi.StringOutput
	if redis.deployment != nil {
		redisReady = append(redisReady, deploymentRef(redis.deployment))
	}
	regular, err := newMigrationJob(ctx, c, migration, regularMigrations, redisReady)
	if err != nil {
		return err
	}

	deployments := pulumi.StringMap{}
	var rolledOut []pulumi.StringOutput
	for i, zone := range args.Zones {
		deployment, err := newZoneDeployment(ctx, c, zoneDeploymentArgs{
			name: name, namespace: namespace, zone: zone, args: args, pod: pods[i],
			hostKeysSecret: secrets.hostKeys.Metadata.Name().Elem(), configChecksum: checksum, migrations: regular,
		})
		if err != nil {
			return err
		}
		deployments[zone.Name] = deployment.Metadata.Name().Elem()
		rolledOut = append(rolledOut, deploymentRef(deployment))
	}
	postDeployment, err := newMigrationJob(ctx, c, migration, postDeploymentMigrations, rolledOut)
	if err != nil {
		return err
	}
	if _, err := newVersionRecord(ctx, c, name, namespace, args.Version, postDeployment); err != nil {
		return err
	}
	c.BackupCronJob = pulumi.String("").ToStringOutput()
	if args.Backup != nil {
		// The backup follows the release: its image changes once every zone runs the new version and the
		// post-deployment migrations are done, so no run backs up a schema its image does not match.
		cronJob, err := newBackup(ctx, c, backupArgs{name: name, namespace: namespace, args: args, zone: args.Zones[0],
			pod: pods[0], follows: jobRef(postDeployment)})
		if err != nil {
			return err
		}
		c.BackupCronJob = cronJob.Metadata.Name().Elem()
	}

	service, err := newService(ctx, c, name, namespace, args)
	if err != nil {
		return err
	}
	if _, err := newDisruptionBudget(ctx, c, name, namespace); err != nil {
		return err
	}
	if _, err := newNetworkPolicy(ctx, c, name, namespace, args); err != nil {
		return err
	}
	if _, err := newMetricsNetworkPolicy(ctx, c, name, namespace, args); err != nil {
		return err
	}

	c.Namespace = namespace.ToStringOutput()
	c.Service = service
	c.ServiceName = service.Metadata.Name().Elem()
	c.URL = args.ExternalURL.ToStringOutput()
	c.SSHHost = externalHost(args.ExternalURL)
	c.PersistentVolumes = volumes.ToStringMapOutput()
	c.Claims = claims.ToStringMapOutput()
	c.Deployments = deployments.ToStringMapOutput()
	c.MigrationJob = regular.Metadata.Name().Elem()
	c.PostMigrationJob = postDeployment.Metadata.Name().Elem()
	c.SecretName = secrets.secret.Metadata.Name().Elem()
	c.ConfigMapName = configMap.Metadata.Name().Elem()
	c.RootPassword = secrets.rootPassword
	c.RedisHost = redis.host.ToStringOutput()
	return nil
}

// workloadIdentity creates the service account GitLab's pods run as when object storage uses the cluster's
// workload identity, and returns its name, which carries the dependency: a pod created before its account
// would be refused, and would miss the identity the cluster injects when it admits the pod. Nil otherwise:
// the pods keep the namespace's default account.
func (c *GitLab) workloadIdentity(ctx *pulumi.Context, name string, namespace pulumi.StringInput, o *ObjectStorage) (pulumi.StringInput, error) {
	if o == nil || o.Connection.usesKey() {
		return nil, nil
	}
	account, err := newServiceAccount(ctx, c, name, ServiceAccountName(name), WebserviceComponent, namespace, o.Connection.WorkloadIdentity)
	if err != nil {
		return nil, err
	}
	return account.Metadata.Name().Elem(), nil
}

// namespace creates the Namespace unless the caller owns it, and returns its name as an input that carries
// the dependency, so that every namespaced object waits for it and for nothing else.
func (c *GitLab) namespace(ctx *pulumi.Context, name string, args GitLabArgs) (pulumi.StringInput, error) {
	if args.UseExistingNamespace {
		return pulumi.String(args.Namespace), nil
	}
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:   pulumi.String(args.Namespace),
			Labels: toStringMap(standardLabels(name, ConfigComponent)),
		},
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	return ns.Metadata.Name().Elem(), nil
}
