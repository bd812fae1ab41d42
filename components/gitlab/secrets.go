package gitlab

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Environment variables that carry secrets into the GitLab container. The Omnibus configuration reads them
// with ENV.fetch, so no secret is ever written into the ConfigMap.
const (
	// envDBUser carries the database user too: a provider may mark it secret (Linode's rootUsername is), and a
	// secret value in the ConfigMap would hide all of gitlab.rb from the plan and sit where more roles read it.
	envDBUser        = "GITLAB_DB_USERNAME"
	envDBPassword    = "GITLAB_DB_PASSWORD"
	envRedisPassword = "GITLAB_REDIS_PASSWORD"
	envRootPassword  = "GITLAB_ROOT_PASSWORD"
)

// keyBase is a secret that every replica must share: GitLab encrypts database columns, signs sessions and
// seeds one-time passwords with these, so replicas that generated their own could not read each other's data.
type keyBase struct {
	suffix  string // of the random resource's name
	env     string // variable the container reads it from
	setting string // the gitlab.rb setting it fills
}

var keyBases = []keyBase{
	{"db-key-base", "GITLAB_DB_KEY_BASE", "db_key_base"},
	{"secret-key-base", "GITLAB_SECRET_KEY_BASE", "secret_key_base"},
	{"otp-key-base", "GITLAB_OTP_KEY_BASE", "otp_key_base"},
	{"encrypted-settings-key-base", "GITLAB_ENCRYPTED_SETTINGS_KEY_BASE", "encrypted_settings_key_base"},
}

// keyBaseLength matches what GitLab generates for itself: 128 characters.
const keyBaseLength = 128

// omnibusSecret is every other secret Omnibus 18.11 generates on a node when gitlab.rb does not set it (each
// handler's parse_secrets, collected by SecretsHelper.gather_gitlab_secrets into gitlab-secrets.json), for
// the services a replica runs. Each is generated here once, the same for every replica; the configuration
// sets package['generate_default_secrets'] = false, so Omnibus generates none of its own.
type omnibusSecret struct {
	suffix   string   // of the random resource's name
	env      string   // variable the container reads it from
	settings []string // the gitlab.rb settings it fills
	length   int      // characters of the RandomPassword
	form     form     // how the password becomes the value Omnibus expects
}

// form turns a generated password into the value a setting expects.
type form int

const (
	asIs      form = iota // the letters and digits themselves
	asArray               // a one-element Ruby array: Rails keeps a list of keys to allow rotation
	asBase64              // base64 of the password, for settings that want exactly length bytes, encoded
	asRSA4096             // the password seeds an RSA key (see keys.go)
)

var omnibusSecrets = []omnibusSecret{
	// gitlab/libraries/gitlab_rails.rb parse_secrets: generate_alphanumeric(32) each, the two keys as arrays.
	{"active-record-primary-key", "GITLAB_ACTIVE_RECORD_PRIMARY_KEY",
		[]string{"gitlab_rails['active_record_encryption_primary_key']"}, 32, asArray},
	{"active-record-deterministic-key", "GITLAB_ACTIVE_RECORD_DETERMINISTIC_KEY",
		[]string{"gitlab_rails['active_record_encryption_deterministic_key']"}, 32, asArray},
	{"active-record-key-derivation-salt", "GITLAB_ACTIVE_RECORD_KEY_DERIVATION_SALT",
		[]string{"gitlab_rails['active_record_encryption_key_derivation_salt']"}, 32, asIs},
	// gitlab_rails.rb: generate_rsa(4096).to_pem. The password is the seed the key is derived from.
	{"openid-connect-signing-key-seed", "GITLAB_OPENID_CONNECT_SIGNING_KEY",
		[]string{"gitlab_rails['openid_connect_signing_key']"}, 64, asRSA4096},
	// gitlab/libraries/gitlab_shell.rb: generate_hex(64); gitaly/libraries/gitaly.rb copies it to Gitaly,
	// which authenticates to Rails with it, a copy the configuration makes itself now that Omnibus does not.
	{"shell-secret-token", "GITLAB_SHELL_SECRET_TOKEN",
		[]string{"gitlab_shell['secret_token']", "gitaly['gitlab_secret']"}, 128, asIs},
	// gitlab/libraries/gitlab_workhorse.rb: "gitlab-workhorse expects exactly 32 bytes, encoded with base64".
	{"workhorse-secret-token", "GITLAB_WORKHORSE_SECRET_TOKEN", []string{"gitlab_workhorse['secret_token']"}, 32, asBase64},
	// gitlab-kas/libraries/gitlab_kas.rb: 32, 32 and 72 bytes, base64, checked by validate_secrets even while
	// KAS is off. Generated so that turning KAS on finds one set for every replica.
	{"kas-api-secret-key", "GITLAB_KAS_API_SECRET_KEY", []string{"gitlab_kas['api_secret_key']"}, 32, asBase64},
	{"kas-private-api-secret-key", "GITLAB_KAS_PRIVATE_API_SECRET_KEY", []string{"gitlab_kas['private_api_secret_key']"}, 32, asBase64},
	{"kas-websocket-token-secret-key", "GITLAB_KAS_WEBSOCKET_TOKEN_SECRET_KEY", []string{"gitlab_kas['websocket_token_secret_key']"}, 72, asBase64},
}

// generatedSecrets is what newSecrets made.
type generatedSecrets struct {
	secret   *corev1.Secret // the environment of every GitLab container
	hostKeys *corev1.Secret // the SSH host keys, as files
	// rootPasswordSecret holds the initial root password alone: only the Job that seeds the database reads it.
	rootPasswordSecret *corev1.Secret
	rootPassword       pulumi.StringOutput
}

// rootPasswordSecretName is the Secret that holds the initial root password.
func rootPasswordSecretName(name string) string { return name + "-initial-root-password" }

// password generates a secret string of letters and digits, kept secret by Pulumi.
func password(ctx *pulumi.Context, parent pulumi.Resource, name string, length int) (*random.RandomPassword, error) {
	return random.NewRandomPassword(ctx, name, &random.RandomPasswordArgs{
		Length:  pulumi.Int(length),
		Special: pulumi.Bool(false),
	}, pulumi.Parent(parent))
}

// newSecrets generates every secret a replica needs and stores them, with the database's user and password and
// Redis's password, in one Secret that every zone's pods and the migration Jobs read as environment variables; the SSH host
// keys go into a second Secret, mounted as files, and the initial root password into a third, which only the
// Job that seeds the database reads. A key in saved is used instead of the generated one (see savedkeys.go).
func newSecrets(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	db Database, redisPassword pulumi.StringInput, extra, saved pulumi.StringMap) (*generatedSecrets, error) {
	data := pulumi.StringMap{
		envDBUser:     pulumi.ToSecret(db.User).(pulumi.StringOutput),
		envDBPassword: pulumi.ToSecret(db.Password).(pulumi.StringOutput),
	}
	if redisPassword != nil {
		data[envRedisPassword] = redisPassword
	}
	for _, key := range keyBases {
		value, err := password(ctx, parent, name+"-"+key.suffix, keyBaseLength)
		if err != nil {
			return nil, err
		}
		data[key.env] = savedOr(saved, key.env, value.Result)
	}
	for _, s := range omnibusSecrets {
		value, err := password(ctx, parent, name+"-"+s.suffix, s.length)
		if err != nil {
			return nil, err
		}
		data[s.env] = savedOr(saved, s.env, s.form.apply(value.Result))
	}
	// Last: a value given (an object store's key, the Git storage's tokens and shell secret, which its servers
	// hold too) wins over one generated or saved for the same variable.
	for env, value := range extra {
		data[env] = value
	}
	secret, err := newOpaqueSecret(ctx, parent, name, namespace, name+"-secrets", data)
	if err != nil {
		return nil, err
	}
	// GitLab rejects weak root passwords; 32 letters and digits pass its check.
	generatedRoot, err := password(ctx, parent, name+"-root-password", 32)
	if err != nil {
		return nil, err
	}
	root := savedOr(saved, envRootPassword, generatedRoot.Result)
	rootSecret, err := newOpaqueSecret(ctx, parent, name, namespace, rootPasswordSecretName(name), pulumi.StringMap{envRootPassword: root})
	if err != nil {
		return nil, err
	}
	hostKeys, err := newHostKeySecret(ctx, parent, name, namespace, saved)
	if err != nil {
		return nil, err
	}
	return &generatedSecrets{secret: secret, hostKeys: hostKeys, rootPasswordSecret: rootSecret,
		rootPassword: pulumi.ToSecret(root).(pulumi.StringOutput)}, nil
}

// newOpaqueSecret is one of the component's Secrets, named objectName in Kubernetes and in Pulumi.
func newOpaqueSecret(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	objectName string, data pulumi.StringMap) (*corev1.Secret, error) {
	return corev1.NewSecret(ctx, objectName, &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(objectName),
			Namespace: namespace,
			Labels:    toStringMap(standardLabels(name, ConfigComponent)),
		},
		Type:       pulumi.String("Opaque"),
		StringData: data,
	}, pulumi.Parent(parent))
}

func (f form) apply(generated pulumi.StringOutput) pulumi.StringOutput {
	switch f {
	case asBase64:
		return generated.ApplyT(base64OfSecret).(pulumi.StringOutput)
	case asRSA4096:
		return generated.ApplyT(openIDSigningKeyPEM).(pulumi.StringOutput)
	}
	return generated
}

// hostKeysSecretName is the Secret that holds the SSH host keys.
func hostKeysSecretName(name string) string { return name + "-ssh-host-keys" }

// newHostKeySecret derives the three SSH host keys the image would otherwise generate in each pod, so that
// every replica answers with the same host key and clients never see it change when the load balancer picks
// another zone.
func newHostKeySecret(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	saved pulumi.StringMap) (*corev1.Secret, error) {
	files := pulumi.StringMap{}
	for _, key := range sshHostKeys {
		seed, err := password(ctx, parent, name+"-"+key.file()+"-seed", 64)
		if err != nil {
			return nil, err
		}
		files[key.file()] = savedOr(saved, key.file(), seed.Result.ApplyT(key.openSSHPrivateKey).(pulumi.StringOutput))
	}
	return newOpaqueSecret(ctx, parent, name, namespace, hostKeysSecretName(name), files)
}
