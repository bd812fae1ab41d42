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
	// envAutoMigrate tells one zone's pods to run database migrations; see zoneDeployment.
	envAutoMigrate = "GITLAB_AUTO_MIGRATE"
	// tlsDir is where the TLS Secret is mounted.
	tlsDir = "/etc/gitlab/ssl"
)

// omnibusSettings are the values of the Omnibus configuration, resolved.
type omnibusSettings struct {
	ExternalURL string
	ServeTLS    bool // NGINX in the pod serves HTTPS with the mounted certificate
	DBHost      string
	DBPort      int
	DBName      string
	DBUser      string
	DBSSLMode   string
	RedisHost   string
	RedisPort   int
	RedisAuth   bool
	RedisTLS    bool
	Extra       string // appended verbatim
}

// rubyString quotes s as a single-quoted Ruby string literal.
func rubyString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
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

	line("postgresql['enable'] = false")
	line("gitlab_rails['db_adapter'] = 'postgresql'")
	line("gitlab_rails['db_encoding'] = 'unicode'")
	line("gitlab_rails['db_host'] = %s", rubyString(s.DBHost))
	line("gitlab_rails['db_port'] = %d", s.DBPort)
	line("gitlab_rails['db_database'] = %s", rubyString(s.DBName))
	line("gitlab_rails['db_username'] = %s", rubyString(s.DBUser))
	line("gitlab_rails['db_password'] = ENV.fetch(%s)", rubyString(envDBPassword))
	line("gitlab_rails['db_sslmode'] = %s", rubyString(s.DBSSLMode))
	line("gitlab_rails['auto_migrate'] = ENV[%s] == 'true'", rubyString(envAutoMigrate))

	line("redis['enable'] = false")
	line("gitlab_rails['redis_host'] = %s", rubyString(s.RedisHost))
	line("gitlab_rails['redis_port'] = %d", s.RedisPort)
	if s.RedisAuth {
		line("gitlab_rails['redis_password'] = ENV.fetch(%s)", rubyString(envRedisPassword))
	}
	line("gitlab_rails['redis_ssl'] = %t", s.RedisTLS)

	for _, key := range keyBases {
		line("gitlab_rails[%s] = ENV.fetch(%s)", rubyString(key.setting), rubyString(key.env))
	}
	line("gitlab_rails['initial_root_password'] = ENV.fetch(%s)", rubyString(envRootPassword))
	// Each replica's Prometheus stack would cost memory and scrape only itself.
	line("prometheus_monitoring['enable'] = false")
	if s.Extra != "" {
		line("# ExtraConfig")
		line("%s", strings.TrimRight(s.Extra, "\n"))
	}
	return b.String()
}

// configInputs are the possibly-unknown values the configuration is built from.
type configInputs struct {
	externalURL pulumi.StringInput
	serveTLS    bool
	extra       string
	database    Database
	redis       redisEndpoint
}

// newConfigMap renders the Omnibus configuration into a ConfigMap and returns it with a checksum of its
// content, which the Deployments carry as an annotation so that a change of configuration rolls them.
func newConfigMap(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	in configInputs) (*corev1.ConfigMap, pulumi.StringOutput, error) {
	rendered := pulumi.All(in.externalURL, in.database.Host, in.database.Port, in.database.Name,
		in.database.User, in.redis.host, in.redis.port).ApplyT(func(v []any) string {
		return renderOmnibusConfig(omnibusSettings{
			ExternalURL: strings.TrimSuffix(v[0].(string), "/"),
			ServeTLS:    in.serveTLS,
			DBHost:      v[1].(string), DBPort: v[2].(int), DBName: v[3].(string), DBUser: v[4].(string),
			DBSSLMode: in.database.SSLMode,
			RedisHost: v[5].(string), RedisPort: v[6].(int), RedisAuth: in.redis.password != nil,
			RedisTLS: in.redis.tls, Extra: in.extra,
		})
	}).(pulumi.StringOutput)

	configMap, err := corev1.NewConfigMap(ctx, name+"-config", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(name + "-config"),
			Namespace: namespace,
			Labels:    toStringMap(standardLabels(name, ConfigComponent)),
		},
		Data: pulumi.StringMap{omnibusConfigKey: rendered},
	}, pulumi.Parent(parent))
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
