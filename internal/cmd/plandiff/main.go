// Command plandiff compares two plans' resources.json and prints what a merge request changes: resources
// added, removed, and changed with the input paths that differ. Secrets stay redacted, as in the plans.
//
//	go run ./internal/cmd/plandiff plan-target/dev/resources.json plan/dev/resources.json
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"

	"github.com/gitlab-ha/gitlab-ha/internal/plan"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: plandiff BEFORE/resources.json AFTER/resources.json")
		os.Exit(2)
	}
	before, err := read(os.Args[1])
	if err == nil {
		var after *plan.Plan
		if after, err = read(os.Args[2]); err == nil {
			diff(os.Stdout, before, after)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "plandiff:", err)
	os.Exit(1)
}

func read(path string) (*plan.Plan, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p plan.Plan
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}

// diff writes one line per added (+), removed (-) and changed (~) resource, and a count.
func diff(w io.Writer, before, after *plan.Plan) {
	old := map[string]plan.Resource{}
	for _, r := range before.Resources {
		old[r.URN] = r
	}
	added, removed, changed := 0, 0, 0
	for _, r := range after.Resources {
		previous, existed := old[r.URN]
		delete(old, r.URN)
		switch {
		case !existed:
			added++
			fmt.Fprintf(w, "+ %s %s\n", r.Type, r.Name)
		default:
			paths := changedPaths("", previous.Inputs, r.Inputs)
			if previous.Protect != r.Protect {
				paths = append(paths, "(protect)")
			}
			if !reflect.DeepEqual(previous.Dependencies, r.Dependencies) {
				paths = append(paths, "(dependencies)")
			}
			if len(paths) > 0 {
				changed++
				fmt.Fprintf(w, "~ %s %s: %v\n", r.Type, r.Name, paths)
			}
		}
	}
	gone := make([]string, 0, len(old))
	for urn := range old {
		gone = append(gone, urn)
	}
	sort.Strings(gone)
	for _, urn := range gone {
		removed++
		fmt.Fprintf(w, "- %s %s\n", old[urn].Type, old[urn].Name)
	}
	fmt.Fprintf(w, "%d to add, %d to change, %d to remove\n", added, changed, removed)
}

// changedPaths lists the input paths whose values differ, descending into objects.
func changedPaths(prefix string, before, after map[string]any) []string {
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var paths []string
	for _, k := range sorted {
		b, bok := before[k].(map[string]any)
		a, aok := after[k].(map[string]any)
		if bok && aok {
			paths = append(paths, changedPaths(prefix+k+".", b, a)...)
		} else if !reflect.DeepEqual(before[k], after[k]) {
			paths = append(paths, prefix+k)
		}
	}
	return paths
}
