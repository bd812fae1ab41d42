// Package linodedb builds GitLab's PostgreSQL on Linode: a managed PostgreSQL cluster whose outputs have the
// shape the AWS database's have (postgres.Endpoint), so the GitLab component does not care which it got.
//
// GitLab reaches it on its private host, over the data center's private network, where LKE's nodes have
// their private addresses. The Linode provider this project pins can put neither LKE nodes nor a managed
// database in a VPC, and LKE picks node addresses as pools scale and recycle, so the allow-list that admits
// every node is the private network's range, which other customers' machines share: the database must
// require TLS, and NewLinodePostgres fails the update if Linode says it does not.
package linodedb

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
	"github.com/gitlab-ha/gitlab-ha/internal/postgres"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// LinodePostgresTypeToken is the Linode database component's Pulumi type.
const LinodePostgresTypeToken = "gitlab-ha:database:LinodePostgres"

// linodeDatabaseName is the database every Linode managed PostgreSQL comes with.
const linodeDatabaseName = "defaultdb"

// LinodePostgresArgs configures a Linode managed PostgreSQL.
type LinodePostgresArgs struct {
	// Region, e.g. "eu-central". Required.
	Region string
	// EngineVersion is the PostgreSQL major version, at least 16. Default postgres.DefaultEngineVersion.
	EngineVersion string
	// Type of each node. Default "g6-dedicated-2".
	Type string
	// ClusterSize is 3 (a primary and two standbys, for high availability; the default) or 1.
	ClusterSize int
	// AllowedCIDRs are the only networks that may connect: for LKE's nodes, linodekit.PrivateRange (their
	// private addresses, which the autoscaler keeps changing). Required; never 0.0.0.0/0.
	AllowedCIDRs []string
	// Protect guards the database against deletion (pulumi protect and retainOnDelete). Default false.
	Protect bool
}

// Endpoint is what GitLab needs of a database, the same on every platform.
type Endpoint = postgres.Endpoint

// LinodePostgres is the component; its Endpoint has the shape the RDS component's has.
type LinodePostgres struct {
	pulumi.ResourceState
	Endpoint

	DatabaseID pulumi.IntOutput
}

func withLinodePostgresDefaults(args LinodePostgresArgs) LinodePostgresArgs {
	if args.EngineVersion == "" {
		args.EngineVersion = postgres.DefaultEngineVersion
	}
	if args.Type == "" {
		args.Type = "g6-dedicated-2"
	}
	if args.ClusterSize == 0 {
		args.ClusterSize = 3
	}
	return args
}

// ValidateLinodePostgres reports the first problem with args.
func ValidateLinodePostgres(args *LinodePostgresArgs) error {
	return validateLinodePostgres(withLinodePostgresDefaults(*args))
}

// validateLinodePostgres checks args that already have their defaults.
func validateLinodePostgres(a LinodePostgresArgs) error {
	if err := linodekit.Region("region", a.Region); err != nil {
		return err
	}
	major, err := strconv.Atoi(a.EngineVersion)
	if err != nil || major < postgres.MinEngineVersion {
		return validate.Errorf("engineVersion", a.EngineVersion, "is not a PostgreSQL major version of at least %d", postgres.MinEngineVersion)
	}
	if a.ClusterSize != 1 && a.ClusterSize != 3 {
		return validate.Errorf("clusterSize", a.ClusterSize, "is not 1 or 3, the sizes Linode offers")
	}
	return linodekit.NoOpenRange("allowedCidrs", a.AllowedCIDRs)
}

// NewLinodePostgres validates args, then creates the database.
func NewLinodePostgres(ctx *pulumi.Context, name string, args *LinodePostgresArgs, opts ...pulumi.ResourceOption) (*LinodePostgres, error) {
	if args == nil {
		return nil, fmt.Errorf("database %q: args are required", name)
	}
	a := withLinodePostgresDefaults(*args)
	if err := validateLinodePostgres(a); err != nil {
		return nil, fmt.Errorf("database %q: %w", name, err)
	}
	d := &LinodePostgres{}
	if err := ctx.RegisterComponentResource(LinodePostgresTypeToken, name, d, opts...); err != nil {
		return nil, err
	}
	db, err := linode.NewDatabasePostgresqlV2(ctx, name, &linode.DatabasePostgresqlV2Args{
		Label: pulumi.String(linodekit.Label(ctx, name)), Region: pulumi.String(a.Region), EngineId: pulumi.String("postgresql/" + a.EngineVersion),
		Type: pulumi.String(a.Type), ClusterSize: pulumi.Int(a.ClusterSize), AllowLists: pulumi.ToStringArray(a.AllowedCIDRs),
		// Weekly updates, Sunday 04:00 UTC, the hour after the AWS stacks' backup window.
		Updates: &linode.DatabasePostgresqlV2UpdatesArgs{
			Frequency: pulumi.String("weekly"), DayOfWeek: pulumi.Int(7), HourOfDay: pulumi.Int(4), Duration: pulumi.Int(1),
		},
	}, pulumi.Parent(d), pulumi.Protect(a.Protect), pulumi.RetainOnDelete(a.Protect))
	if err != nil {
		return nil, err
	}
	d.Address, d.Port = privateHost(name, db), db.Port
	d.DatabaseName = pulumi.String(linodeDatabaseName).ToStringOutput()
	d.Username = db.RootUsername
	d.Password = pulumi.ToSecret(db.RootPassword).(pulumi.StringOutput)
	d.DatabaseID = linodekit.IntID(db.ID())
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"address": d.Address, "port": d.Port, "databaseName": d.DatabaseName, "username": d.Username,
		"password": d.Password, "databaseId": d.DatabaseID,
	}); err != nil {
		return nil, err
	}
	return d, nil
}

// privateHost is the database's host on the data center's private network, once Linode has confirmed that
// the database requires TLS: with an allow-list as wide as the private network, a database that took
// plain-text connections would show its traffic to the network, so the update fails instead. The provider
// cannot ask for TLS (sslConnection is an output); Linode's managed databases report it on.
func privateHost(name string, db *linode.DatabasePostgresqlV2) pulumi.StringOutput {
	return pulumi.All(db.HostSecondary, db.SslConnection).ApplyT(func(v []any) (string, error) {
		host, tls := v[0].(string), v[1].(bool)
		if !tls {
			return "", fmt.Errorf("database %q: Linode reports sslConnection false; its allow-list admits the data center's private network, so it must require TLS", name)
		}
		if host == "" {
			return "", fmt.Errorf("database %q: Linode reports no private host; GitLab's pods reach the database over the private network only", name)
		}
		return host, nil
	}).(pulumi.StringOutput)
}
