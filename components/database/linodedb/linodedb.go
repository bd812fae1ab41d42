// Package linodedb builds GitLab's PostgreSQL on Linode: a managed PostgreSQL cluster whose outputs have the
// shape the AWS database's have (postgres.Endpoint), so the GitLab component does not care which it got, and
// the reconciler in the cluster that keeps the database admitting the cluster's nodes (allowlist.go).
//
// GitLab connects to the primary host, the only one that takes writes. Linode's current managed databases
// (the rdbms-default platform) have two hosts, primary and standby (the read-only replicas), both public DNS
// names; their only private path is a VPC, which the pinned provider cannot ask for. Pods leave an LKE node
// from the node's public IPv4 address, so the allow-list holds the nodes' public addresses, each a /32: the
// stack's nodes at create, then whatever nodes the autoscaler gives the cluster, kept by the reconciler. The
// database requires TLS, and NewLinodePostgres fails the update if Linode says it does not.
package linodedb

import (
	"fmt"
	"sort"
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
	// NodeAddresses are the public IPv4 addresses of the cluster's nodes (the LKE component's NodeAddresses),
	// which the allow-list admits as /32s when the database is created. Pulumi sends the allow-list once: the
	// NodeAllowList reconciler owns it from then on (the autoscaler replaces nodes, and with them their
	// addresses), so later changes are ignored rather than fought over. Required.
	NodeAddresses pulumi.StringArrayInput
	// ClientCIDRs are public networks beside the nodes that may connect, e.g. an operator's. Default none. A
	// private range is refused: nothing from one reaches a database with public hosts only.
	ClientCIDRs []string
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
	if a.NodeAddresses == nil {
		return validate.Missing("nodeAddresses")
	}
	if literal, ok := validate.LiteralStrings(a.NodeAddresses); ok {
		for i, address := range literal {
			if !linodekit.IsPublicIPv4(address) {
				return validate.Errorf(fmt.Sprintf("nodeAddresses[%d]", i), address, "is not a public IPv4 address; pods leave LKE nodes from their public addresses")
			}
		}
	}
	return linodekit.PublicRanges("clientCidrs", a.ClientCIDRs)
}

// allowList is what the database admits at create: each node's public address as a /32, then the clients'
// networks, in order and without repeats.
func allowList(a LinodePostgresArgs) pulumi.StringArrayOutput {
	return a.NodeAddresses.ToStringArrayOutput().ApplyT(func(nodes []string) ([]string, error) {
		entries, seen := []string{}, map[string]bool{}
		for _, address := range nodes {
			if !linodekit.IsPublicIPv4(address) {
				return nil, fmt.Errorf("node address %q is not a public IPv4 address", address)
			}
			entries = append(entries, address+"/32")
		}
		sort.Strings(entries)
		var out []string
		for _, entry := range append(entries, a.ClientCIDRs...) {
			if !seen[entry] {
				seen[entry] = true
				out = append(out, entry)
			}
		}
		return out, nil
	}).(pulumi.StringArrayOutput)
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
		Type: pulumi.String(a.Type), ClusterSize: pulumi.Int(a.ClusterSize), AllowLists: allowList(a),
		// Weekly updates, Sunday 04:00 UTC, the hour after the AWS stacks' backup window.
		Updates: &linode.DatabasePostgresqlV2UpdatesArgs{
			Frequency: pulumi.String("weekly"), DayOfWeek: pulumi.Int(7), HourOfDay: pulumi.Int(4), Duration: pulumi.Int(1),
		},
	}, pulumi.Parent(d), pulumi.Protect(a.Protect), pulumi.RetainOnDelete(a.Protect),
		// The reconciler keeps the allow-list equal to the cluster's nodes; Pulumi sets it at create only.
		pulumi.IgnoreChanges([]string{"allowLists"}))
	if err != nil {
		return nil, err
	}
	d.Address, d.Port = primaryHost(name, db), db.Port
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

// primaryHost is the database's primary host, the one that takes writes, once Linode has confirmed that the
// database requires TLS (its hosts are public, so plain-text connections would cross the internet). The
// provider cannot ask for TLS (sslConnection is an output); Linode's managed databases report it on. The
// provider's other host, hostSecondary, is the API's "secondary", which these databases no longer report
// (they report "standby", the read-only replicas, which the pinned provider does not read), so it is never
// used: a database without a primary host fails the update here, before anything that needs it is created.
func primaryHost(name string, db *linode.DatabasePostgresqlV2) pulumi.StringOutput {
	return pulumi.All(db.HostPrimary, db.SslConnection).ApplyT(func(v []any) (string, error) {
		host, tls := v[0].(string), v[1].(bool)
		if host == "" {
			return "", fmt.Errorf("database %q: Linode reports no primary host (hostPrimary is empty); GitLab writes to the primary, "+
				"and the standby hosts are read-only replicas", name)
		}
		if !tls {
			return "", fmt.Errorf("database %q: Linode reports sslConnection false; its hosts are public, so it must require TLS", name)
		}
		return host, nil
	}).(pulumi.StringOutput)
}

// Ready is an option that holds back a resource (and, given to a component, all its children) until the
// database has a primary host that requires TLS: with it, a database Linode created without one fails the
// update before anything is registered that would wait on it.
func (d *LinodePostgres) Ready() pulumi.ResourceOption {
	return pulumi.DependsOnInputs(d.Address.ApplyT(func(string) []pulumi.Resource { return []pulumi.Resource{d} }).(pulumi.ResourceArrayOutput))
}
