package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gitlab-ha/gitlab-ha/providers/gitlabha/componentpkg"
)

// Pulumi YAML's own checker (pulumi-yaml v1.25.0, the one version the module proxy serves) does not compile
// against pkg/v3 v3.259.0, so examples/yaml is judged here: every property it gives a component is one the
// schema has, with every required one, and the provider's Construct accepts what the engine would send for it
// (the stack's example config, placeholder secrets) and builds the component.

type yamlProgram struct {
	Name   string `yaml:"name"`
	Config map[string]struct {
		Type    string `yaml:"type"`
		Secret  bool   `yaml:"secret"`
		Default any    `yaml:"default"`
	} `yaml:"config"`
	Resources map[string]struct {
		Type       string         `yaml:"type"`
		Properties map[string]any `yaml:"properties"`
		Options    struct {
			Providers []string `yaml:"providers"`
		} `yaml:"options"`
	} `yaml:"resources"`
}

// schemaSpec is as much of schema.json as the check reads.
type schemaSpec struct {
	Types     map[string]objectSpec `json:"types"`
	Resources map[string]struct {
		InputProperties map[string]propertySpec `json:"inputProperties"`
		RequiredInputs  []string                `json:"requiredInputs"`
	} `json:"resources"`
}

type objectSpec struct {
	Properties map[string]propertySpec `json:"properties"`
	Required   []string                `json:"required"`
}

type propertySpec struct {
	Type                 string        `json:"type"`
	Ref                  string        `json:"$ref"`
	Items                *propertySpec `json:"items"`
	AdditionalProperties *propertySpec `json:"additionalProperties"`
}

// conforms lists what in value the schema does not have, under path.
func (s schemaSpec) conforms(path string, value any, spec propertySpec) []string {
	switch {
	case spec.Ref != "":
		object, ok := value.(map[string]any)
		if !ok {
			return []string{path + ": not an object"}
		}
		t := s.Types[strings.TrimPrefix(spec.Ref, "#/types/")]
		return s.object(path, object, t.Properties, t.Required)
	case spec.Type == "array":
		items, ok := value.([]any)
		if !ok {
			return []string{path + ": not a list"}
		}
		var problems []string
		for i, item := range items {
			problems = append(problems, s.conforms(fmt.Sprintf("%s[%d]", path, i), item, *spec.Items)...)
		}
		return problems
	case spec.Type == "object":
		entries, ok := value.(map[string]any)
		if !ok {
			return []string{path + ": not a map"}
		}
		var problems []string
		for key, entry := range entries {
			problems = append(problems, s.conforms(path+"."+key, entry, *spec.AdditionalProperties)...)
		}
		return problems
	}
	return nil
}

func (s schemaSpec) object(path string, object map[string]any, properties map[string]propertySpec, required []string) []string {
	var problems []string
	for key, value := range object {
		spec, ok := properties[key]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s.%s: not a property of the schema's", path, key))
			continue
		}
		problems = append(problems, s.conforms(path+"."+key, value, spec)...)
	}
	for _, key := range required {
		if _, ok := object[key]; !ok {
			problems = append(problems, fmt.Sprintf("%s.%s: required, and not given", path, key))
		}
	}
	return problems
}

var reference = regexp.MustCompile(`\$\{([^}]+)\}`)

// onTheWire turns a YAML property into what the engine sends: config references replaced by the stack's values,
// a reference that is all of a secret config value sent as a secret.
func onTheWire(value any, config map[string]string, secret map[string]bool) resource.PropertyValue {
	switch v := value.(type) {
	case string:
		if m := reference.FindStringSubmatch(v); m != nil && m[0] == v && secret[m[1]] {
			return resource.MakeSecret(resource.NewProperty(config[m[1]]))
		}
		return resource.NewProperty(reference.ReplaceAllStringFunc(v, func(ref string) string {
			return config[strings.Trim(ref, "${}")]
		}))
	case int:
		return resource.NewProperty(float64(v))
	case bool:
		return resource.NewProperty(v)
	case []any:
		items := make([]resource.PropertyValue, len(v))
		for i, item := range v {
			items[i] = onTheWire(item, config, secret)
		}
		return resource.NewProperty(items)
	case map[string]any:
		object := resource.PropertyMap{}
		for key, item := range v {
			object[resource.PropertyKey(key)] = onTheWire(item, config, secret)
		}
		return resource.NewProperty(object)
	}
	panic(fmt.Sprintf("no wire form for %T", value))
}

func TestTheYAMLExampleUsesTheSchemaAndConstructAcceptsIt(t *testing.T) {
	var program yamlProgram
	source, err := os.ReadFile("../../examples/yaml/Pulumi.yaml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(source, &program))
	var stackFile struct {
		Config map[string]any `yaml:"config"`
	}
	source, err = os.ReadFile("../../examples/yaml/Pulumi.example.yaml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(source, &stackFile))
	var spec schemaSpec
	require.NoError(t, json.Unmarshal(schema, &spec))

	config, secret := map[string]string{}, map[string]bool{}
	for key, decl := range program.Config {
		if value, ok := stackFile.Config[program.Name+":"+key]; ok {
			config[key] = fmt.Sprint(value)
		} else if decl.Default != nil {
			config[key] = fmt.Sprint(decl.Default)
		} else {
			require.True(t, decl.Secret, "config %s has no value in Pulumi.example.yaml", key)
			config[key], secret[key] = "placeholder-"+key, true
		}
	}

	p := startProvider(t)
	components := 0
	for name, r := range program.Resources {
		if !strings.HasPrefix(r.Type, componentpkg.PackageName+":") {
			continue
		}
		components++
		resourceSpec, ok := spec.Resources[r.Type]
		require.True(t, ok, "%s: type %s is not in the schema", name, r.Type)
		assert.Empty(t, spec.object(name, r.Properties, resourceSpec.InputProperties, resourceSpec.RequiredInputs))

		inputs := onTheWire(r.Properties, config, secret).ObjectValue()
		providers := map[string]string{}
		for _, ref := range r.Options.Providers {
			provider := strings.Trim(ref, "${}")
			providerType := program.Resources[provider].Type
			urn := urnOf(project, stack, "", providerType, provider)
			providers[strings.TrimPrefix(providerType, "pulumi:providers:")] = urn + "::" + provider + "-id"
			p.monitor.existing[urn] = resource.PropertyMap{"urn": resource.NewProperty(urn),
				"id": resource.NewProperty(provider + "-id"), "state": resource.NewProperty(resource.PropertyMap{})}
		}
		_, err := p.construct(t, r.Type, name, inputs, nil, providers)
		require.NoError(t, err, "Construct of %s %s", r.Type, name)
	}
	require.Equal(t, 1, components)
	result := p.monitor.mocks.Result(nil)
	var zones []string
	for _, d := range result.OfType("kubernetes:apps/v1:Deployment") {
		if zone := d.InputMap("metadata.labels")["zone"]; zone != "" {
			zones = append(zones, zone)
		}
	}
	slices.Sort(zones)
	assert.Equal(t, []string{"zone-a", "zone-b"}, zones, "a GitLab Deployment per zone of the example")
	assert.Empty(t, result.PlaintextLeaks("placeholder-databasePassword"))
}
