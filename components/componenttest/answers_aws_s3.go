package componenttest

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// awsS3Answers play S3: a bucket and the settings the AWS provider keeps as separate resources.
func awsS3Answers() map[string]Answer {
	answers := map[string]Answer{"aws:s3/bucketV2:BucketV2": awsS3Bucket}
	for token := range s3BucketSettingTypes {
		answers[token] = awsS3BucketSetting
	}
	return answers
}

// s3BucketSettingTypes are a bucket's settings as separate resources; none takes tags.
var s3BucketSettingTypes = map[string]bool{
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     true,
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     true,
	"aws:s3/bucketPolicy:BucketPolicy":                                                           true,
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               true,
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       true,
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": true,
}

// awsS3Bucket answers like S3: the ID is the bucket's name, the ARN has neither region nor account (bucket
// names are global), the domain names are the virtual-hosted ones.
func awsS3Bucket(req Request) (string, resource.PropertyMap, error) {
	name := req.nameOr("bucket")
	region := req.region()
	outputs := req.Inputs.Copy()
	outputs["bucket"] = resource.NewStringProperty(name)
	outputs["arn"] = resource.NewStringProperty("arn:aws:s3:::" + name)
	outputs["region"] = resource.NewStringProperty(region)
	outputs["bucketDomainName"] = resource.NewStringProperty(name + ".s3.amazonaws.com")
	outputs["bucketRegionalDomainName"] = resource.NewStringProperty(fmt.Sprintf("%s.s3.%s.amazonaws.com", name, region))
	return name, outputs, nil
}

// awsS3BucketSetting answers a bucket's separate setting, whose ID is the bucket's name.
func awsS3BucketSetting(req Request) (string, resource.PropertyMap, error) {
	return req.input("bucket"), req.Inputs.Copy(), nil
}
