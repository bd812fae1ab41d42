// Package postgres holds what every platform's database component shares, with no cloud SDK: GitLab's
// PostgreSQL floor and the shape of a database's outputs. The AWS and Linode database packages both embed
// it, so the GitLab component gets the same shape from either, and neither compiles the other's SDK.
package postgres

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Versions GitLab 18 imposes on any platform's PostgreSQL.
const (
	// MinEngineVersion is the oldest PostgreSQL major version GitLab 18 runs on.
	MinEngineVersion = 16
	// DefaultEngineVersion is the major version databases run unless told otherwise.
	DefaultEngineVersion = "16"
	// Port is where PostgreSQL listens.
	Port = 5432
)

// Endpoint is what GitLab needs of a database, on any platform.
type Endpoint struct {
	Address      pulumi.StringOutput
	Port         pulumi.IntOutput
	DatabaseName pulumi.StringOutput
	Username     pulumi.StringOutput
	// Password is secret.
	Password pulumi.StringOutput
}
