package gitlab

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// validateObjectStorage checks that every object type has a bucket of its own, and the connection.
func validateObjectStorage(o *ObjectStorage) error {
	if o == nil {
		return nil
	}
	if err := validateConnection("objectStorage.connection", o.Connection); err != nil {
		return err
	}
	known := map[string]bool{}
	for _, objectType := range ObjectTypes() {
		known[objectType] = true
	}
	for _, objectType := range slices.Sorted(maps.Keys(o.Buckets)) {
		if !known[objectType] {
			return validate.Errorf(fmt.Sprintf("objectStorage.buckets[%q]", objectType), nil, "is not one of GitLab's object types %v", ObjectTypes())
		}
	}
	owner := map[string]string{}
	for _, objectType := range ObjectTypes() {
		field := fmt.Sprintf("objectStorage.buckets[%q]", objectType)
		if _, ok := o.Buckets[objectType]; !ok {
			return validate.Errorf(field, nil, "is missing: GitLab's consolidated object storage needs a bucket for every object type, %v", ObjectTypes())
		}
		if err := validate.RequiredString(field, o.Buckets[objectType]); err != nil {
			return err
		}
		if bucket, ok := validate.LiteralString(o.Buckets[objectType]); ok {
			if other, dup := owner[bucket]; dup {
				return validate.Errorf(field, bucket, "is also the bucket of %s; every object type needs a bucket of its own", other)
			}
			owner[bucket] = objectType
		}
	}
	return nil
}

// validateBackup checks the backup's bucket, connection, schedule and retention.
func validateBackup(name string, b *Backup, o *ObjectStorage) error {
	if b == nil {
		return nil
	}
	// A CronJob's name leaves 11 characters for the Jobs it names (Kubernetes' limit is 52).
	if cronJob := name + "-backup"; len(cronJob) > 52 {
		return validate.Errorf("name", name, "makes the backup CronJob name %q, longer than 52 characters; use a shorter component name", cronJob)
	}
	if err := validate.RequiredString("backup.bucket", b.Bucket); err != nil {
		return err
	}
	if bucket, ok := validate.LiteralString(b.Bucket); ok && o != nil {
		for _, objectType := range ObjectTypes() {
			if other, ok := validate.LiteralString(o.Buckets[objectType]); ok && other == bucket {
				return validate.Errorf("backup.bucket", bucket, "is also the %s bucket; backups need a bucket of their own, which GitLab's pods cannot reach", objectType)
			}
		}
	}
	if err := validateConnection("backup.connection", b.Connection); err != nil {
		return err
	}
	if !cronSchedule.MatchString(b.Schedule) {
		return validate.Errorf("backup.schedule", b.Schedule, `is not a cron schedule of five fields, such as "0 1 * * *", nor a macro such as "@daily"`)
	}
	if b.PruneAfterDays < 0 || b.PruneAfterDays > 36500 {
		return validate.Errorf("backup.pruneAfterDays", b.PruneAfterDays, "is not between 0 (the bucket's lifecycle prunes) and 36500 days")
	}
	return validate.Quantity("backup.scratchSize", b.ScratchSize)
}

// cronSchedule is a standard five-field cron schedule, or one of the macros the CronJob controller accepts.
var cronSchedule = regexp.MustCompile(`^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|([0-9A-Za-z*/,?-]+ ){4}[0-9A-Za-z*/,?-]+)$`)

// validateConnection checks that a connection has a region, an https endpoint if any, and exactly one kind of
// credential.
func validateConnection(field string, c ObjectStoreConnection) error {
	if err := validate.RequiredString(field+".region", c.Region); err != nil {
		return err
	}
	if c.Endpoint != nil {
		if raw, ok := validate.LiteralString(c.Endpoint); ok {
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != "https" || u.Host == "" {
				return validate.Errorf(field+".endpoint", raw, "is not an https:// URL with a host: keys and objects must not cross the network in the clear")
			}
		}
	}
	keyed := c.AccessKeyID != nil || c.SecretAccessKey != nil
	switch {
	case keyed && c.WorkloadIdentity != nil:
		return validate.Errorf(field, nil, "sets both a key (accessKeyID, secretAccessKey) and workloadIdentity; choose one")
	case !keyed && c.WorkloadIdentity == nil:
		return validate.Errorf(field, nil, "sets neither a key (accessKeyID, secretAccessKey) nor workloadIdentity; choose one")
	case keyed:
		if err := validate.RequiredString(field+".accessKeyID", c.AccessKeyID); err != nil {
			return err
		}
		return validate.RequiredString(field+".secretAccessKey", c.SecretAccessKey)
	}
	return nil
}
