// Package objectstorage builds the object storage GitLab's consolidated form needs: on AWS one S3 bucket per
// object type and one for backups, encrypted with a key of the stack's own, private, reachable over TLS only,
// and two IAM roles that GitLab's pods and its backup job assume through the cluster's IAM roles for service
// accounts, each limited to its buckets. No access key exists anywhere. Linode's lives in linodeobj.
package objectstorage

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
	"github.com/gitlab-ha/gitlab-ha/internal/objectstore"
)

// S3TypeToken is the S3 component's Pulumi type.
const S3TypeToken = "gitlab-ha:objectstorage:S3"

const componentTag = "objectstorage"

// S3 is the component.
type S3 struct {
	pulumi.ResourceState

	// Buckets maps each of GitLab's object types (objectstore.Types, GitLab's spelling: "external_diffs") to
	// its bucket's name.
	Buckets pulumi.StringMapOutput
	// BackupBucket is the name of the bucket gitlab-backup uploads to.
	BackupBucket pulumi.StringOutput
	// Region the buckets are in.
	Region pulumi.StringOutput
	// RoleARN is the role GitLab's service account assumes: the object buckets only.
	RoleARN pulumi.StringOutput
	// BackupRoleARN is the role the backup job's service account assumes: the backup bucket only.
	BackupRoleARN pulumi.StringOutput
	// KMSKeyARN is the key every bucket is encrypted with.
	KMSKeyARN pulumi.StringOutput
}

// ValidateS3 reports the first problem with args, as NewS3 would in a stack of this project and name,
// without registering anything.
func ValidateS3(args *S3Args, project, stack string) error {
	return validateS3(withS3Defaults(*args, project, stack))
}

// NewS3 validates args, then builds the key, the buckets and the two roles.
func NewS3(ctx *pulumi.Context, name string, args *S3Args, opts ...pulumi.ResourceOption) (*S3, error) {
	if args == nil {
		return nil, fmt.Errorf("objectstorage %q: args are required", name)
	}
	defaulted := withS3Defaults(*args, ctx.Project(), ctx.Stack())
	if err := validateS3(defaulted); err != nil {
		return nil, fmt.Errorf("objectstorage %q: %w", name, err)
	}
	s := &S3{}
	if err := ctx.RegisterComponentResource(S3TypeToken, name, s, opts...); err != nil {
		return nil, err
	}
	if err := s.build(ctx, name, defaulted); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{
		"buckets": s.Buckets, "backupBucket": s.BackupBucket, "region": s.Region, "roleArn": s.RoleARN,
		"backupRoleArn": s.BackupRoleARN, "kmsKeyArn": s.KMSKeyARN,
	}); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *S3) build(ctx *pulumi.Context, name string, args S3Args) error {
	// One suffix for the stack's buckets, made once and kept in the state: names never change on update.
	suffix, err := random.NewRandomId(ctx, name+"-suffix", &random.RandomIdArgs{
		ByteLength: pulumi.Int(objectstore.SuffixBytes),
	}, pulumi.Parent(s))
	if err != nil {
		return err
	}
	// The buckets' data is only as lasting as their key: it is guarded like them.
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.Sprintf("GitLab object storage and backups of %s", args.NamePrefix),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30), // the longest KMS allows: time to notice a mistaken deletion
		Tags:                 awstags.For(componentTag, name, args.Tags),
	}, pulumi.Parent(s), pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect))
	if err != nil {
		return err
	}
	set := bucketSettings{
		prefix: args.NamePrefix, suffix: suffix.Hex, keyARN: key.Arn, noncurrentDays: args.NoncurrentVersionDays,
		forceDestroy: args.ForceDestroy, protect: args.Protect, tags: args.Tags,
	}

	names := pulumi.StringMap{}
	var objectARNs pulumi.StringArray
	for _, t := range objectstore.Types {
		bucket, err := s.newBucket(ctx, name, bucketSpec{
			kind: objectstore.Kind(t.Name), versioned: t.Versioned, temporaryUploads: true,
		}, set)
		if err != nil {
			return err
		}
		names[t.Name] = bucket.Bucket
		objectARNs = append(objectARNs, bucket.Arn)
	}
	backup, err := s.newBucket(ctx, name, bucketSpec{
		kind: objectstore.BackupKind, versioned: true, expireDays: args.BackupRetentionDays,
	}, set)
	if err != nil {
		return err
	}

	gitlab, err := s.newWorkloadRole(ctx, name+"-gitlab", args, args.ServiceAccount, objectARNs, gitlabObjectActions, key.Arn)
	if err != nil {
		return err
	}
	backupRole, err := s.newWorkloadRole(ctx, name+"-backup", args, args.BackupServiceAccount,
		pulumi.StringArray{backup.Arn}, backupObjectActions, key.Arn)
	if err != nil {
		return err
	}

	s.Buckets = names.ToStringMapOutput()
	s.BackupBucket = backup.Bucket
	s.Region = key.Arn.ApplyT(regionOf).(pulumi.StringOutput)
	s.RoleARN = gitlab.Arn
	s.BackupRoleARN = backupRole.Arn
	s.KMSKeyARN = key.Arn
	return nil
}
