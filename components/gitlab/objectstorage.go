package gitlab

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// GitLab's consolidated object storage (gitlab.rb's gitlab_rails['object_store']): one connection for every
// object type, a bucket each. Rails uploads through fog-aws, Workhorse through the AWS SDK for Go; both take
// either a static key or, with use_iam_profile, the SDKs' default credential chain, which includes the web
// identity token a cluster's workload identity projects into the pod.

// Environment variables that carry object storage keys into the containers; gitlab.rb reads them with
// ENV.fetch, so the ConfigMap names them and holds none.
const (
	envObjectStoreAccessKeyID     = "GITLAB_OBJECT_STORE_ACCESS_KEY_ID"
	envObjectStoreSecretAccessKey = "GITLAB_OBJECT_STORE_SECRET_ACCESS_KEY"
	envBackupAccessKeyID          = "GITLAB_BACKUP_ACCESS_KEY_ID"
	envBackupSecretAccessKey      = "GITLAB_BACKUP_SECRET_ACCESS_KEY"
)

// workloadIdentityEnv are the variables through which a cluster's workload identity reaches the AWS SDKs:
// those EKS's pod identity webhook injects for IAM roles for service accounts (amazon-eks-pod-identity-webhook,
// pkg/handler/handler.go), and those of EKS Pod Identity. The image starts its services under
// `env - PATH=$PATH runsvdir` (omnibus-gitlab 18.11.11, config/templates/runit/runsvdir-start.erb:41), which
// wipes the container's environment, so gitlab.rb hands them on to Rails and Workhorse by name.
var workloadIdentityEnv = []string{
	"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_STS_REGIONAL_ENDPOINTS", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
}

// objectStoreConnection is a connection, resolved.
type objectStoreConnection struct {
	Region    string
	Endpoint  string // "" for Amazon S3
	PathStyle bool
	// KeyEnv names the variables holding the key, [access key ID, secret]; empty with workload identity.
	KeyEnv [2]string
}

// objectStorageSettings is ObjectStorage, resolved.
type objectStorageSettings struct {
	Connection objectStoreConnection
	Buckets    map[string]string // object type → bucket
}

// usesKey says whether a connection authenticates with a static key rather than workload identity.
func (c ObjectStoreConnection) usesKey() bool { return c.AccessKeyID != nil }

// resolve turns a connection into its rendered form once its outputs are known; keyEnv names the variables
// its key, if any, is read from.
func (c ObjectStoreConnection) resolve(region, endpoint string, keyEnv [2]string) objectStoreConnection {
	resolved := objectStoreConnection{Region: region, Endpoint: endpoint, PathStyle: c.PathStyle}
	if c.usesKey() {
		resolved.KeyEnv = keyEnv
	}
	return resolved
}

// objectStoreKey is the Secret's share of object storage: the static key, by the variables gitlab.rb reads;
// nil with workload identity or without object storage.
func objectStoreKey(o *ObjectStorage) pulumi.StringMap {
	if o == nil || !o.Connection.usesKey() {
		return nil
	}
	return pulumi.StringMap{
		envObjectStoreAccessKeyID:     o.Connection.AccessKeyID,
		envObjectStoreSecretAccessKey: o.Connection.SecretAccessKey,
	}
}

// endpointOrEmpty lets a connection without an endpoint take part in pulumi.All.
func (c ObjectStoreConnection) endpointOrEmpty() pulumi.StringInput {
	if c.Endpoint == nil {
		return pulumi.String("")
	}
	return c.Endpoint
}

// renderConnection writes a fog connection hash, as gitlab.rb's object_store and backup_upload_connection take
// it (doc/administration/object_storage.md, "Connection settings").
func renderConnection(line func(string, ...any), indent string, c objectStoreConnection) {
	line("%s'provider' => 'AWS',", indent)
	line("%s'region' => %s,", indent, rubyString(c.Region))
	if c.Endpoint != "" {
		line("%s'endpoint' => %s,", indent, rubyString(c.Endpoint))
	}
	line("%s'path_style' => %t,", indent, c.PathStyle)
	if c.KeyEnv[0] == "" {
		// fog-aws and the Go SDK then take credentials from the environment's web identity.
		line("%s'use_iam_profile' => true,", indent)
		return
	}
	line("%s'aws_access_key_id' => ENV.fetch(%s),", indent, rubyString(c.KeyEnv[0]))
	line("%s'aws_secret_access_key' => ENV.fetch(%s),", indent, rubyString(c.KeyEnv[1]))
}

// renderObjectStorage writes the consolidated object storage: every type GitLab has, each in its bucket.
// Downloads are not proxied: clients fetch objects from presigned URLs, GitLab's default, so large artifacts
// never pass through Puma.
func renderObjectStorage(line func(string, ...any), s *objectStorageSettings) {
	line("gitlab_rails['object_store']['enabled'] = true")
	line("gitlab_rails['object_store']['proxy_download'] = false")
	line("gitlab_rails['object_store']['connection'] = {")
	renderConnection(line, "  ", s.Connection)
	line("}")
	for _, objectType := range ObjectTypes() {
		line("gitlab_rails['object_store']['objects'][%s]['bucket'] = %s", rubyString(objectType), rubyString(s.Buckets[objectType]))
	}
	// The external_diffs bucket is used, not only named: merge request diffs leave the database for it once
	// outdated (the merge request closed, or a newer version pushed), while current diffs stay in the
	// database, where GitLab says they are read fastest (doc/administration/merge_request_diffs.md, "Alternative
	// in-database storage"; GitLab Environment Toolkit sets the same). Turning it on in a running stack moves
	// existing outdated diffs to the bucket in the background (the schedule_migrate_external_diffs cron, 1000
	// at a time), which GitLab cannot reverse.
	line("gitlab_rails['external_diffs_enabled'] = true")
	line("gitlab_rails['external_diffs_when'] = 'outdated'")
	if s.Connection.KeyEnv[0] == "" {
		renderWorkloadIdentityEnv(line)
	}
}

// renderWorkloadIdentityEnv hands the workload identity's variables, where the pod has them, on to Rails
// (Puma, Sidekiq, rake) and Workhorse, whose env directories Omnibus adds to its defaults.
func renderWorkloadIdentityEnv(line func(string, ...any)) {
	line("workload_identity_env = ENV.to_h.slice(%s)", rubyStrings(workloadIdentityEnv))
	line("gitlab_rails['env'] = workload_identity_env")
	line("gitlab_workhorse['env'] = workload_identity_env")
}

// objectStorageInputs gathers what the rendered configuration needs from ObjectStorage, in a fixed order:
// region, endpoint, then each object type's bucket.
func objectStorageInputs(o *ObjectStorage) []any {
	inputs := []any{o.Connection.Region, o.Connection.endpointOrEmpty()}
	for _, objectType := range ObjectTypes() {
		inputs = append(inputs, o.Buckets[objectType])
	}
	return inputs
}

// resolveObjectStorage is the inverse of objectStorageInputs, once the values are known.
func resolveObjectStorage(o *ObjectStorage, values []any) *objectStorageSettings {
	settings := &objectStorageSettings{
		Connection: o.Connection.resolve(values[0].(string), values[1].(string),
			[2]string{envObjectStoreAccessKeyID, envObjectStoreSecretAccessKey}),
		Buckets: map[string]string{},
	}
	for i, objectType := range ObjectTypes() {
		settings.Buckets[objectType] = values[2+i].(string)
	}
	return settings
}
