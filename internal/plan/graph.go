package plan

import (
	"fmt"
	"sort"
	"strings"
)

// Path is a chain of resources, each waiting for the one before it, with its estimated minutes.
type Path struct {
	Minutes   float64
	Resources []Resource
}

// CriticalPath is the longest chain through every dependency the plan records: data, explicit DependsOn,
// and each resource's provider.
func (p *Plan) CriticalPath() Path {
	return p.longestPath(func(r Resource) []string { return r.Dependencies })
}

// LowerBound is the longest chain the data alone requires: only edges along which an output flows into an
// input (and each resource's provider, whose configuration is data too). No plan can deploy faster.
func (p *Plan) LowerBound() Path {
	return p.longestPath(func(r Resource) []string { return r.dataDependencies })
}

func (p *Plan) longestPath(edges func(Resource) []string) Path {
	byURN := map[string]Resource{}
	for _, r := range p.Resources {
		byURN[r.URN] = r
	}
	best := map[string]Path{}
	var visit func(urn string) Path
	visit = func(urn string) Path {
		if path, ok := best[urn]; ok {
			return path
		}
		r, ok := byURN[urn]
		if !ok {
			return Path{}
		}
		var longest Path
		for _, dep := range append(edges(r), r.Provider) {
			if dep == "" {
				continue
			}
			if path := visit(dep); path.Minutes > longest.Minutes {
				longest = path
			}
		}
		path := Path{Minutes: longest.Minutes + minutesOf(r), Resources: append(append([]Resource{}, longest.Resources...), r)}
		best[urn] = path
		return path
	}
	var longest Path
	for _, r := range p.Resources { // sorted by URN, so ties resolve the same way every time
		if path := visit(r.URN); path.Minutes > longest.Minutes+1e-9 {
			longest = path
		}
	}
	return longest
}

// Mermaid draws the dependency graph: an arrow from each resource to each resource that waits for it,
// components as subgraphs.
func (p *Plan) Mermaid() string {
	ids := map[string]string{}
	for i, r := range p.Resources {
		ids[r.URN] = fmt.Sprintf("r%d", i)
	}
	children := map[string][]Resource{}
	components := map[string]Resource{}
	for _, r := range p.Resources {
		if !r.Custom && !strings.HasPrefix(r.Type, "pulumi:") {
			components[r.URN] = r
		}
	}
	for _, r := range p.Resources {
		if _, isComponent := components[r.URN]; isComponent {
			continue
		}
		children[r.Parent] = append(children[r.Parent], r)
	}
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	parents := make([]string, 0, len(children))
	for parent := range children {
		parents = append(parents, parent)
	}
	sort.Strings(parents)
	for _, parent := range parents {
		component, inComponent := components[parent]
		indent := "  "
		if inComponent {
			fmt.Fprintf(&b, "  subgraph %s[\"%s %s\"]\n", ids[parent], shortType(component.Type), component.Name)
			indent = "    "
		}
		for _, r := range children[parent] {
			fmt.Fprintf(&b, "%s%s[\"%s %s\"]\n", indent, ids[r.URN], shortType(r.Type), strings.ReplaceAll(r.Name, `"`, "'"))
		}
		if inComponent {
			b.WriteString("  end\n")
		}
	}
	for _, r := range p.Resources {
		for _, dep := range append(append([]string{}, r.Dependencies...), r.Provider) {
			if _, ok := ids[dep]; ok && dep != "" {
				if _, isComponent := components[dep]; !isComponent {
					fmt.Fprintf(&b, "  %s --> %s\n", ids[dep], ids[r.URN])
				}
			}
		}
	}
	return b.String()
}

// shortType is "eks Cluster" for "aws:eks/cluster:Cluster".
func shortType(token string) string {
	parts := strings.Split(token, ":")
	if len(parts) != 3 {
		return token
	}
	module := parts[1]
	if i := strings.Index(module, "/"); i >= 0 {
		module = module[:i]
	}
	return module + " " + parts[2]
}

// criticalPathSummary is the summary's section on deployment time.
func (p *Plan) criticalPathSummary() string {
	critical, bound := p.CriticalPath(), p.LowerBound()
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Estimated deployment critical path\n\n")
	fmt.Fprintf(&b, "**%.1f minutes**: the longest chain of dependencies, each resource weighted by its typical provisioning "+
		"minutes (`internal/plan/durations.go`, every figure with its source). The lower bound, the longest chain the data "+
		"alone requires, is **%.1f minutes**", critical.Minutes, bound.Minutes)
	if critical.Minutes-bound.Minutes < 1e-9 {
		b.WriteString(": equal, so no dependency the plan adds makes the deployment slower.\n\n")
	} else {
		fmt.Fprintf(&b, ": explicit dependencies add %.1f minutes.\n\n", critical.Minutes-bound.Minutes)
	}
	b.WriteString("| # | resource | minutes | cumulative |\n| ---: | --- | ---: | ---: |\n")
	total := 0.0
	for i, r := range critical.Resources {
		total += minutesOf(r)
		fmt.Fprintf(&b, "| %d | `%s` %s | %.1f | %.1f |\n", i+1, r.Type, r.Name, minutesOf(r), total)
	}
	return b.String()
}
