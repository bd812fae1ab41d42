// Package componentpkg serves the project's components as a Pulumi component package: the schema that
// describes them (generated from their Args by reflection, their doc comments read with go/ast), and Construct,
// which decodes a program's inputs into the same Args and calls the same NewX constructors a Go program calls,
// so a TypeScript, Python or YAML program gets the same resources under the same names.
//
// Components lists the packaged components; everything else is derived from their Go types, so an Args field
// added to a component reaches the schema (make package) and Construct without a line here.
package componentpkg

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/cluster"
	"github.com/gitlab-ha/gitlab-ha/components/cluster/lke"
	"github.com/gitlab-ha/gitlab-ha/components/database"
	"github.com/gitlab-ha/gitlab-ha/components/database/linodedb"
	"github.com/gitlab-ha/gitlab-ha/components/filesystem"
	"github.com/gitlab-ha/gitlab-ha/components/filesystem/linodenfs"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly/ebs"
	"github.com/gitlab-ha/gitlab-ha/components/gitaly/gitalycluster"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer/nodebalancer"
	"github.com/gitlab-ha/gitlab-ha/components/monitoring"
	"github.com/gitlab-ha/gitlab-ha/components/monitoring/cloudwatch"
	"github.com/gitlab-ha/gitlab-ha/components/network"
	"github.com/gitlab-ha/gitlab-ha/components/network/linodevpc"
	"github.com/gitlab-ha/gitlab-ha/components/objectstorage"
	"github.com/gitlab-ha/gitlab-ha/components/objectstorage/linodeobj"
	"github.com/gitlab-ha/gitlab-ha/components/redis"
)

// PackageName is the schema's package name: the first part of every type token.
const PackageName = "gitlab-ha"

// Version is the package's, in the schema and the plugin. The CLI knows a plugin it built from Git by the tag
// or commit it was built from.
const Version = "0.1.0"

// Component is one packaged component: its type token, the Go types of its Args and of itself, and its
// constructor.
type Component struct {
	Token    string       // e.g. "gitlab-ha:gitlab:GitLab"
	Args     reflect.Type // the Args struct, e.g. gitlab.GitLabArgs
	Resource reflect.Type // the component struct, e.g. gitlab.GitLab
	new      func(ctx *pulumi.Context, name string, args any, opts ...pulumi.ResourceOption) (pulumi.ComponentResource, error)
}

// Module is the token's middle part: "gitlab" for "gitlab-ha:gitlab:GitLab".
func (c Component) Module() string { return strings.Split(c.Token, ":")[1] }

// Name is the token's last part: "GitLab".
func (c Component) Name() string { return strings.Split(c.Token, ":")[2] }

// NewComponent adapts a NewX constructor; A is its Args struct, C its component struct.
func NewComponent[A any, C pulumi.ComponentResource](token string,
	newX func(*pulumi.Context, string, *A, ...pulumi.ResourceOption) (C, error),
) Component {
	return Component{
		Token:    token,
		Args:     reflect.TypeFor[A](),
		Resource: reflect.TypeFor[C]().Elem(),
		new: func(ctx *pulumi.Context, name string, args any, opts ...pulumi.ResourceOption) (pulumi.ComponentResource, error) {
			c, err := newX(ctx, name, args.(*A), opts...)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	}
}

// Components are the public components, in the order the schema and the README list them.
var Components = []Component{
	NewComponent(gitlab.TypeToken, gitlab.NewGitLab),
	NewComponent(gitaly.TypeToken, gitaly.NewGitaly),
	NewComponent(gitalycluster.TypeToken, gitalycluster.NewGitalyCluster),
	NewComponent(ebs.TypeToken, ebs.NewEBSStorage),
	NewComponent(network.TypeToken, network.NewNetwork),
	NewComponent(linodevpc.LinodeVPCTypeToken, linodevpc.NewLinodeVPC),
	NewComponent(cluster.EKSTypeToken, cluster.NewEKS),
	NewComponent(lke.LKETypeToken, lke.NewLKE),
	NewComponent(database.RDSTypeToken, database.NewRDS),
	NewComponent(linodedb.LinodePostgresTypeToken, linodedb.NewLinodePostgres),
	NewComponent(linodedb.NodeAllowListTypeToken, linodedb.NewNodeAllowList),
	NewComponent(filesystem.EFSTypeToken, filesystem.NewEFS),
	NewComponent(linodenfs.LinodeNFSTypeToken, linodenfs.NewLinodeNFS),
	NewComponent(loadbalancer.NLBTypeToken, loadbalancer.NewNLB),
	NewComponent(nodebalancer.NodeBalancerTypeToken, nodebalancer.NewNodeBalancer),
	NewComponent(objectstorage.S3TypeToken, objectstorage.NewS3),
	NewComponent(linodeobj.TypeToken, linodeobj.NewLinodeObjectStorage),
	NewComponent(redis.ElastiCacheTypeToken, redis.NewElastiCache),
	NewComponent(monitoring.TypeToken, monitoring.NewMonitoring),
	NewComponent(cloudwatch.TypeToken, cloudwatch.NewCloudWatchAlarms),
}

// Lookup finds the component with a type token.
func Lookup(token string) (Component, error) {
	for _, c := range Components {
		if c.Token == token {
			return c, nil
		}
	}
	return Component{}, fmt.Errorf("gitlab-ha: unknown component type %q", token)
}
