// Command k8sschemas turns Kubernetes' OpenAPI v2 spec (api/openapi-spec/swagger.json of the k8s.io/kubernetes
// module) into the JSON schemas kubeconform reads: one standalone, strict file per kind, named as kubeconform
// looks them up ("deployment-apps-v1.json", "service-v1.json"). No package ships these schemas and nothing
// may be fetched from outside, so the project makes them offline from the official spec.
//
// With -crds it does the same for CustomResourceDefinitions (the Prometheus Operator's, from its Go module's
// example/prometheus-operator-crd): one file per kind and served version, from the version's openAPIV3Schema,
// closed to undeclared properties except where the CRD preserves unknown fields.
//
//	go run ./internal/cmd/k8sschemas -spec swagger.json -out .cache/schemas/v1.36.3
//	go run ./internal/cmd/k8sschemas -crds 'dir/*.yaml' -out .cache/schemas/prometheus-operator-v0.94.0
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	spec := flag.String("spec", "", "path of swagger.json")
	crds := flag.String("crds", "", "a glob of CustomResourceDefinition YAML files, instead of -spec")
	out := flag.String("out", "", "folder to write the schemas to")
	flag.Parse()
	if (*spec == "") == (*crds == "") || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: k8sschemas -spec swagger.json -out DIR, or k8sschemas -crds 'GLOB' -out DIR")
		os.Exit(2)
	}
	convertFrom, from := convert, *spec
	if *crds != "" {
		convertFrom, from = convertCRDs, *crds
	}
	n, err := convertFrom(from, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8sschemas:", err)
		os.Exit(1)
	}
	fmt.Printf("k8sschemas: %d kinds written to %s\n", n, *out)
}

type definitions map[string]map[string]any

func convert(specPath, out string) (int, error) {
	body, err := os.ReadFile(specPath)
	if err != nil {
		return 0, err
	}
	var spec struct {
		Definitions definitions `json:"definitions"`
	}
	if err := json.Unmarshal(body, &spec); err != nil {
		return 0, fmt.Errorf("%s: %w", specPath, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	written := 0
	for name, definition := range spec.Definitions {
		for _, gvk := range groupVersionKinds(definition) {
			schema := spec.Definitions.standalone(name, map[string]bool{}).(map[string]any)
			if err := writeSchema(out, gvk, schema); err != nil {
				return written, err
			}
			written++
		}
	}
	return written, nil
}

// writeSchema writes one kind's standalone schema, pinned to its apiVersion and kind, where kubeconform looks
// for it.
func writeSchema(out string, gvk groupVersionKind, schema map[string]any) error {
	pinKind(schema, gvk)
	body, err := json.Marshal(schema)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, fileName(gvk)), body, 0o644)
}

type groupVersionKind struct{ group, version, kind string }

func groupVersionKinds(definition map[string]any) []groupVersionKind {
	list, _ := definition["x-kubernetes-group-version-kind"].([]any)
	var out []groupVersionKind
	for _, item := range list {
		m, _ := item.(map[string]any)
		g, _ := m["group"].(string)
		v, _ := m["version"].(string)
		k, _ := m["kind"].(string)
		if k != "" && v != "" {
			out = append(out, groupVersionKind{g, v, k})
		}
	}
	return out
}

// fileName is kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}.json: the kind, the group's first label
// and the version, or only the version for the core group.
func fileName(gvk groupVersionKind) string {
	suffix := "-" + gvk.version
	if gvk.group != "" {
		suffix = "-" + strings.Split(gvk.group, ".")[0] + "-" + gvk.version
	}
	return strings.ToLower(gvk.kind) + strings.ToLower(suffix) + ".json"
}

func (gvk groupVersionKind) apiVersion() string {
	if gvk.group == "" {
		return gvk.version
	}
	return gvk.group + "/" + gvk.version
}

// pinKind makes apiVersion and kind accept only this kind's values, as the schemas kubeconform usually reads do.
func pinKind(schema map[string]any, gvk groupVersionKind) {
	properties, _ := schema["properties"].(map[string]any)
	if properties == nil {
		return
	}
	properties["apiVersion"] = map[string]any{"type": "string", "enum": []any{gvk.apiVersion()}}
	properties["kind"] = map[string]any{"type": "string", "enum": []any{gvk.kind}}
}

// standalone returns a definition with every $ref replaced by what it names (so that the file needs no
// other), every object closed to properties it does not declare (strict), and Kubernetes' string-or-number
// types opened up. A definition that refers to itself (CRD schemas do) accepts anything where it recurs.
func (defs definitions) standalone(name string, expanding map[string]bool) any {
	if expanding[name] {
		return map[string]any{}
	}
	definition, ok := defs[name]
	if !ok {
		return map[string]any{}
	}
	switch name {
	case "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
	case "io.k8s.apimachinery.pkg.api.resource.Quantity":
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
	}
	expanding[name] = true
	defer delete(expanding, name)
	return defs.expand(definition, expanding)
}

// expand processes one schema, keyword by keyword: the maps of named subschemas (properties) and the
// subschemas (items, additionalProperties, allOf, …) are expanded in turn; other keywords are copied.
func (defs definitions) expand(v any, expanding map[string]bool) any {
	schema, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if ref, ok := schema["$ref"].(string); ok {
		return defs.standalone(strings.TrimPrefix(ref, "#/definitions/"), expanding)
	}
	if schema["format"] == "int-or-string" || schema["x-kubernetes-int-or-string"] == true {
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
	}
	out := map[string]any{}
	for keyword, value := range schema {
		switch keyword {
		case "x-kubernetes-group-version-kind", "description":
			// not validation; dropping them keeps the files small
		case "properties", "patternProperties":
			named := map[string]any{}
			for name, sub := range value.(map[string]any) {
				named[name] = defs.expand(sub, expanding)
			}
			out[keyword] = named
		case "items", "additionalProperties", "not":
			out[keyword] = defs.expand(value, expanding)
		case "allOf", "anyOf", "oneOf":
			list := []any{}
			for _, sub := range value.([]any) {
				list = append(list, defs.expand(sub, expanding))
			}
			out[keyword] = list
		default:
			out[keyword] = value
		}
	}
	if _, has := out["properties"]; has && schema["x-kubernetes-preserve-unknown-fields"] != true {
		if _, set := out["additionalProperties"]; !set {
			out["additionalProperties"] = false
		}
	}
	return out
}
