package objectstorage

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
	"github.com/gitlab-ha/gitlab-ha/internal/objectstore"
)

// abortIncompleteUploadDays ends multipart uploads nobody finished: a week is far beyond GitLab's four-hour
// direct upload timeout and any backup upload, and the parts of an abandoned one cost like objects.
const abortIncompleteUploadDays = 7

// temporaryUploadDays is how long a staged upload GitLab copied and deleted stays as a non-current version.
const temporaryUploadDays = 1

// bucketSpec is what sets one bucket apart from the others.
type bucketSpec struct {
	kind             string // in the bucket's name and its resources' names: "artifacts", "backups"
	versioned        bool   // keeps overwritten and deleted objects as non-current versions
	temporaryUploads bool   // GitLab stages uploads under objectstore.TemporaryUploadsPrefix here
	expireDays       int    // current objects expire after this many days; 0: never
}

// bucketSettings are what every bucket of the component shares.
type bucketSettings struct {
	prefix         string
	suffix         pulumi.StringInput
	keyARN         pulumi.StringInput
	noncurrentDays int
	forceDestroy   bool
	protect        bool
	tags           map[string]string
}

// newBucket makes a bucket and what keeps it safe: ACLs off, public access blocked, encryption with the
// stack's key, TLS-only access, versioning where asked, and lifecycle rules. With protect, the settings are
// retained along with the bucket, so that a bucket left behind is never left open.
func (s *S3) newBucket(ctx *pulumi.Context, name string, spec bucketSpec, set bucketSettings) (*s3.BucketV2, error) {
	resourceName := name + "-" + spec.kind
	bucket, err := s3.NewBucketV2(ctx, resourceName, &s3.BucketV2Args{
		Bucket: set.suffix.ToStringOutput().ApplyT(func(suffix string) string {
			return objectstore.BucketName(set.prefix, spec.kind, suffix)
		}).(pulumi.StringOutput),
		ForceDestroy: pulumi.Bool(set.forceDestroy),
		Tags:         awstags.For(componentTag, resourceName, set.tags),
	}, pulumi.Parent(s), pulumi.Protect(set.protect), pulumi.RetainOnDelete(set.protect))
	if err != nil {
		return nil, err
	}
	settingOpts := func(extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
		return append([]pulumi.ResourceOption{pulumi.Parent(s), pulumi.RetainOnDelete(set.protect)}, extra...)
	}

	// S3 refuses concurrent changes to one bucket's access settings (OperationAborted, hashicorp/terraform-
	// provider-aws#7628): ownership, then the public access block, then the policy, one after the other.
	ownership, err := s3.NewBucketOwnershipControls(ctx, resourceName, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, settingOpts()...)
	if err != nil {
		return nil, err
	}
	publicAccess, err := s3.NewBucketPublicAccessBlock(ctx, resourceName, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, settingOpts(pulumi.DependsOn([]pulumi.Resource{ownership}))...)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketPolicy(ctx, resourceName, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: bucket.Arn.ApplyT(bucketPolicy).(pulumi.StringOutput),
	}, settingOpts(pulumi.DependsOn([]pulumi.Resource{publicAccess}))...); err != nil {
		return nil, err
	}

	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, resourceName, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm:   pulumi.String("aws:kms"),
				KmsMasterKeyId: set.keyARN,
			},
			// A bucket key lets S3 ask KMS for a data key per bucket and period, not per object.
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, settingOpts()...); err != nil {
		return nil, err
	}

	var lifecycleOpts []pulumi.ResourceOption
	if spec.versioned {
		versioning, err := s3.NewBucketVersioningV2(ctx, resourceName, &s3.BucketVersioningV2Args{
			Bucket:                  bucket.ID(),
			VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
		}, settingOpts()...)
		if err != nil {
			return nil, err
		}
		// Rules about non-current versions need versioning on first.
		lifecycleOpts = append(lifecycleOpts, pulumi.DependsOn([]pulumi.Resource{versioning}))
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, resourceName, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  lifecycleRules(spec, set.noncurrentDays),
	}, settingOpts(lifecycleOpts...)...); err != nil {
		return nil, err
	}
	return bucket, nil
}

// lifecycleRules end unfinished uploads everywhere; in a versioned bucket, remove non-current versions after
// noncurrentDays (staged uploads after a day) and the delete markers left alone; and expire current objects
// where the bucket keeps them only for a while.
func lifecycleRules(spec bucketSpec, noncurrentDays int) s3.BucketLifecycleConfigurationV2RuleArray {
	everything := &s3.BucketLifecycleConfigurationV2RuleFilterArgs{}
	rules := s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:     pulumi.String("abort-incomplete-multipart-uploads"),
		Status: pulumi.String("Enabled"),
		Filter: everything,
		AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
			DaysAfterInitiation: pulumi.Int(abortIncompleteUploadDays),
		},
	}}
	if spec.versioned {
		rules = append(rules, &s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String("expire-noncurrent-versions"),
			Status: pulumi.String("Enabled"),
			Filter: everything,
			NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
				NoncurrentDays: pulumi.Int(noncurrentDays),
			},
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)},
		})
		if spec.temporaryUploads {
			rules = append(rules, &s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:     pulumi.String("expire-noncurrent-temporary-uploads"),
				Status: pulumi.String("Enabled"),
				Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(objectstore.TemporaryUploadsPrefix)},
				NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
					NoncurrentDays: pulumi.Int(temporaryUploadDays),
				},
			})
		}
	}
	if spec.expireDays > 0 {
		rules = append(rules, &s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:         pulumi.String("expire-current-objects"),
			Status:     pulumi.String("Enabled"),
			Filter:     everything,
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(spec.expireDays)},
		})
	}
	return rules
}
