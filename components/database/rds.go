// Package database builds GitLab's PostgreSQL: on AWS an RDS instance with a synchronous standby in another
// zone, encrypted, private, backed up, admitting only the cluster's nodes. Its outputs have the same shape
// whichever platform made them, so the GitLab component does not care which it got.
package database

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
	"github.com/gitlab-ha/gitlab-ha/internal/postgres"
	"github.com/gitlab-ha/gitlab-ha/internal/securitygroup"
)

// RDSTypeToken is the RDS component's Pulumi type.
const RDSTypeToken = "gitlab-ha:database:RDS"

const componentTag = "database"

// PostgresPort is where PostgreSQL listens.
const PostgresPort = postgres.Port

// Endpoint is what GitLab needs of a database, on any platform (the Linode database has the same).
type Endpoint = postgres.Endpoint

// RDS is the component.
type RDS struct {
	pulumi.ResourceState
	Endpoint

	// InstanceID and InstanceARN of the database.
	InstanceID  pulumi.StringOutput
	InstanceARN pulumi.StringOutput
	// SecurityGroupID is the database's group, which admits 5432 from ClientSecurityGroupID only.
	SecurityGroupID pulumi.StringOutput
}

// GitLab's Omnibus package sets these on the database it manages; an external database gets none of them
// unless they are set here (GitLab's database troubleshooting guide says as much for RDS).
var gitlabParameters = []struct{ name, value, why string }{
	{"statement_timeout", "60000", "GitLab's default: a runaway query cannot hold a connection for ever"},
	{"idle_in_transaction_session_timeout", "60000", "GitLab's default: an abandoned transaction releases its locks"},
	{"deadlock_timeout", "5000", "GitLab's default for busy instances"},
	{"log_lock_waits", "1", "lock waits longer than deadlock_timeout are logged"},
	{"rds.force_ssl", "1", "connections must use TLS, as GitLab's sslmode=require does"},
}

// ValidateRDS reports the first problem with args, as NewRDS would, without registering anything.
func ValidateRDS(args *RDSArgs) error {
	return validateRDS(withRDSDefaults(*args))
}

// NewRDS validates args, then builds the subnet group, security group, parameter group, password and
// instance.
func NewRDS(ctx *pulumi.Context, name string, args *RDSArgs, opts ...pulumi.ResourceOption) (*RDS, error) {
	if args == nil {
		return nil, fmt.Errorf("database %q: args are required", name)
	}
	defaulted := withRDSDefaults(*args)
	if err := validateRDS(defaulted); err != nil {
		return nil, fmt.Errorf("database %q: %w", name, err)
	}
	d := &RDS{}
	if err := ctx.RegisterComponentResource(RDSTypeToken, name, d, opts...); err != nil {
		return nil, err
	}
	if err := d.build(ctx, name, defaulted); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"address": d.Address, "port": d.Port, "databaseName": d.DatabaseName, "username": d.Username,
		"password": d.Password, "instanceId": d.InstanceID, "instanceArn": d.InstanceARN,
		"securityGroupId": d.SecurityGroupID,
	}); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *RDS) build(ctx *pulumi.Context, name string, args RDSArgs) error {
	tags := func(resourceName string) pulumi.StringMap { return awstags.For(componentTag, resourceName, args.Tags) }
	subnets := pulumi.StringArray{}
	for _, zone := range args.Zones {
		subnets = append(subnets, args.SubnetIDs[zone])
	}
	subnetGroup, err := rds.NewSubnetGroup(ctx, name, &rds.SubnetGroupArgs{
		Description: pulumi.String("GitLab HA database: private subnets of every zone"),
		SubnetIds:   subnets,
		Tags:        tags(name),
	}, pulumi.Parent(d))
	if err != nil {
		return err
	}
	group, err := securitygroup.New(ctx, name, securitygroup.Args{
		Component: componentTag, VpcID: args.VpcID, Description: "GitLab HA database",
		Ingress: []securitygroup.Rule{{
			Key: "postgres-from-nodes", Description: "PostgreSQL from the cluster's nodes",
			FromPort: PostgresPort, FromGroup: args.ClientSecurityGroupID,
		}},
		Tags: args.Tags,
	}, d)
	if err != nil {
		return err
	}
	parameters := rds.ParameterGroupParameterArray{}
	for _, p := range gitlabParameters {
		parameters = append(parameters, &rds.ParameterGroupParameterArgs{Name: pulumi.String(p.name), Value: pulumi.String(p.value)})
	}
	parameterGroup, err := rds.NewParameterGroup(ctx, name, &rds.ParameterGroupArgs{
		Family:      pulumi.String("postgres" + args.EngineVersion),
		Description: pulumi.String("GitLab's recommended PostgreSQL settings"),
		Parameters:  parameters,
		Tags:        tags(name),
	}, pulumi.Parent(d))
	if err != nil {
		return err
	}

	instanceArgs := &rds.InstanceArgs{
		Engine:                       pulumi.String("postgres"),
		EngineVersion:                pulumi.String(args.EngineVersion),
		AutoMinorVersionUpgrade:      pulumi.Bool(true),
		InstanceClass:                pulumi.String(args.InstanceClass),
		AllocatedStorage:             pulumi.Int(args.AllocatedStorageGiB),
		MaxAllocatedStorage:          pulumi.Int(*args.MaxAllocatedStorageGiB),
		StorageType:                  pulumi.String("gp3"),
		StorageEncrypted:             pulumi.Bool(true),
		KmsKeyId:                     args.KMSKeyID,
		MultiAz:                      pulumi.Bool(*args.MultiAZ),
		DbSubnetGroupName:            subnetGroup.Name,
		VpcSecurityGroupIds:          pulumi.StringArray{group.ID()},
		PubliclyAccessible:           pulumi.Bool(false),
		ParameterGroupName:           parameterGroup.Name,
		DbName:                       pulumi.String(args.DatabaseName),
		Username:                     pulumi.String(args.Username),
		BackupRetentionPeriod:        pulumi.Int(*args.BackupRetentionDays),
		BackupWindow:                 pulumi.String(args.BackupWindow),
		MaintenanceWindow:            pulumi.String(args.MaintenanceWindow),
		CopyTagsToSnapshot:           pulumi.Bool(true),
		DeletionProtection:           pulumi.Bool(*args.DeletionProtection),
		SkipFinalSnapshot:            pulumi.Bool(args.SkipFinalSnapshot),
		PerformanceInsightsEnabled:   pulumi.Bool(true),
		EnabledCloudwatchLogsExports: pulumi.StringArray{pulumi.String("postgresql"), pulumi.String("upgrade")},
		Tags:                         tags(name),
	}
	if !args.SkipFinalSnapshot {
		// A new suffix whenever the instance would be replaced: the old instance's final snapshot takes its
		// name on the way out, and the new instance's must not collide with it (DBSnapshotAlreadyExists).
		suffix, err := random.NewRandomId(ctx, name+"-final-snapshot", &random.RandomIdArgs{
			ByteLength: pulumi.Int(4), Keepers: replacementKeepers(args),
		}, pulumi.Parent(d))
		if err != nil {
			return err
		}
		instanceArgs.FinalSnapshotIdentifier = pulumi.Sprintf("%s-final-%s", name, suffix.Hex)
	}
	var password pulumi.StringOutput
	if args.ManagedPassword {
		instanceArgs.ManageMasterUserPassword = pulumi.Bool(true)
	} else {
		generated, err := random.NewRandomPassword(ctx, name+"-master-password", &random.RandomPasswordArgs{
			Length: pulumi.Int(32),
			// RDS refuses '/', '@', '"' and spaces in master passwords.
			OverrideSpecial: pulumi.String("!#$%^&*()-_=+[]{}<>:?"),
		}, pulumi.Parent(d))
		if err != nil {
			return err
		}
		instanceArgs.Password = generated.Result
		password = generated.Result
	}
	instance, err := rds.NewInstance(ctx, name, instanceArgs,
		pulumi.Parent(d), pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect))
	if err != nil {
		return err
	}
	if args.ManagedPassword {
		password = managedPassword(ctx, d, instance)
	}

	d.Address = instance.Address
	d.Port = instance.Port
	d.DatabaseName = instance.DbName
	d.Username = instance.Username
	d.Password = pulumi.ToSecret(password).(pulumi.StringOutput)
	d.InstanceID = instance.Identifier
	d.InstanceARN = instance.Arn
	d.SecurityGroupID = group.ID().ToStringOutput()
	return nil
}

// managedPassword reads the password RDS keeps in Secrets Manager, as JSON {"username", "password"}.
func managedPassword(ctx *pulumi.Context, parent pulumi.Resource, instance *rds.Instance) pulumi.StringOutput {
	secretARN := instance.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem()
	version := secretsmanager.LookupSecretVersionOutput(ctx, secretsmanager.LookupSecretVersionOutputArgs{SecretId: secretARN}, pulumi.Parent(parent))
	return version.SecretString().ApplyT(func(raw string) (string, error) {
		var secret struct {
			Password string `json:"password"`
		}
		if err := json.Unmarshal([]byte(raw), &secret); err != nil {
			return "", fmt.Errorf("reading the RDS-managed password: %w", err)
		}
		return secret.Password, nil
	}).(pulumi.StringOutput)
}

// replacementKeepers are the instance's inputs whose change makes RDS build a new instance rather than
// modify it (TF AWS aws_db_instance: engine, db_name, username, kms_key_id and storage_encrypted force a new
// resource): the final snapshot's suffix changes with them.
func replacementKeepers(args RDSArgs) pulumi.StringMap {
	keepers := pulumi.StringMap{
		"engine": pulumi.String("postgres"), "dbName": pulumi.String(args.DatabaseName), "username": pulumi.String(args.Username),
		"storageEncrypted": pulumi.String("true"),
	}
	if args.KMSKeyID != nil {
		keepers["kmsKeyId"] = args.KMSKeyID
	}
	return keepers
}
