// Command plan evaluates a program under the mock harness, with no cloud credentials and no Pulumi CLI, and
// writes what it would register: resources.json, manifests/ and summary.md (see internal/plan).
//
//	go run ./internal/cmd/plan -stack demo -out plan/demo
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/internal/plan"
)

// programs are the stacks this command can plan.
var programs = map[string]pulumi.RunFunc{
	"demo": demo,
}

// demo is the embedded default: GitLab on three zones, each with its own NFS mount target, an external
// PostgreSQL, and the in-cluster Redis.
func demo(ctx *pulumi.Context) error {
	args := &gitlab.GitLabArgs{
		ExternalURL: pulumi.String("https://gitlab.example.com"),
		Database:    gitlab.Database{Host: pulumi.String("postgres.example.internal"), Password: pulumi.ToSecret(pulumi.String("example")).(pulumi.StringOutput)},
		Service:     gitlab.Service{Type: "NodePort", NodePorts: gitlab.NodePorts{HTTP: 30080, SSH: 30022}},
	}
	for i, zone := range []string{"zone-a", "zone-b", "zone-c"} {
		args.Zones = append(args.Zones, gitlab.Zone{Name: zone, Storage: gitlab.Storage{
			NFS: &gitlab.NFS{Server: pulumi.Sprintf("10.0.%d.10", 10+i)},
		}})
	}
	component, err := gitlab.NewGitLab(ctx, "gitlab", args)
	if err != nil {
		return err
	}
	ctx.Export("url", component.URL)
	ctx.Export("deployments", component.Deployments)
	return nil
}

func main() {
	stack := flag.String("stack", "demo", "stack to plan: "+strings.Join(names(), ", "))
	out := flag.String("out", "", "folder to write the plan to (default plan/<stack>)")
	flag.Parse()
	if err := run(*stack, *out); err != nil {
		fmt.Fprintln(os.Stderr, "plan:", err)
		os.Exit(1)
	}
}

func run(stack, out string) error {
	program, ok := programs[stack]
	if !ok {
		return fmt.Errorf("unknown stack %q; known: %s", stack, strings.Join(names(), ", "))
	}
	if out == "" {
		out = filepath.Join("plan", stack)
	}
	result := componenttest.Run(program, componenttest.WithStack("gitlab-ha", stack))
	if result.Err != nil {
		return result.Err
	}
	p := plan.New(stack, result)
	if err := p.Write(out); err != nil {
		return err
	}
	fmt.Print(p.Summary())
	fmt.Printf("\nWrote %s: resources.json, %d manifests, summary.md\n", out, len(p.Manifests()))
	return nil
}

func names() []string {
	var list []string
	for name := range programs {
		list = append(list, name)
	}
	sort.Strings(list)
	return list
}
