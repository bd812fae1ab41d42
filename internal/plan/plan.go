// Package plan turns what a program registered under the mock harness into files a reviewer can read and
// real tools can judge: resources.json (every resource, secrets redacted, sorted so two plans diff cleanly),
// manifests/ (every Kubernetes object as it would be sent), graph.mmd (the dependency graph) and summary.md
// (counts, and the estimated deployment critical path against its lower bound).
package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"gopkg.in/yaml.v3"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
)

// Redacted replaces every secret value in a plan.
const Redacted = "[secret]"

// Resource is one resource of a plan, in the resources.json contract: what the program sends, and every resource
// option that changes what an update does to it (those a resource leaves at their defaults are left out).
type Resource struct {
	URN            string `json:"urn"`
	Type           string `json:"type"`
	Name           string `json:"name"`
	Parent         string `json:"parent"`
	Provider       string `json:"provider"`
	Custom         bool   `json:"custom"`
	Protect        bool   `json:"protect"`
	RetainOnDelete bool   `json:"retainOnDelete"`
	// CustomTimeouts are how long the provider waits for the resource to be ready before failing the update.
	CustomTimeouts *CustomTimeouts `json:"customTimeouts,omitempty"`
	// DeleteBeforeReplace, ReplaceOnChanges and ReplaceWith decide when and in which order it is replaced;
	// IgnoreChanges which of its inputs an update leaves alone; Aliases which earlier identities it keeps;
	// DeletedWith which resource's deletion takes it along; ImportID which existing resource it adopts.
	DeleteBeforeReplace bool           `json:"deleteBeforeReplace,omitempty"`
	ReplaceOnChanges    []string       `json:"replaceOnChanges,omitempty"`
	ReplaceWith         []string       `json:"replaceWith,omitempty"`
	IgnoreChanges       []string       `json:"ignoreChanges,omitempty"`
	Aliases             []string       `json:"aliases,omitempty"`
	DeletedWith         string         `json:"deletedWith,omitempty"`
	ImportID            string         `json:"importId,omitempty"`
	Dependencies        []string       `json:"dependencies"`
	Inputs              map[string]any `json:"inputs"`

	dataDependencies []string // the subset the data implies; see LowerBound
}

// CustomTimeouts are a resource's timeouts as Pulumi takes them ("25m"); one left out is the provider's default.
type CustomTimeouts struct {
	Create string `json:"create,omitempty"`
	Update string `json:"update,omitempty"`
	Delete string `json:"delete,omitempty"`
}

// Plan is what one stack would register.
type Plan struct {
	Stack     string     `json:"stack"`
	Resources []Resource `json:"resources"`
	// Notes are the stack's own lines for the summary, on choices its resources alone do not show (where
	// GitLab keeps its objects); not part of resources.json.
	Notes []string `json:"-"`
}

// New builds a plan from a finished run, sorted by URN.
func New(stack string, result *componenttest.Result) *Plan {
	p := &Plan{Stack: stack}
	for _, r := range result.Resources {
		deps := append([]string{}, r.Dependencies...)
		sort.Strings(deps)
		var timeouts *CustomTimeouts
		if t := r.CustomTimeouts; t != nil {
			timeouts = &CustomTimeouts{Create: t.Create, Update: t.Update, Delete: t.Delete}
		}
		p.Resources = append(p.Resources, Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, Provider: providerURN(r.Provider),
			Custom: r.Custom, Protect: r.Protect, RetainOnDelete: r.RetainOnDelete, CustomTimeouts: timeouts,
			DeleteBeforeReplace: r.DeleteBeforeReplace, ReplaceOnChanges: sorted(r.ReplaceOnChanges),
			ReplaceWith: sorted(r.ReplaceWith), IgnoreChanges: sorted(r.IgnoreChanges), Aliases: sorted(r.Aliases),
			DeletedWith: r.DeletedWith, ImportID: r.ImportID, Dependencies: deps,
			Inputs:           Redact(resource.NewObjectProperty(r.Inputs)).(map[string]any),
			dataDependencies: append([]string{}, r.DataDependencies...),
		})
	}
	sort.Slice(p.Resources, func(i, j int) bool { return p.Resources[i].URN < p.Resources[j].URN })
	return p
}

// sorted is a sorted copy of a list, nil when it is empty, so that two plans list the same options alike.
func sorted(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(list))
}

// providerURN drops the "::id" of a provider reference: the ID is the mock's, the URN is the program's.
func providerURN(ref string) string {
	if i := strings.LastIndex(ref, "::"); i > 0 {
		return ref[:i]
	}
	return ref
}

// Redact turns a property value into plain JSON-able values with every secret value replaced by Redacted.
// A secret object or array keeps its shape and its keys (the names of a Secret's entries are not secret), so
// that a redacted manifest is still a valid object.
func Redact(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return redactLeaves(componenttest.Plain(v))
	case v.IsOutput():
		out := v.OutputValue()
		switch {
		case out.Secret:
			return redactLeaves(componenttest.Plain(out.Element))
		case out.Known:
			return Redact(out.Element)
		}
		return nil
	case v.IsObject():
		object := map[string]any{}
		for key, element := range v.ObjectValue() {
			object[string(key)] = Redact(element)
		}
		return object
	case v.IsArray():
		array := make([]any, 0, len(v.ArrayValue()))
		for _, element := range v.ArrayValue() {
			array = append(array, Redact(element))
		}
		return array
	}
	return componenttest.Plain(v)
}

func redactLeaves(v any) any {
	switch value := v.(type) {
	case map[string]any:
		for key, element := range value {
			value[key] = redactLeaves(element)
		}
		return value
	case []any:
		for i, element := range value {
			value[i] = redactLeaves(element)
		}
		return value
	}
	return Redacted
}

// Manifests returns every Kubernetes object of the plan, keyed by a file name that says what it is.
func (p *Plan) Manifests() map[string]map[string]any {
	manifests := map[string]map[string]any{}
	for _, r := range p.Resources {
		if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") {
			continue
		}
		object := map[string]any{}
		for k, v := range r.Inputs {
			object[k] = v
		}
		metadata, _ := object["metadata"].(map[string]any)
		namespace, _ := metadata["namespace"].(string)
		name, _ := metadata["name"].(string)
		if namespace == "" {
			namespace = "cluster"
		}
		kind, _ := object["kind"].(string)
		manifests[strings.ToLower(fmt.Sprintf("%s_%s_%s.yaml", namespace, kind, name))] = object
	}
	return manifests
}

// Write writes resources.json, manifests/ and summary.md into dir, replacing what a previous plan left.
func (p *Plan) Write(dir string) error {
	if err := os.RemoveAll(filepath.Join(dir, "manifests")); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "manifests"), 0o755); err != nil {
		return err
	}
	resources, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "resources.json"), append(resources, '\n'), 0o644); err != nil {
		return err
	}
	for file, object := range p.Manifests() {
		var body strings.Builder
		encoder := yaml.NewEncoder(&body)
		encoder.SetIndent(2)
		if err := encoder.Encode(object); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "manifests", file), []byte(body.String()), 0o644); err != nil {
			return err
		}
	}
	if err := p.writeUserData(dir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "graph.mmd"), []byte(p.Mermaid()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "summary.md"), []byte(p.Summary()), 0o644)
}

// Summary counts resources per type and per component, in Markdown.
func (p *Plan) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Plan for stack %s\n\n%d resources.\n\n", p.Stack, len(p.Resources))
	for _, note := range p.Notes {
		fmt.Fprintf(&b, "%s.\n\n", note)
	}
	b.WriteString("## Per type\n\n| type | count |\n| --- | ---: |\n")
	for _, row := range countBy(p.Resources, func(r Resource) string { return r.Type }) {
		fmt.Fprintf(&b, "| `%s` | %d |\n", row.key, row.count)
	}
	b.WriteString("\n## Per component\n\n| component | resources |\n| --- | ---: |\n")
	components := map[string]Resource{}
	for _, r := range p.Resources {
		if !r.Custom && !strings.HasPrefix(r.Type, "pulumi:") {
			components[r.URN] = r
		}
	}
	for _, row := range countBy(p.Resources, func(r Resource) string {
		if c, ok := components[r.Parent]; ok {
			return c.Type + " " + c.Name
		}
		return "(top level)"
	}) {
		fmt.Fprintf(&b, "| %s | %d |\n", row.key, row.count)
	}
	b.WriteString(p.criticalPathSummary())
	return b.String()
}

type count struct {
	key   string
	count int
}

func countBy(resources []Resource, key func(Resource) string) []count {
	counts := map[string]int{}
	for _, r := range resources {
		counts[key(r)]++
	}
	rows := make([]count, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, count{k, n})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].key < rows[j].key })
	return rows
}

// writeUserData writes every instance's cloud-config user data to userdata/<name>.yaml, as the instance would
// receive it, for cloud-init's own schema check (internal/ci/cloud-init-schema.sh).
func (p *Plan) writeUserData(dir string) error {
	userData := filepath.Join(dir, "userdata")
	if err := os.RemoveAll(userData); err != nil {
		return err
	}
	for _, r := range p.Resources {
		text, _ := r.Inputs["userData"].(string)
		if !strings.HasPrefix(text, "#cloud-config\n") {
			continue
		}
		if err := os.MkdirAll(userData, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(userData, r.Name+".yaml"), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}
