package database

import (
	"regexp"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/postgres"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// Engine limits that GitLab and RDS impose.
const (
	// MinEngineVersion is the oldest PostgreSQL major version GitLab 18 runs on.
	MinEngineVersion = postgres.MinEngineVersion
	// DefaultEngineVersion is the major version databases run unless told otherwise.
	DefaultEngineVersion = postgres.DefaultEngineVersion
	// MinStorageGiB is the smallest gp3 volume RDS for PostgreSQL accepts.
	MinStorageGiB = 20
	maxStorageGiB = 65536
)

// RDSArgs configures a PostgreSQL database on RDS for GitLab.
type RDSArgs struct {
	// VpcID of the network. Required.
	VpcID pulumi.StringInput
	// Zones whose private subnets the database may use; RDS needs at least two for a standby. Required.
	Zones []string
	// SubnetIDs by zone name: the private subnets. Required for every zone.
	SubnetIDs map[string]pulumi.StringInput
	// ClientSecurityGroupID is the security group allowed to connect (the cluster's nodes): the database
	// admits port 5432 from it alone. Required.
	ClientSecurityGroupID pulumi.StringInput

	// EngineVersion is the PostgreSQL major version, at least 16. Default DefaultEngineVersion.
	EngineVersion string
	// InstanceClass. Default "db.m6g.large" (2 vCPU, 8 GiB: GitLab's reference size for 1,000 users).
	InstanceClass string
	// AllocatedStorageGiB of gp3 storage, at least 20. Default 100.
	AllocatedStorageGiB int
	// MaxAllocatedStorageGiB lets RDS grow storage up to this; 0 turns autoscaling off. Default 500.
	MaxAllocatedStorageGiB *int
	// MultiAZ keeps a synchronous standby in another zone that RDS fails over to. Default true; turning it
	// off is a named choice for cost, and leaves the database in one zone.
	MultiAZ *bool
	// BackupRetentionDays, 0 to 35; 0 turns automated backups off. Default 30.
	BackupRetentionDays *int
	// BackupWindow in UTC, "hh:mm-hh:mm". Default "03:00-04:00".
	BackupWindow string
	// MaintenanceWindow in UTC, "ddd:hh:mm-ddd:hh:mm". Default "sun:04:30-sun:05:30", after the backup.
	MaintenanceWindow string
	// DeletionProtection makes AWS refuse to delete the database. Default true.
	DeletionProtection *bool
	// SkipFinalSnapshot deletes the database without a last snapshot. Default false: deletion first takes a
	// snapshot named "<name>-final-<random>", unique so that a second deletion never collides with the first.
	SkipFinalSnapshot bool
	// DatabaseName GitLab uses. Default "gitlabhq_production".
	DatabaseName string
	// Username of the master user GitLab connects as. Default "gitlab".
	Username string
	// ManagedPassword lets RDS generate the master password and keep it in Secrets Manager, rotating it;
	// the component reads it back for GitLab. Default false: the component generates it (pulumi-random).
	ManagedPassword bool
	// KMSKeyID encrypts storage with a key of your own. Default: the AWS-managed key for RDS. Storage is
	// encrypted either way.
	KMSKeyID pulumi.StringInput
	// Protect guards the database against deletion (pulumi protect and retainOnDelete). Default false.
	Protect bool
	// Tags added to every resource. Default none.
	Tags map[string]string
}

var (
	backupWindowPattern      = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`)
	maintenanceWindowPattern = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$`)
	identifierPattern        = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,62}$`)
	// reservedUsernames cannot be a master user on RDS for PostgreSQL.
	reservedUsernames = map[string]bool{"postgres": true, "rdsadmin": true, "rdsrepladmin": true, "admin": true}
)

func withRDSDefaults(args RDSArgs) RDSArgs {
	set := func(field *string, value string) {
		if *field == "" {
			*field = value
		}
	}
	set(&args.EngineVersion, DefaultEngineVersion)
	set(&args.InstanceClass, "db.m6g.large")
	set(&args.BackupWindow, "03:00-04:00")
	set(&args.MaintenanceWindow, "sun:04:30-sun:05:30")
	set(&args.DatabaseName, "gitlabhq_production")
	set(&args.Username, "gitlab")
	if args.AllocatedStorageGiB == 0 {
		args.AllocatedStorageGiB = 100
	}
	if args.MaxAllocatedStorageGiB == nil {
		args.MaxAllocatedStorageGiB = pulumi.IntRef(500)
	}
	if args.MultiAZ == nil {
		args.MultiAZ = pulumi.BoolRef(true)
	}
	if args.BackupRetentionDays == nil {
		args.BackupRetentionDays = pulumi.IntRef(30)
	}
	if args.DeletionProtection == nil {
		args.DeletionProtection = pulumi.BoolRef(true)
	}
	return args
}

func validateRDS(args RDSArgs) error {
	if err := validate.RequiredString("vpcId", args.VpcID); err != nil {
		return err
	}
	if err := validate.RequiredString("clientSecurityGroupId", args.ClientSecurityGroupID); err != nil {
		return err
	}
	// An RDS subnet group needs subnets in at least two zones, for the standby.
	if err := validate.ZoneSubnets(args.Zones, 2, "subnetIds", args.SubnetIDs); err != nil {
		return err
	}
	major, err := strconv.Atoi(args.EngineVersion)
	if err != nil {
		return validate.Errorf("engineVersion", args.EngineVersion, "is not a PostgreSQL major version such as %s", DefaultEngineVersion)
	}
	if major < MinEngineVersion {
		return validate.Errorf("engineVersion", args.EngineVersion, "is below %d, the oldest PostgreSQL GitLab 18 supports", MinEngineVersion)
	}
	if len(args.InstanceClass) < 4 || args.InstanceClass[:3] != "db." {
		return validate.Errorf("instanceClass", args.InstanceClass, "is not an RDS instance class such as db.m6g.large")
	}
	if args.AllocatedStorageGiB < MinStorageGiB || args.AllocatedStorageGiB > maxStorageGiB {
		return validate.Errorf("allocatedStorageGiB", args.AllocatedStorageGiB, "is outside %d-%d GiB, what RDS for PostgreSQL accepts", MinStorageGiB, maxStorageGiB)
	}
	if max := *args.MaxAllocatedStorageGiB; max != 0 && (max < args.AllocatedStorageGiB || max > maxStorageGiB) {
		return validate.Errorf("maxAllocatedStorageGiB", max, "must be 0 (no autoscaling) or from allocatedStorageGiB (%d) to %d", args.AllocatedStorageGiB, maxStorageGiB)
	}
	if days := *args.BackupRetentionDays; days < 0 || days > 35 {
		return validate.Errorf("backupRetentionDays", days, "is outside 0-35, what RDS keeps")
	}
	if !backupWindowPattern.MatchString(args.BackupWindow) {
		return validate.Errorf("backupWindow", args.BackupWindow, `is not "hh:mm-hh:mm" in UTC`)
	}
	if !maintenanceWindowPattern.MatchString(args.MaintenanceWindow) {
		return validate.Errorf("maintenanceWindow", args.MaintenanceWindow, `is not "ddd:hh:mm-ddd:hh:mm" in UTC`)
	}
	if !identifierPattern.MatchString(args.DatabaseName) {
		return validate.Errorf("databaseName", args.DatabaseName, "must start with a letter and hold only letters, digits and '_' (at most 63)")
	}
	if !identifierPattern.MatchString(args.Username) || reservedUsernames[args.Username] {
		return validate.Errorf("username", args.Username, "is reserved by RDS or not a PostgreSQL identifier")
	}
	return nil
}
