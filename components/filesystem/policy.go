package filesystem

import "encoding/json"

// accessPolicy is the file system's resource policy. NFS clients without IAM credentials are anonymous to
// EFS, so the policy grants mounting, writing and root access to any principal, but only through a mount
// target (never through another account's VPC or an access point it made); and, unless non-TLS clients are
// allowed by name, it denies every request that is not encrypted in transit.
func accessPolicy(fileSystemARN string, allowNonTLS bool) (string, error) {
	statements := []map[string]any{{
		"Sid":       "MountThroughMountTargetsOnly",
		"Effect":    "Allow",
		"Principal": map[string]any{"AWS": "*"},
		"Action":    []string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"},
		"Resource":  fileSystemARN,
		"Condition": map[string]any{"Bool": map[string]any{"elasticfilesystem:AccessedViaMountTarget": "true"}},
	}}
	if !allowNonTLS {
		statements = append(statements, map[string]any{
			"Sid":       "DenyUnencryptedTransport",
			"Effect":    "Deny",
			"Principal": map[string]any{"AWS": "*"},
			"Action":    "*",
			"Resource":  fileSystemARN,
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		})
	}
	body, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(body), err
}
