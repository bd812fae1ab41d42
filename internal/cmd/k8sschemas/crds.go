package main

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// customResourceDefinition is what a CRD file holds that a schema needs.
type customResourceDefinition struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Group string `yaml:"group"`
		Names struct {
			Kind string `yaml:"kind"`
		} `yaml:"names"`
		Versions []struct {
			Name   string `yaml:"name"`
			Served bool   `yaml:"served"`
			Schema struct {
				OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
			} `yaml:"schema"`
		} `yaml:"versions"`
	} `yaml:"spec"`
}

// convertCRDs writes a strict schema for every served version of every CRD the glob matches.
func convertCRDs(glob, out string) (int, error) {
	files, err := filepath.Glob(glob)
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("%s matches no file", glob)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	written := 0
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			return written, err
		}
		var crd customResourceDefinition
		if err := yaml.Unmarshal(body, &crd); err != nil {
			return written, fmt.Errorf("%s: %w", file, err)
		}
		if crd.Kind != "CustomResourceDefinition" {
			return written, fmt.Errorf("%s is a %q, not a CustomResourceDefinition", file, crd.Kind)
		}
		for _, version := range crd.Spec.Versions {
			if !version.Served || version.Schema.OpenAPIV3Schema == nil {
				continue
			}
			gvk := groupVersionKind{crd.Spec.Group, version.Name, crd.Spec.Names.Kind}
			schema := definitions{}.expand(version.Schema.OpenAPIV3Schema, map[string]bool{}).(map[string]any)
			if err := writeSchema(out, gvk, schema); err != nil {
				return written, err
			}
			written++
		}
	}
	return written, nil
}
