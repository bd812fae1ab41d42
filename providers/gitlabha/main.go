// Command pulumi-resource-gitlab-ha is the project's component provider: the plugin through which a
// TypeScript, Python, .NET, Java or YAML program builds the same components a Go program imports. It serves
// schema.json (generated from the components' Args: make package) and constructs each component with its own
// NewX constructor (componentpkg).
//
// The Pulumi CLI builds it from this folder (PulumiPlugin.yaml, runtime go) when a program adds the package
// from the repository:
//
//	pulumi package add github.com/gitlab-ha/gitlab-ha/providers/gitlabha@<tag or commit>
package main

import (
	_ "embed"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"

	"github.com/gitlab-ha/gitlab-ha/providers/gitlabha/componentpkg"
)

const version = componentpkg.Version

//go:embed schema.json
var schema []byte

func main() {
	err := provider.Main(componentpkg.PackageName, func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		var engine *grpc.ClientConn
		if host != nil { // nil when started on its own, to be attached
			engine = host.EngineConn()
		}
		return componentpkg.NewServer(engine, version, schema), nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
