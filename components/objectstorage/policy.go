package objectstorage

import (
	"encoding/json"
	"fmt"
	"strings"
)

// stsAudience is the audience the EKS pod identity webhook requests service account tokens for, by default
// (amazon-eks-pod-identity-webhook, main.go: --token-audience).
const stsAudience = "sts.amazonaws.com"

// What each identity may do, and why nothing more.
var (
	// bucketActions: without s3:ListBucket S3 answers a missing key with 403, not 404, and GitLab tells the two
	// apart when it checks whether a file exists; GitLab's own instance-profile example grants it
	// (doc/administration/object_storage.md), and a restore finds its archive by listing.
	bucketActions = []string{"s3:ListBucket"}
	// gitlabObjectActions: read, write and delete objects, the set GitLab's instance-profile example grants,
	// and abort a multipart upload that failed, which Workhorse's S3 uploader does rather than leave parts.
	gitlabObjectActions = []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
	// backupObjectActions: upload an archive (in parts above backup_multipart_chunk_size) and read it back for a
	// restore. No delete: GitLab never prunes uploaded backups, S3's lifecycle does, so a compromised pod cannot
	// destroy them.
	backupObjectActions = []string{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}
	// keyActions: S3 asks KMS for a data key to encrypt a new object (and its parts) and to decrypt one it
	// reads; only on S3's behalf (kms:ViaService), never directly.
	keyActions = []string{"kms:GenerateDataKey", "kms:Decrypt"}
)

type statement map[string]any

func document(statements ...statement) (string, error) {
	body, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(body), err
}

// providerMatchesIssuer checks that an OIDC provider's ARN names the issuer: IAM names a provider after the
// issuer's host and path.
func providerMatchesIssuer(providerARN, issuer string) error {
	if !strings.HasSuffix(providerARN, ":oidc-provider/"+issuerHost(issuer)) {
		return fmt.Errorf("is not the IAM OIDC provider of issuer %s", issuer)
	}
	return nil
}

// trustPolicy lets exactly one service account of one namespace assume a role, with a token the cluster's
// issuer signed for STS: the subject and the audience must both match, not merely look alike.
func trustPolicy(providerARN, issuer, namespace, serviceAccount string) (string, error) {
	if err := providerMatchesIssuer(providerARN, issuer); err != nil {
		return "", fmt.Errorf("oidcProviderArn %q %w", providerARN, err)
	}
	host := issuerHost(issuer)
	return document(statement{
		"Sid":       "ServiceAccountOnly",
		"Effect":    "Allow",
		"Principal": map[string]any{"Federated": providerARN},
		"Action":    "sts:AssumeRoleWithWebIdentity",
		"Condition": map[string]any{"StringEquals": map[string]string{
			host + ":sub": "system:serviceaccount:" + namespace + ":" + serviceAccount,
			host + ":aud": stsAudience,
		}},
	})
}

// accessPolicy grants objectActions on the objects of exactly these buckets, listing them, and the use of
// their key through S3 in the key's region.
func accessPolicy(bucketARNs []string, objectActions []string, keyARN string) (string, error) {
	viaS3, err := s3ServiceOf(keyARN)
	if err != nil {
		return "", err
	}
	objects := make([]string, len(bucketARNs))
	for i, arn := range bucketARNs {
		objects[i] = arn + "/*"
	}
	return document(
		statement{"Sid": "ListTheBuckets", "Effect": "Allow", "Action": bucketActions, "Resource": bucketARNs},
		statement{"Sid": "UseTheObjects", "Effect": "Allow", "Action": objectActions, "Resource": objects},
		statement{"Sid": "UseTheKeyThroughS3", "Effect": "Allow", "Action": keyActions, "Resource": keyARN,
			"Condition": map[string]any{"StringEquals": map[string]string{"kms:ViaService": viaS3}}},
	)
}

// bucketPolicy denies every request to the bucket that is not made over TLS 1.2 or later, whoever makes it:
// IAM grants can only add to what this allows.
func bucketPolicy(bucketARN string) (string, error) {
	resources := []string{bucketARN, bucketARN + "/*"}
	return document(
		statement{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": resources,
			"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}}},
		statement{"Sid": "DenyOutdatedTLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": resources,
			"Condition": map[string]any{"NumericLessThan": map[string]float64{"s3:TlsVersion": 1.2}}},
	)
}

// arnParts splits "arn:partition:service:region:account:resource".
func arnParts(arn string) ([]string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return nil, fmt.Errorf("%q is not an ARN", arn)
	}
	return parts, nil
}

// regionOf is the region of a regional ARN, such as a KMS key's.
func regionOf(arn string) (string, error) {
	parts, err := arnParts(arn)
	if err != nil {
		return "", err
	}
	if parts[3] == "" {
		return "", fmt.Errorf("ARN %q names no region", arn)
	}
	return parts[3], nil
}

// s3ServiceOf is the kms:ViaService value of S3 in the key's region and partition.
func s3ServiceOf(keyARN string) (string, error) {
	parts, err := arnParts(keyARN)
	if err != nil {
		return "", err
	}
	region, err := regionOf(keyARN)
	if err != nil {
		return "", err
	}
	suffix := "amazonaws.com"
	if parts[1] == "aws-cn" {
		suffix = "amazonaws.com.cn"
	}
	return "s3." + region + "." + suffix, nil
}
