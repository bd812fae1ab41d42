package gitlab

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// omnibusConfigKey is both the ConfigMap key and the environment variable the Omnibus image reads.
	omnibusConfigKey = "GITLAB_OMNIBUS_CONFIG"
	// envMigrations is set in the migration Jobs' containers: the configuration then runs Rails' database
	// tasks and no service; everywhere else, nothing migrates.
	envMigrations = "GITLAB_HA_MIGRATIONS"
	// tlsDir is where the TLS Secret is mounted.
	tlsDir = "/etc/gitlab/ssl"
	// previousConfigDir is where the volume's "config" directory is mounted, read-only: the /etc/gitlab an
	// earlier version of the component shared between replicas, or an empty directory on a newer install.
	previousConfigDir = "/etc/gitlab-previous"
)

// omnibusSettings are the values of the Omnibus configuration, resolved.
type omnibusSettings struct {
	ExternalURL string
	ServeTLS    bool // NGINX in the pod serves HTTPS with the mounted certificate
	DBHost      string
	DBPort      int
	DBName      string
	DBSSLMode   string
	RedisHost   string
	RedisPort   int
	RedisAuth   bool
	RedisTLS    bool
	Sizing      sizing
	// ObjectStorage is the consolidated object storage; nil keeps objects on the shared volume.
	ObjectStorage *objectStorageSettings
	// Backup configures the backup pod; nil when there is no scheduled backup.
	Backup *backupSettings
	// Traffic is the load balancer in front: trusted proxies, PROXY protocol, the HTTP redirect.
	Traffic trafficSettings
	// Metrics are the exporters the pod runs.
	Metrics metricsSettings
	// GitStorage are the repository storages outside the pods; nil keeps Omnibus's own, on the zone's volume.
	GitStorage *gitStorageSettings
	Extra      string // appended verbatim
}

// rubyString quotes s as a single-quoted Ruby string literal.
func rubyString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// rubyStrings quotes each of items as a Ruby string, separated by commas, for a list or an argument list.
func rubyStrings(items []string) string {
	quoted := make([]string, len(items))
	for i, item := range items {
		quoted[i] = rubyString(item)
	}
	return strings.Join(quoted, ", ")
}

// previousKeys are the secrets an installation made before the component generated them kept only in the
// gitlab-secrets.json its first replica wrote to the shared /etc/gitlab: keys that encrypt database columns
// and sign tokens. Where that file is still on the volume, its values win, so that nothing they protect
// becomes unreadable on upgrade. The others it holds were either the component's already (the key bases) or
// authenticate processes inside one pod, and are replaced without loss.
var previousKeys = []string{
	"active_record_encryption_primary_key", "active_record_encryption_deterministic_key",
	"active_record_encryption_key_derivation_salt", "openid_connect_signing_key",
}

// renderOmnibusConfig writes gitlab.rb for one zone replica. It holds no secret: every secret is read from
// the environment, which the pod fills from the Secret.
func renderOmnibusConfig(s omnibusSettings) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	line("external_url %s", rubyString(s.ExternalURL))
	line("letsencrypt['enable'] = false")
	if strings.HasPrefix(s.ExternalURL, "https://") {
		if s.ServeTLS {
			line("nginx['ssl_certificate'] = %s", rubyString(tlsDir+"/tls.crt"))
			line("nginx['ssl_certificate_key'] = %s", rubyString(tlsDir+"/tls.key"))
			line("nginx['redirect_http_to_https'] = true")
		} else {
			// TLS ends at the load balancer: NGINX serves plain HTTP behind it.
			line("nginx['listen_port'] = 80")
			line("nginx['listen_https'] = false")
		}
	}
	line("gitlab_rails['gitlab_shell_ssh_port'] = 22")
	renderTraffic(line, s.Traffic, s.ExternalURL)

	line("postgresql['enable'] = false")
	line("gitlab_rails['db_adapter'] = 'postgresql'")
	line("gitlab_rails['db_encoding'] = 'unicode'")
	line("gitlab_rails['db_host'] = %s", rubyString(s.DBHost))
	line("gitlab_rails['db_port'] = %d", s.DBPort)
	line("gitlab_rails['db_database'] = %s", rubyString(s.DBName))
	line("gitlab_rails['db_username'] = ENV.fetch(%s)", rubyString(envDBUser))
	line("gitlab_rails['db_password'] = ENV.fetch(%s)", rubyString(envDBPassword))
	line("gitlab_rails['db_sslmode'] = %s", rubyString(s.DBSSLMode))

	line("redis['enable'] = false")
	line("gitlab_rails['redis_host'] = %s", rubyString(s.RedisHost))
	line("gitlab_rails['redis_port'] = %d", s.RedisPort)
	if s.RedisAuth {
		line("gitlab_rails['redis_password'] = ENV.fetch(%s)", rubyString(envRedisPassword))
	}
	line("gitlab_rails['redis_ssl'] = %t", s.RedisTLS)
	if s.ObjectStorage != nil {
		renderObjectStorage(line, s.ObjectStorage)
	}
	if s.GitStorage != nil {
		renderGitStorage(line, s.GitStorage)
	}

	renderSecrets(line)
	renderSizing(line, s.Sizing)
	line("# KAS (the agent for Kubernetes) stays off: each replica's KAS would register a private API on localhost")
	line("# that no other replica can reach, so agents connected to one zone could not be routed from another.")
	line("gitlab_kas['enable'] = false")
	renderMetrics(line, s.Metrics)
	renderMigrationSwitch(line)
	if s.Backup != nil {
		renderBackupSwitch(line, s.Backup)
	}
	if s.Extra != "" {
		line("# ExtraConfig")
		line("%s", strings.TrimRight(s.Extra, "\n"))
	}
	return b.String()
}

// renderSecrets sets every secret Omnibus would generate from the environment, and turns its generation and
// gitlab-secrets.json off: every replica gets the same values, and no replica writes a file another reads.
func renderSecrets(line func(string, ...any)) {
	line("package['generate_default_secrets'] = false")
	line("package['generate_secrets_json_file'] = false")
	for _, key := range keyBases {
		line("gitlab_rails[%s] = ENV.fetch(%s)", rubyString(key.setting), rubyString(key.env))
	}
	for _, s := range omnibusSecrets {
		value := fmt.Sprintf("ENV.fetch(%s)", rubyString(s.env))
		if s.form == asArray {
			value = "[" + value + "]"
		}
		for _, setting := range s.settings {
			line("%s = %s", setting, value)
		}
	}
	// Only the regular migration Job, which seeds an empty database, has the root password (gitlab_rails.rb
	// transform_secrets reads the same variable): every other pod starts without it, nil.
	line("gitlab_rails['initial_root_password'] = ENV[%s]", rubyString(envRootPassword))

	// A pod of the earlier version that restarts during the upgrade reads this configuration with its own
	// spec, where the shared directory is still /etc/gitlab; the new pods never write a file there.
	line("previous_secrets_file = [%s, %s].find { |file| File.exist?(file) }",
		rubyString(previousConfigDir+"/gitlab-secrets.json"), rubyString("/etc/gitlab/gitlab-secrets.json"))
	line("if previous_secrets_file")
	line("  require 'json'")
	line("  begin")
	line("    previous_rails_secrets = JSON.parse(File.read(previous_secrets_file)).fetch('gitlab_rails', {})")
	line("  rescue JSON::ParserError => e")
	line("    raise \"#{previous_secrets_file} is not JSON (#{e.message}): a replica of the earlier version may be rewriting it; the next start retries\"")
	line("  end")
	line("  [%s].each do |key|", rubyStrings(previousKeys))
	line("    gitlab_rails[key] = previous_rails_secrets[key] unless previous_rails_secrets[key].nil?")
	line("  end")
	line("end")
}

// renderSizing sets Puma's workers and Sidekiq's threads from the pod's resources (see sizing.go).
func renderSizing(line func(string, ...any), s sizing) {
	line("puma['worker_processes'] = %d", s.PumaWorkers)
	line("puma['per_worker_max_memory_mb'] = %d", s.PumaWorkerMaxMiB)
	line("sidekiq['concurrency'] = %d", s.SidekiqConcurrency)
}

// servingServices are what a zone's replica runs and a Job's pod (migrations, backup) turns off: the web
// and background services, their exporter, and the log rotation.
var servingServices = []string{"puma", "sidekiq", "gitlab_workhorse", "nginx", "logrotate", "gitlab_exporter"}

// renderMigrationSwitch makes the migration Jobs' reconfigure run Rails' database migrations and start no
// service, and keeps the zones' replicas from migrating at all.
func renderMigrationSwitch(line func(string, ...any)) {
	line("if ENV[%s] == 'true'", rubyString(envMigrations))
	line("  gitlab_rails['auto_migrate'] = true")
	// Gitaly stays: Omnibus starts it before migrating ("Gitaly and/or Praefect must be available before
	// migrations", gitlab/recipes/default.rb), and the Job mounts the repositories it serves.
	for _, service := range servingServices {
		line("  %s['enable'] = false", service)
	}
	line("else")
	line("  gitlab_rails['auto_migrate'] = false")
	line("end")
}

// configInputs are the possibly-unknown values the configuration is built from.
type configInputs struct {
	externalURL pulumi.StringInput
	serveTLS    bool
	extra       string
	database    Database
	redis       redisEndpoint
	sizing      sizing
	traffic     trafficSettings
	metrics     metricsSettings
	// objectStorage and backup are the caller's, possibly nil.
	objectStorage *ObjectStorage
	backup        *Backup
	gitStorage    GitStorage
	// secret holds every variable the configuration reads with ENV.fetch. The ConfigMap waits for it, so that
	// on an update a pod that restarts between the two never reads a configuration naming a key not there yet.
	secret *corev1.Secret
}

// newConfigMap renders the Omnibus configuration into a ConfigMap and returns it with a checksum of its
// content, which the Deployments carry as an annotation so that a change of configuration rolls them.
func newConfigMap(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	in configInputs) (*corev1.ConfigMap, pulumi.StringOutput, error) {
	// The base values first, in a fixed order; then those of object storage and the backup, where set, each
	// from the index recorded here.
	values := []any{in.externalURL, in.database.Host, in.database.Port, in.database.Name, in.redis.host, in.redis.port}
	objectsAt := len(values)
	if in.objectStorage != nil {
		values = append(values, objectStorageInputs(in.objectStorage)...)
	}
	backupAt := len(values)
	if in.backup != nil {
		values = append(values, backupInputs(in.backup)...)
	}
	gitStorageAt := len(values)
	values = append(values, gitStorageInputs(in.gitStorage)...)
	rendered := pulumi.All(values...).ApplyT(func(v []any) string {
		settings := omnibusSettings{
			ExternalURL: strings.TrimSuffix(v[0].(string), "/"),
			ServeTLS:    in.serveTLS,
			DBHost:      v[1].(string), DBPort: v[2].(int), DBName: v[3].(string), DBSSLMode: in.database.SSLMode,
			RedisHost: v[4].(string), RedisPort: v[5].(int), RedisAuth: in.redis.password != nil,
			RedisTLS: in.redis.tls, Sizing: in.sizing, Traffic: in.traffic, Metrics: in.metrics, Extra: in.extra,
		}
		if in.objectStorage != nil {
			settings.ObjectStorage = resolveObjectStorage(in.objectStorage, v[objectsAt:backupAt])
		}
		if in.backup != nil {
			settings.Backup = resolveBackup(in.backup, v[backupAt:gitStorageAt])
		}
		settings.GitStorage = resolveGitStorage(in.gitStorage, v[gitStorageAt:])
		return renderOmnibusConfig(settings)
	}).(pulumi.StringOutput)

	configMap, err := corev1.NewConfigMap(ctx, name+"-config", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(name + "-config"),
			Namespace: namespace,
			Labels:    toStringMap(standardLabels(name, ConfigComponent)),
		},
		Data: pulumi.StringMap{omnibusConfigKey: rendered},
	}, pulumi.Parent(parent), pulumi.DependsOn([]pulumi.Resource{in.secret}))
	if err != nil {
		return nil, pulumi.StringOutput{}, err
	}
	checksum := rendered.ApplyT(func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}).(pulumi.StringOutput)
	return configMap, checksum, nil
}

// externalHost returns the host part of an external URL, for outputs such as the SSH endpoint.
func externalHost(externalURL pulumi.StringInput) pulumi.StringOutput {
	return externalURL.ToStringOutput().ApplyT(func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			return ""
		}
		return u.Hostname()
	}).(pulumi.StringOutput)
}
