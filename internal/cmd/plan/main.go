// Command plan evaluates the real program with one stack's real configuration under the mock harness (no
// cloud credentials, no Pulumi CLI) and writes what it would register: resources.json, manifests/ and
// summary.md (see internal/plan).
//
//	go run ./internal/cmd/plan -stack prod -out plan/prod
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/internal/plan"
	"github.com/gitlab-ha/gitlab-ha/internal/stackconfig"
	"github.com/gitlab-ha/gitlab-ha/stacks"
	"github.com/gitlab-ha/gitlab-ha/stacks/all"
)

func main() {
	stack := flag.String("stack", "dev", "stack to plan: reads Pulumi.<stack>.yaml")
	out := flag.String("out", "", "folder to write the plan to (default plan/<stack>)")
	dir := flag.String("dir", ".", "folder holding Pulumi.yaml and the stack files")
	var sets settings
	flag.Var(&sets, "set", "a configuration value over the stack file's, key=value (repeatable), such as "+
		`'gitlab-ha:gitStorage={"kind":"gitaly-cluster"}'`)
	flag.Parse()
	if err := run(*dir, *stack, *out, sets...); err != nil {
		fmt.Fprintln(os.Stderr, "plan:", err)
		os.Exit(1)
	}
}

// settings are -set flags: key=value, each replacing the stack file's value of the key.
type settings []string

func (s *settings) String() string { return strings.Join(*s, " ") }

func (s *settings) Set(value string) error {
	if key, _, ok := strings.Cut(value, "="); !ok || !strings.Contains(key, ":") {
		return fmt.Errorf("%q is not namespace:key=value", value)
	}
	*s = append(*s, value)
	return nil
}

func run(dir, stack, out string, sets ...string) error {
	config, err := stackconfig.Load(dir, stack)
	if err != nil {
		return err
	}
	for _, set := range sets {
		key, value, _ := strings.Cut(set, "=")
		config.Config[key] = value
	}
	if out == "" {
		out = filepath.Join("plan", stack)
	}
	p, manifests, err := planStack(config)
	if err != nil {
		return err
	}
	if err := p.Write(out); err != nil {
		return err
	}
	fmt.Print(p.Summary())
	fmt.Printf("\nWrote %s: resources.json, %d manifests, summary.md\n", out, manifests)
	return nil
}

// planStack evaluates the project's program with one stack's configuration under the mock harness, as a
// preview, and returns the plan and how many manifests it holds.
func planStack(config *stackconfig.Stack) (*plan.Plan, int, error) {
	// A plan is a preview: what `pulumi preview` would register, placeholders and all. The program is the
	// project's, keeping the lines the stack has for the summary.
	var notes []string
	program := stacks.Program(func(ctx *pulumi.Context, cfg *stacks.Config) (*stacks.Outputs, error) {
		out, err := all.Deploy(ctx, cfg)
		if out != nil {
			notes = out.Notes
		}
		return out, err
	})
	result := componenttest.Run(program, componenttest.WithPreview(),
		componenttest.WithStack(config.Project, config.Name), componenttest.WithConfig(config.Config, config.SecretKeys...))
	if result.Err != nil {
		return nil, 0, result.Err
	}
	p := plan.New(config.Name, result)
	p.Notes = notes
	return p, len(p.Manifests()), nil
}
