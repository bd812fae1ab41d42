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
			paths := append(changedPaths("", previous.Inputs, r.Inputs), changedOptions(previous, r)...)
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

// options are the resource options that change what an update does, as resources.json records them.
var options = []struct {
	name  string
	value func(plan.Resource) any
}{
	{"provider", func(r plan.Resource) any { return r.Provider }},
	{"protect", func(r plan.Resource) any { return r.Protect }},
	{"retainOnDelete", func(r plan.Resource) any { return r.RetainOnDelete }},
	{"customTimeouts", func(r plan.Resource) any { return r.CustomTimeouts }},
	{"deleteBeforeReplace", func(r plan.Resource) any { return r.DeleteBeforeReplace }},
	{"replaceOnChanges", func(r plan.Resource) any { return r.ReplaceOnChanges }},
	{"replaceWith", func(r plan.Resource) any { return r.ReplaceWith }},
	{"ignoreChanges", func(r plan.Resource) any { return r.IgnoreChanges }},
	{"aliases", func(r plan.Resource) any { return r.Aliases }},
	{"deletedWith", func(r plan.Resource) any { return r.DeletedWith }},
	{"importId", func(r plan.Resource) any { return r.ImportID }},
	{"dependencies", func(r plan.Resource) any { return r.Dependencies }},
}

// changedOptions names, in parentheses, each option whose value differs between before and after.
func changedOptions(before, after plan.Resource) []string {
	var changed []string
	for _, option := range options {
		if !reflect.DeepEqual(option.value(before), option.value(after)) {
			changed = append(changed, "("+option.name+")")
		}
	}
	return changed
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
