package stacks

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

// GitLabNamespace is the namespace every stack runs GitLab in, the GitLab component's default: named here
// because a cloud role that GitLab's service account assumes trusts that account in this namespace only.
const GitLabNamespace = "gitlab"

// ObjectStorageOff is the plan summary's line for a stack whose GitLab keeps its objects on the shared volume.
const ObjectStorageOff = "Object storage: off — GitLab keeps artifacts, uploads, LFS and packages on the shared volume"

// PerType is a bucket for each of GitLab's object types, from a component's map keyed by type.
func PerType(buckets pulumi.StringMapOutput) map[string]pulumi.StringInput {
	perType := map[string]pulumi.StringInput{}
	for _, t := range gitlab.ObjectTypes() {
		perType[t] = buckets.MapIndex(pulumi.String(t))
	}
	return perType
}

// StandInBuckets are distinct literal bucket names for the pre-flight, one per object type.
func StandInBuckets() map[string]pulumi.StringInput {
	perType := map[string]pulumi.StringInput{}
	for _, t := range gitlab.ObjectTypes() {
		perType[t] = pulumi.String("stand-in-" + strings.ReplaceAll(t, "_", "-"))
	}
	return perType
}

// GitLabBackup is the scheduled backup the configuration asks for, to bucket over conn. pruneAfterDays is
// the retention where the job itself must delete old archives; 0 where the bucket's lifecycle does.
func GitLabBackup(cfg *Config, bucket pulumi.StringInput, conn gitlab.ObjectStoreConnection, pruneAfterDays int) *gitlab.Backup {
	return &gitlab.Backup{
		Bucket: bucket, Connection: conn, Schedule: cfg.BackupSchedule(), PruneAfterDays: pruneAfterDays,
		ScratchSize: cfg.Backup.ScratchSize,
	}
}

// StorageNotes are the plan summary's lines on where GitLab's objects and backups go: objects says what holds
// them when object storage is on, backups where the archives go and what bounds their age. A stack with
// neither gets the one line ObjectStorageOff.
func StorageNotes(cfg *Config, objects, backups string) []string {
	notes := []string{ObjectStorageOff}
	if cfg.ObjectStorageOn() {
		notes = []string{"Object storage: " + objects}
	}
	switch {
	case cfg.BackupOn():
		notes = append(notes, fmt.Sprintf("Backup: gitlab-backup of the database and repositories at %q (cron, UTC) to %s", cfg.BackupSchedule(), backups))
	case cfg.ObjectStorageOn():
		notes = append(notes, "Backup: off — no scheduled gitlab-backup; the platform's own snapshots are all there is")
	}
	return notes
}
