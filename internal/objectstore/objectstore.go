// Package objectstore holds what every platform's object storage component shares and that depends on no
// cloud's SDK: the object types GitLab's consolidated object storage needs, and how their buckets are named.
package objectstore

import (
	"regexp"
	"strings"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Type is one kind of object GitLab keeps in object storage under the consolidated form.
type Type struct {
	// Name is GitLab's key under gitlab_rails['object_store']['objects'], such as "external_diffs".
	Name string
	// Versioned says whether the bucket keeps what GitLab overwrites or deletes as non-current versions for a
	// while: true for everything a user would miss, false for a cache GitLab refills from upstream by itself.
	Versioned bool
}

// Types are the object types of omnibus-gitlab 18.11.11 (files/gitlab-cookbooks/gitlab/attributes/default.rb,
// lines 196-213), in its order. The consolidated form turns object storage on for every type, and GitLab
// refuses to start when one has no bucket, so every platform makes one bucket for each.
var Types = []Type{
	{Name: "artifacts", Versioned: true},
	{Name: "external_diffs", Versioned: true},
	{Name: "lfs", Versioned: true},
	{Name: "uploads", Versioned: true},
	{Name: "packages", Versioned: true},
	{Name: "dependency_proxy", Versioned: false}, // a pull-through cache of upstream registries
	{Name: "terraform_state", Versioned: true},
	{Name: "ci_secure_files", Versioned: true},
	{Name: "pages", Versioned: true},
}

// BackupKind names the bucket gitlab-backup uploads its archives to.
const BackupKind = "backups"

// TemporaryUploadsPrefix is where GitLab puts an upload before it copies it to its final key and deletes
// the original (app/uploaders/object_storage.rb, TMP_UPLOAD_PATH). In a versioned bucket each such copy would
// otherwise linger as a non-current version.
const TemporaryUploadsPrefix = "tmp/uploads/"

// Kind is an object type's name as it appears in a bucket name, where '_' is not allowed.
func Kind(typeName string) string { return strings.ReplaceAll(typeName, "_", "-") }

// SuffixBytes is the length of the random part shared by a stack's bucket names: 8 hex digits. Bucket names
// are global (S3) or per region across all customers (Linode), so a name derived from the stack alone could be
// taken already, or guessed and taken first by someone else.
const SuffixBytes = 4

// MaxBucketName is the longest bucket name S3 and Linode Object Storage accept.
const MaxBucketName = 63

// MaxPrefix is the longest prefix with which every bucket name, "<prefix>-<kind>-<suffix>", stays within
// MaxBucketName.
var MaxPrefix = MaxBucketName - len("-") - longestKind() - len("-") - 2*SuffixBytes

func longestKind() int {
	longest := len(BackupKind)
	for _, t := range Types {
		longest = max(longest, len(Kind(t.Name)))
	}
	return longest
}

// BucketName is "<prefix>-<kind>-<suffix>".
func BucketName(prefix, kind, suffix string) string { return prefix + "-" + kind + "-" + suffix }

// reservedPrefixes cannot start an S3 bucket name.
var reservedPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}

var (
	prefixPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	notNameChars  = regexp.MustCompile(`[^a-z0-9]+`)
)

// ValidatePrefix checks a bucket name prefix a caller chose.
func ValidatePrefix(field, prefix string) error {
	if len(prefix) > MaxPrefix || !prefixPattern.MatchString(prefix) {
		return validate.Errorf(field, prefix, "is not a bucket name prefix: lowercase letters, digits and '-', starting and ending with a letter or digit, at most %d characters", MaxPrefix)
	}
	for _, reserved := range reservedPrefixes {
		if strings.HasPrefix(prefix, reserved) {
			return validate.Errorf(field, prefix, "starts with %q, which S3 reserves", reserved)
		}
	}
	return nil
}

// DefaultPrefix derives a valid prefix from the project and stack names: lowercased, every run of other
// characters turned into one '-', and, when too long, the project's part cut rather than the stack's, so that
// two stacks of a project get different prefixes. Their random suffixes keep the buckets apart regardless.
func DefaultPrefix(project, stack string) string {
	clean := func(s string) string {
		return strings.Trim(notNameChars.ReplaceAllString(strings.ToLower(s), "-"), "-")
	}
	projectPart, stackPart := clean(project), clean(stack)
	if room := MaxPrefix - len("-") - len(stackPart); len(projectPart) > room {
		projectPart = strings.TrimRight(projectPart[:max(room, 0)], "-")
	}
	prefix := strings.Trim(projectPart+"-"+stackPart, "-")
	for _, reserved := range reservedPrefixes {
		if strings.HasPrefix(prefix, strings.TrimSuffix(reserved, "-")) {
			prefix = "gitlab-" + prefix
		}
	}
	if prefix == "" {
		prefix = "gitlab"
	}
	if len(prefix) > MaxPrefix {
		prefix = strings.TrimRight(prefix[:MaxPrefix], "-")
	}
	return prefix
}
