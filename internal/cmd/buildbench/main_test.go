package main

import (
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// importsOf parses a generated floor and returns its imports.
func importsOf(t *testing.T, source string) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "main.go", source, parser.ImportsOnly)
	if err != nil {
		t.Fatalf("the floor is not Go: %v\n%s", err, source)
	}
	var paths []string
	for _, spec := range file.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		paths = append(paths, path)
	}
	return paths
}

func TestTheFloorImportsTheEntryPointsComponentsAndProvidersAndNothingOfItsComposition(t *testing.T) {
	deps := []string{
		"fmt", "github.com/pulumi/pulumi/sdk/v3/go/pulumi",
		module + "/internal/validate", module + "/providers/linodeprovider", module + "/components/gitlab",
		module + "/components/cluster/lke", module + "/providers", module + "/stacks", module + "/stacks/linode",
		module + "/examples/linode", module + "/providers/gitlabha/componentpkg", module + "/providers/gitlabha",
	}
	got := importsOf(t, floorProgram(deps))
	want := []string{
		"github.com/pulumi/pulumi/sdk/v3/go/pulumi",
		module + "/components/cluster/lke", module + "/components/gitlab", module + "/providers", module + "/providers/linodeprovider",
	}
	if len(got) != len(want) {
		t.Fatalf("imports %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("imports %v, want %v", got, want)
		}
	}
}
