package database_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/database"
	"github.com/gitlab-ha/gitlab-ha/internal/awstest"
)

const (
	instanceType = "aws:rds/instance:Instance"
	ingressType  = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
)

func threeZones() *database.RDSArgs {
	return &database.RDSArgs{
		VpcID: pulumi.String("vpc-0abc"), ClientSecurityGroupID: pulumi.String("sg-nodes"),
		Zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
		SubnetIDs: map[string]pulumi.StringInput{
			"eu-west-1a": pulumi.String("subnet-a"), "eu-west-1b": pulumi.String("subnet-b"), "eu-west-1c": pulumi.String("subnet-c"),
		},
	}
}

func build(t *testing.T, args *database.RDSArgs) (*componenttest.Result, *database.RDS) {
	t.Helper()
	var db *database.RDS
	result := awstest.Run(func(ctx *pulumi.Context, provider pulumi.ProviderResource) error {
		var err error
		db, err = database.NewRDS(ctx, "gitlab-db", args, pulumi.Provider(provider))
		return err
	})
	require.NoError(t, result.Err)
	return result, db
}

func instance(t *testing.T, result *componenttest.Result) componenttest.Resource {
	t.Helper()
	instances := result.OfType(instanceType)
	require.Len(t, instances, 1)
	return instances[0]
}

func TestTheDatabaseIsMultiAZEncryptedPrivateAndBackedUpByDefault(t *testing.T) {
	result, _ := build(t, threeZones())
	db := instance(t, result)
	assert.Equal(t, true, db.Inputs["multiAz"].V)
	assert.Equal(t, true, db.Inputs["storageEncrypted"].V)
	assert.Equal(t, false, db.Inputs["publiclyAccessible"].V)
	assert.Equal(t, float64(30), db.Inputs["backupRetentionPeriod"].V)
	assert.Equal(t, "03:00-04:00", db.InputString("backupWindow"))
	assert.Equal(t, "sun:04:30-sun:05:30", db.InputString("maintenanceWindow"))
	assert.Equal(t, true, db.Inputs["deletionProtection"].V)
	assert.Equal(t, false, db.Inputs["skipFinalSnapshot"].V)
	assert.Equal(t, "postgres", db.InputString("engine"))
	assert.Equal(t, "16", db.InputString("engineVersion"))
	subnetGroup := result.OfType("aws:rds/subnetGroup:SubnetGroup")[0]
	assert.Equal(t, []any{"subnet-a", "subnet-b", "subnet-c"}, subnetGroup.MustInput(t, "subnetIds"))
}

func TestTheFinalSnapshotIsNamedUniquely(t *testing.T) {
	withKey := threeZones()
	withKey.KMSKeyID = pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/gitlab")
	result, _ := build(t, withKey)
	snapshot := instance(t, result).InputString("finalSnapshotIdentifier")
	assert.Regexp(t, regexp.MustCompile(`^gitlab-db-final-[0-9a-f]{8}$`), snapshot)

	// The suffix is drawn anew whenever the instance would be replaced, so that the old instance's final
	// snapshot and the new one's never share a name: its keepers are the inputs that replace the instance.
	suffix := result.OfType("random:index/randomId:RandomId")[0]
	keepers := suffix.InputMap("keepers")
	db := instance(t, result)
	for keeper, input := range map[string]string{"engine": "engine", "dbName": "dbName", "username": "username", "kmsKeyId": "kmsKeyId"} {
		assert.Equal(t, db.InputString(input), keepers[keeper], keeper)
	}
	assert.Equal(t, "true", keepers["storageEncrypted"])
	assert.Equal(t, "arn:aws:kms:eu-west-1:123456789012:key/gitlab", keepers["kmsKeyId"])

	args := threeZones()
	args.SkipFinalSnapshot, args.DeletionProtection = true, pulumi.BoolRef(false)
	relaxed, _ := build(t, args)
	db = instance(t, relaxed)
	_, named := db.Input("finalSnapshotIdentifier")
	assert.False(t, named, "a dev stack that skips the snapshot names none")
	assert.Equal(t, false, db.Inputs["deletionProtection"].V)
	assert.Empty(t, relaxed.OfType("random:index/randomId:RandomId"))
}

func TestOnlyTheClusterNodesMayConnectAndOnlyToPostgres(t *testing.T) {
	result, db := build(t, threeZones())
	rules := result.OfType(ingressType)
	require.Len(t, rules, 1)
	rule := rules[0]
	assert.Equal(t, "sg-nodes", rule.InputString("referencedSecurityGroupId"))
	_, fromCIDR := rule.Input("cidrIpv4")
	assert.False(t, fromCIDR, "no address range, only the nodes' group")
	assert.Equal(t, float64(5432), rule.Inputs["fromPort"].V)
	assert.Equal(t, float64(5432), rule.Inputs["toPort"].V)
	assert.Equal(t, awstest.Value(t, db.SecurityGroupID), rule.InputString("securityGroupId"))
	assert.Empty(t, result.OfType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"), "a database only answers")
	assert.Equal(t, []any{awstest.Value(t, db.SecurityGroupID)}, instance(t, result).MustInput(t, "vpcSecurityGroupIds"))
}

func TestTheParameterGroupCarriesGitLabsSettings(t *testing.T) {
	result, _ := build(t, threeZones())
	group := result.OfType("aws:rds/parameterGroup:ParameterGroup")[0]
	assert.Equal(t, "postgres16", group.InputString("family"))
	parameters := map[string]string{}
	list, _ := group.Input("parameters")
	for _, p := range list.([]any) {
		parameter := p.(map[string]any)
		parameters[parameter["name"].(string)] = parameter["value"].(string)
	}
	assert.Equal(t, map[string]string{
		"statement_timeout": "60000", "idle_in_transaction_session_timeout": "60000", "deadlock_timeout": "5000",
		"log_lock_waits": "1", "rds.force_ssl": "1",
	}, parameters)
}

func TestTheGeneratedPasswordIsSecretEverywhere(t *testing.T) {
	result, db := build(t, threeZones())
	password, _ := result.OfType("random:index/randomPassword:RandomPassword")[0].Output("result")
	assert.Empty(t, result.PlaintextLeaks(password.(string)))
	assert.True(t, instance(t, result).InputIsSecret("password"))
	got, err := componenttest.Await(db.Password)
	require.NoError(t, err)
	assert.True(t, got.Secret)
	assert.Equal(t, password, got.Value)
}

func TestAnRDSManagedPasswordIsReadBackForGitLab(t *testing.T) {
	args := threeZones()
	args.ManagedPassword = true
	result, db := build(t, args)
	_, hasPassword := instance(t, result).Input("password")
	assert.False(t, hasPassword, "RDS generates it")
	assert.Equal(t, true, instance(t, result).Inputs["manageMasterUserPassword"].V)
	assert.Contains(t, result.Invokes, "aws:secretsmanager/getSecretVersion:getSecretVersion")
	got, err := componenttest.Await(db.Password)
	require.NoError(t, err)
	assert.True(t, got.Secret)
	assert.Regexp(t, `^[0-9a-f]{32}$`, got.Value)
}

func TestOutputsHaveTheShapeGitLabNeeds(t *testing.T) {
	_, db := build(t, threeZones())
	assert.Regexp(t, `\.rds\.amazonaws\.com$`, awstest.Value(t, db.Address))
	assert.Equal(t, 5432, awstest.Value(t, db.Port))
	assert.Equal(t, "gitlabhq_production", awstest.Value(t, db.DatabaseName))
	assert.Equal(t, "gitlab", awstest.Value(t, db.Username))
}

func TestProtectGuardsTheInstanceOnly(t *testing.T) {
	args := threeZones()
	args.Protect = true
	result, _ := build(t, args)
	for _, r := range result.Resources {
		assert.Equal(t, r.Type == instanceType, r.Protect, "%s %s", r.Type, r.Name)
		assert.Equal(t, r.Type == instanceType, r.RetainOnDelete, "%s %s", r.Type, r.Name)
	}
}

func TestEveryChildIsParentedTaggedAndUsesTheGivenProvider(t *testing.T) {
	result, _ := build(t, threeZones())
	children := awstest.CheckComponent(t, result, result.Components()[0].URN)
	assert.Len(t, children, len(result.Resources)-2, "all but the provider and the component")
}

func TestBadArgsGiveOneClearErrorAndRegisterNothing(t *testing.T) {
	cases := []struct {
		name string
		edit func(*database.RDSArgs)
		want string
	}{
		{"no client group", func(a *database.RDSArgs) { a.ClientSecurityGroupID = nil }, "clientSecurityGroupId: is required"},
		{"one zone", func(a *database.RDSArgs) { a.Zones = a.Zones[:1] }, "zones: 1 zones given; at least 2 needed"},
		{"zone without subnet", func(a *database.RDSArgs) { delete(a.SubnetIDs, "eu-west-1c") }, `subnetIds["eu-west-1c"]: is required`},
		{"engine too old for GitLab 18", func(a *database.RDSArgs) { a.EngineVersion = "15" }, `engineVersion: "15" is below 16`},
		{"engine not a major version", func(a *database.RDSArgs) { a.EngineVersion = "16.4" }, `engineVersion: "16.4" is not a PostgreSQL major version`},
		{"storage below the engine minimum", func(a *database.RDSArgs) { a.AllocatedStorageGiB = 10 }, "allocatedStorageGiB: 10 is outside 20-65536 GiB"},
		{"autoscaling limit below the storage", func(a *database.RDSArgs) { a.MaxAllocatedStorageGiB = pulumi.IntRef(50) },
			"maxAllocatedStorageGiB: 50 must be 0 (no autoscaling) or from allocatedStorageGiB (100)"},
		{"retention above 35", func(a *database.RDSArgs) { a.BackupRetentionDays = pulumi.IntRef(36) }, "backupRetentionDays: 36 is outside 0-35"},
		{"negative retention", func(a *database.RDSArgs) { a.BackupRetentionDays = pulumi.IntRef(-1) }, "backupRetentionDays: -1 is outside 0-35"},
		{"bad backup window", func(a *database.RDSArgs) { a.BackupWindow = "3am" }, `backupWindow: "3am"`},
		{"bad maintenance window", func(a *database.RDSArgs) { a.MaintenanceWindow = "sunday:04:00-sunday:05:00" }, `maintenanceWindow: "sunday:04:00-sunday:05:00"`},
		{"reserved user", func(a *database.RDSArgs) { a.Username = "postgres" }, `username: "postgres" is reserved`},
		{"bad instance class", func(a *database.RDSArgs) { a.InstanceClass = "m6g.large" }, `instanceClass: "m6g.large"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := threeZones()
			tc.edit(args)
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := database.NewRDS(ctx, "gitlab-db", args)
				return err
			}, fmt.Sprintf("database %q: %s", "gitlab-db", tc.want))
		})
	}
}
