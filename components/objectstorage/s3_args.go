package objectstorage

import (
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/objectstore"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// S3Args configures GitLab's buckets on S3 and the roles GitLab's pods and its backup job assume through the
// cluster's IAM roles for service accounts (IRSA).
type S3Args struct {
	// OIDCProviderARN is the IAM OpenID Connect provider of the cluster's service account issuer
	// (aws.iam.OpenIdConnectProvider with client ID "sts.amazonaws.com"), which the caller creates: one per
	// cluster and account, shared by every role any workload assumes. Required.
	OIDCProviderARN pulumi.StringInput
	// OIDCIssuer is the cluster's issuer URL, "https://oidc.eks.<region>.amazonaws.com/id/<id>" (the EKS
	// component's OIDCIssuer); the provider must be the one for it. Required.
	OIDCIssuer pulumi.StringInput

	// Namespace GitLab runs in. Default "gitlab", the GitLab component's default.
	Namespace string
	// ServiceAccount GitLab's pods run as: the only identity that may assume the role over the object
	// buckets. Default "gitlab".
	ServiceAccount string
	// BackupServiceAccount the backup job runs as: the only identity that may assume the role over the backup
	// bucket. Default "gitlab-backup". It must differ from ServiceAccount, so that GitLab's pods cannot reach
	// the backups and the backup job cannot reach the live objects.
	BackupServiceAccount string

	// NamePrefix starts every bucket name, "<prefix>-<kind>-<random>". Default: the project and stack names,
	// lowercased and cut to fit, so that two stacks never share a bucket. A bucket's name is fixed at
	// creation: changing the prefix, or renaming the stack while using the default, replaces every bucket.
	NamePrefix string
	// NoncurrentVersionDays is how long an overwritten or deleted object stays recoverable as a non-current
	// version. Default 30.
	NoncurrentVersionDays int
	// BackupRetentionDays is how long a backup archive stays current; S3 then expires it, and it remains a
	// non-current version for NoncurrentVersionDays more. GitLab prunes only local backups, never uploaded
	// ones, so this is the retention. Default 30.
	BackupRetentionDays int

	// ForceDestroy lets deleting a bucket delete its objects too. Default false: deleting a bucket that holds
	// objects fails, so no data goes with a removed stack unless this is chosen by name (dev stacks).
	ForceDestroy bool
	// Protect guards the buckets and the key against deletion (pulumi protect and retainOnDelete), and keeps
	// the buckets' settings (public access block, encryption, TLS policy) with a retained bucket. Default false.
	Protect bool
	// Tags added to every resource that takes tags. Default none.
	Tags map[string]string
}

// Defaults, and the limits S3 lifecycle rules accept.
const (
	DefaultNoncurrentVersionDays = 30
	DefaultBackupRetentionDays   = 30
	maxLifecycleDays             = 36500 // a hundred years: a typo, not a retention
)

var (
	oidcProviderARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/[^/].*$`)
	issuerPattern          = regexp.MustCompile(`^https://[^/\s]+(/[^\s]*)?$`)
)

func withS3Defaults(args S3Args, project, stack string) S3Args {
	set := func(field *string, value string) {
		if *field == "" {
			*field = value
		}
	}
	set(&args.Namespace, "gitlab")
	set(&args.ServiceAccount, "gitlab")
	set(&args.BackupServiceAccount, "gitlab-backup")
	set(&args.NamePrefix, objectstore.DefaultPrefix(project, stack))
	if args.NoncurrentVersionDays == 0 {
		args.NoncurrentVersionDays = DefaultNoncurrentVersionDays
	}
	if args.BackupRetentionDays == 0 {
		args.BackupRetentionDays = DefaultBackupRetentionDays
	}
	return args
}

func validateS3(args S3Args) error {
	if err := validate.RequiredString("oidcProviderArn", args.OIDCProviderARN); err != nil {
		return err
	}
	if arn, ok := validate.LiteralString(args.OIDCProviderARN); ok && !oidcProviderARNPattern.MatchString(arn) {
		return validate.Errorf("oidcProviderArn", arn, "is not an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer host and path>)")
	}
	if err := validate.RequiredString("oidcIssuer", args.OIDCIssuer); err != nil {
		return err
	}
	issuer, issuerKnown := validate.LiteralString(args.OIDCIssuer)
	if issuerKnown && !issuerPattern.MatchString(issuer) {
		return validate.Errorf("oidcIssuer", issuer, "is not an https:// issuer URL")
	}
	if arn, ok := validate.LiteralString(args.OIDCProviderARN); ok && issuerKnown {
		if err := providerMatchesIssuer(arn, issuer); err != nil {
			return validate.Errorf("oidcProviderArn", arn, "%s", err)
		}
	}
	if err := validate.DNSLabel("namespace", args.Namespace); err != nil {
		return err
	}
	if err := validate.DNSLabel("serviceAccount", args.ServiceAccount); err != nil {
		return err
	}
	if err := validate.DNSLabel("backupServiceAccount", args.BackupServiceAccount); err != nil {
		return err
	}
	if args.BackupServiceAccount == args.ServiceAccount {
		return validate.Errorf("backupServiceAccount", args.BackupServiceAccount, "is also serviceAccount: the backup job needs an identity of its own")
	}
	if err := objectstore.ValidatePrefix("namePrefix", args.NamePrefix); err != nil {
		return err
	}
	if days := args.NoncurrentVersionDays; days < 1 || days > maxLifecycleDays {
		return validate.Errorf("noncurrentVersionDays", days, "is outside 1-%d", maxLifecycleDays)
	}
	if days := args.BackupRetentionDays; days < 1 || days > maxLifecycleDays {
		return validate.Errorf("backupRetentionDays", days, "is outside 1-%d", maxLifecycleDays)
	}
	if args.ForceDestroy && args.Protect {
		return validate.Errorf("forceDestroy", true, "contradicts protect: a protected bucket is never deleted, with or without its objects")
	}
	return nil
}

// issuerHost is the issuer URL without its scheme: the key prefix of IRSA's trust conditions, and the end of
// the provider's ARN.
func issuerHost(issuer string) string { return strings.TrimPrefix(issuer, "https://") }
