// Command promrules writes each PrometheusRule of a plan as a Prometheus rule file that promtool reads, so that
// the rules promtool judges are the ones the program registers: plan/<stack>/manifests/*_prometheusrule_*.yaml
// becomes plan/<stack>/rules/<name>.yaml, the object's spec (its groups) as it stands. With -tests, it copies
// promtool's unit-test files beside them, where their rule_files (the rule files' names) find them.
//
//	go run ./internal/cmd/promrules -plan plan/prod-monitoring -tests components/monitoring/testdata/alerts_test.yaml
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

func main() {
	planDir := flag.String("plan", "", "a plan's folder, holding manifests/")
	tests := flag.String("tests", "", "promtool unit-test files to copy beside the rule files, comma-separated")
	flag.Parse()
	if *planDir == "" {
		fmt.Fprintln(os.Stderr, "usage: promrules -plan plan/<stack> [-tests a_test.yaml,...]")
		os.Exit(2)
	}
	written, err := run(*planDir, *tests)
	if err != nil {
		fmt.Fprintln(os.Stderr, "promrules:", err)
		os.Exit(1)
	}
	fmt.Printf("promrules: %s\n", strings.Join(written, " "))
}

// run writes the rule files and copies the tests; it returns the rule files' paths. A plan without a
// PrometheusRule is an error: the judge would otherwise pass on nothing.
func run(planDir, tests string) ([]string, error) {
	manifests, err := filepath.Glob(filepath.Join(planDir, "manifests", "*_prometheusrule_*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(manifests) == 0 {
		return nil, fmt.Errorf("%s has no PrometheusRule: plan the stack with monitoring.prometheusOperator on", planDir)
	}
	sort.Strings(manifests)
	out := filepath.Join(planDir, "rules")
	if err := os.RemoveAll(out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, manifest := range manifests {
		path, err := writeRuleFile(manifest, out)
		if err != nil {
			return nil, err
		}
		written = append(written, path)
	}
	if tests != "" {
		for _, test := range strings.Split(tests, ",") {
			body, err := os.ReadFile(test)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(out, filepath.Base(test)), body, 0o644); err != nil {
				return nil, err
			}
		}
	}
	return written, nil
}

// writeRuleFile writes one PrometheusRule's spec as <out>/<name>.yaml.
func writeRuleFile(manifest, out string) (string, error) {
	body, err := os.ReadFile(manifest)
	if err != nil {
		return "", err
	}
	var object struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec map[string]any `yaml:"spec"`
	}
	if err := yaml.Unmarshal(body, &object); err != nil {
		return "", fmt.Errorf("%s: %w", manifest, err)
	}
	if object.Kind != "PrometheusRule" || object.Metadata.Name == "" || object.Spec["groups"] == nil {
		return "", fmt.Errorf("%s is not a PrometheusRule with a name and groups", manifest)
	}
	rules, err := yaml.Marshal(map[string]any{"groups": object.Spec["groups"]})
	if err != nil {
		return "", err
	}
	path := filepath.Join(out, object.Metadata.Name+".yaml")
	return path, os.WriteFile(path, rules, 0o644)
}
