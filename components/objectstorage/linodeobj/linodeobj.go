// Package linodeobj builds GitLab's object storage on Linode: one private Object Storage bucket per object
// type and one for backups, in the stack's region, and two limited access keys, one for GitLab over the object
// buckets and one for the backup job over the backup bucket, each read-write on its buckets and nothing else.
// The keys' secrets leave the component as secret outputs only.
//
// Unlike S3, Linode applies versioning and lifecycle rules through its S3 API, so the provider needs object
// storage keys of its own at apply time (obj_use_temp_keys, or obj_access_key and obj_secret_key), which the
// stacks' provider does not have (terraform-provider-linode v2.41.0, linode/obj/helpers.go, GetObjKeys). The
// buckets therefore keep no old versions and expire nothing; the backup job prunes old archives itself.
package linodeobj

import (
	"fmt"

	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/objectstore"
)

// TypeToken is the Linode object storage component's Pulumi type.
const TypeToken = "gitlab-ha:objectstorage:LinodeObjectStorage"

// readWrite is the bucket permission of a limited key that may read, write and delete objects.
const readWrite = "read_write"

// LinodeObjectStorageArgs configures GitLab's buckets and keys on Linode Object Storage.
type LinodeObjectStorageArgs struct {
	// Region of the buckets, e.g. "eu-central", one that offers Object Storage: the cluster's. Required.
	Region string
	// NamePrefix starts every bucket label, "<prefix>-<kind>-<random>". Default: the project and stack names,
	// lowercased and cut to fit, so that two stacks never share a bucket. A bucket's label is fixed at
	// creation: changing the prefix, or renaming the stack while using the default, replaces every bucket.
	NamePrefix string
	// Protect guards the buckets against deletion (pulumi protect and retainOnDelete). Default false.
	Protect bool
}

// LinodeObjectStorage is the component.
type LinodeObjectStorage struct {
	pulumi.ResourceState

	// Buckets maps each of GitLab's object types (objectstore.Types, GitLab's spelling: "external_diffs") to
	// its bucket's label.
	Buckets pulumi.StringMapOutput
	// BackupBucket is the label of the bucket gitlab-backup uploads to.
	BackupBucket pulumi.StringOutput
	// Region of the buckets.
	Region pulumi.StringOutput
	// Endpoint is the URL of the region's S3 API, "https://<host>".
	Endpoint pulumi.StringOutput
	// AccessKeyID and SecretAccessKey are GitLab's key: read-write on the object buckets only. The secret is
	// a secret output; it belongs in a Kubernetes Secret, never in a ConfigMap.
	AccessKeyID     pulumi.StringOutput
	SecretAccessKey pulumi.StringOutput
	// BackupAccessKeyID and BackupSecretAccessKey are the backup job's key: read-write on the backup bucket only.
	BackupAccessKeyID     pulumi.StringOutput
	BackupSecretAccessKey pulumi.StringOutput
}

func withDefaults(args LinodeObjectStorageArgs, project, stack string) LinodeObjectStorageArgs {
	if args.NamePrefix == "" {
		args.NamePrefix = objectstore.DefaultPrefix(project, stack)
	}
	return args
}

func validateArgs(args LinodeObjectStorageArgs) error {
	if err := linodekit.Region("region", args.Region); err != nil {
		return err
	}
	return objectstore.ValidatePrefix("namePrefix", args.NamePrefix)
}

// Validate reports the first problem with args, as NewLinodeObjectStorage would in a stack of this project and
// name, without registering anything.
func Validate(args *LinodeObjectStorageArgs, project, stack string) error {
	return validateArgs(withDefaults(*args, project, stack))
}

// NewLinodeObjectStorage validates args, then builds the buckets and the two keys.
func NewLinodeObjectStorage(ctx *pulumi.Context, name string, args *LinodeObjectStorageArgs, opts ...pulumi.ResourceOption) (*LinodeObjectStorage, error) {
	if args == nil {
		return nil, fmt.Errorf("objectstorage %q: args are required", name)
	}
	a := withDefaults(*args, ctx.Project(), ctx.Stack())
	if err := validateArgs(a); err != nil {
		return nil, fmt.Errorf("objectstorage %q: %w", name, err)
	}
	o := &LinodeObjectStorage{}
	if err := ctx.RegisterComponentResource(TypeToken, name, o, opts...); err != nil {
		return nil, err
	}
	if err := o.build(ctx, name, a); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(o, pulumi.Map{
		"buckets": o.Buckets, "backupBucket": o.BackupBucket, "region": o.Region, "endpoint": o.Endpoint,
		"accessKeyId": o.AccessKeyID, "secretAccessKey": o.SecretAccessKey,
		"backupAccessKeyId": o.BackupAccessKeyID, "backupSecretAccessKey": o.BackupSecretAccessKey,
	}); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *LinodeObjectStorage) build(ctx *pulumi.Context, name string, a LinodeObjectStorageArgs) error {
	// One suffix for the stack's buckets, made once and kept in the state: labels never change on update.
	suffix, err := random.NewRandomId(ctx, name+"-suffix", &random.RandomIdArgs{
		ByteLength: pulumi.Int(objectstore.SuffixBytes),
	}, pulumi.Parent(o))
	if err != nil {
		return err
	}
	newBucket := func(kind string) (*linode.ObjectStorageBucket, error) {
		return linode.NewObjectStorageBucket(ctx, name+"-"+kind, &linode.ObjectStorageBucketArgs{
			Label: suffix.Hex.ApplyT(func(suffix string) string {
				return objectstore.BucketName(a.NamePrefix, kind, suffix)
			}).(pulumi.StringOutput),
			Region:      pulumi.String(a.Region), // not the deprecated cluster
			Acl:         pulumi.String("private"),
			CorsEnabled: pulumi.Bool(false), // GitLab's browsers talk to GitLab, not to the buckets
		}, pulumi.Parent(o), pulumi.Protect(a.Protect), pulumi.RetainOnDelete(a.Protect))
	}

	labels := pulumi.StringMap{}
	var objectBuckets []*linode.ObjectStorageBucket
	for _, t := range objectstore.Types {
		bucket, err := newBucket(objectstore.Kind(t.Name))
		if err != nil {
			return err
		}
		labels[t.Name] = bucket.Label
		objectBuckets = append(objectBuckets, bucket)
	}
	backup, err := newBucket(objectstore.BackupKind)
	if err != nil {
		return err
	}

	gitlabKey, err := o.newLimitedKey(ctx, name+"-gitlab", a.NamePrefix+"-gitlab", objectBuckets)
	if err != nil {
		return err
	}
	backupKey, err := o.newLimitedKey(ctx, name+"-backup", a.NamePrefix+"-backup", []*linode.ObjectStorageBucket{backup})
	if err != nil {
		return err
	}

	o.Buckets = labels.ToStringMapOutput()
	o.BackupBucket = backup.Label
	o.Region = backup.Region
	o.Endpoint = backup.S3Endpoint.ApplyT(func(host string) string { return "https://" + host }).(pulumi.StringOutput)
	o.AccessKeyID = gitlabKey.AccessKey
	o.SecretAccessKey = pulumi.ToSecret(gitlabKey.SecretKey).(pulumi.StringOutput)
	o.BackupAccessKeyID = backupKey.AccessKey
	o.BackupSecretAccessKey = pulumi.ToSecret(backupKey.SecretKey).(pulumi.StringOutput)
	return nil
}

// newLimitedKey makes a key that may read and write these buckets and nothing else: with bucket access, a
// Linode key is limited to the buckets it names, and without regions it may create none.
func (o *LinodeObjectStorage) newLimitedKey(ctx *pulumi.Context, name, label string, buckets []*linode.ObjectStorageBucket) (*linode.ObjectStorageKey, error) {
	var access linode.ObjectStorageKeyBucketAccessArray
	for _, bucket := range buckets {
		access = append(access, &linode.ObjectStorageKeyBucketAccessArgs{
			BucketName:  bucket.Label,
			Region:      bucket.Region,
			Permissions: pulumi.String(readWrite),
		})
	}
	return linode.NewObjectStorageKey(ctx, name, &linode.ObjectStorageKeyArgs{
		Label:          pulumi.String(label),
		BucketAccesses: access,
	}, pulumi.Parent(o))
}
