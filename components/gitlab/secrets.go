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

// generatedSecrets is what newSecret made.
type generatedSecrets struct {
	secret       *corev1.Secret
	rootPassword pulumi.StringOutput
}

// newSecret generates the key bases and the initial root password, and stores them, with the database and
// Redis passwords, in one Secret that every zone's pods read.
func newSecret(ctx *pulumi.Context, parent pulumi.Resource, name string, namespace pulumi.StringInput,
	dbPassword, redisPassword pulumi.StringInput) (*generatedSecrets, error) {
	data := pulumi.StringMap{envDBPassword: dbPassword}
	if redisPassword != nil {
		data[envRedisPassword] = redisPassword
	}
	for _, key := range keyBases {
		value, err := random.NewRandomPassword(ctx, name+"-"+key.suffix, &random.RandomPasswordArgs{
			Length:  pulumi.Int(keyBaseLength),
			Special: pulumi.Bool(false),
		}, pulumi.Parent(parent))
		if err != nil {
			return nil, err
		}
		data[key.env] = value.Result
	}
	// GitLab rejects weak root passwords; 32 letters and digits pass its check.
	root, err := random.NewRandomPassword(ctx, name+"-root-password", &random.RandomPasswordArgs{
		Length:  pulumi.Int(32),
		Special: pulumi.Bool(false),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, err
	}
	data[envRootPassword] = root.Result

	secret, err := corev1.NewSecret(ctx, name+"-secrets", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(name + "-secrets"),
			Namespace: namespace,
			Labels:    toStringMap(standardLabels(name, ConfigComponent)),
		},
		Type:       pulumi.String("Opaque"),
		StringData: data,
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, err
	}
	return &generatedSecrets{secret: secret, rootPassword: pulumi.ToSecret(root.Result).(pulumi.StringOutput)}, nil
}
