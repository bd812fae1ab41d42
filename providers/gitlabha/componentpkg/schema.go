package componentpkg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// The schema, in the subset of Pulumi's package schema (pkg/codegen/schema.PackageSpec) it uses. The types are
// the project's own so that the main module need not depend on Pulumi's pkg module; Pulumi's binder judges the
// result (internal/tools/pulumi-codegen).

// Package is the schema's top level.
type Package struct {
	Name        string                `json:"name"`
	Version     string                `json:"version"`
	DisplayName string                `json:"displayName"`
	Description string                `json:"description"`
	Keywords    []string              `json:"keywords"`
	Homepage    string                `json:"homepage"`
	Repository  string                `json:"repository"`
	License     string                `json:"license"`
	Publisher   string                `json:"publisher"`
	Namespace   string                `json:"namespace"`
	Meta        map[string]string     `json:"meta"`
	Language    map[string]any        `json:"language"`
	Types       map[string]ObjectType `json:"types"`
	Resources   map[string]Resource   `json:"resources"`
}

// TypeSpec is a property's type.
type TypeSpec struct {
	Type                 string    `json:"type,omitempty"`
	Ref                  string    `json:"$ref,omitempty"`
	Items                *TypeSpec `json:"items,omitempty"`
	AdditionalProperties *TypeSpec `json:"additionalProperties,omitempty"`
	// Plain: the property takes a value, never an eventual one (a Go field that is not a pulumi.Input).
	Plain bool `json:"plain,omitempty"`
}

// Property is a typed, documented property.
type Property struct {
	TypeSpec
	Description string `json:"description,omitempty"`
}

// ObjectType is a nested input: a zone, its storage, a database endpoint.
type ObjectType struct {
	Type        string              `json:"type"`
	Description string              `json:"description,omitempty"`
	Properties  map[string]Property `json:"properties"`
	Required    []string            `json:"required,omitempty"`
}

// Resource is a component.
type Resource struct {
	IsComponent     bool                `json:"isComponent"`
	Description     string              `json:"description,omitempty"`
	InputProperties map[string]Property `json:"inputProperties"`
	RequiredInputs  []string            `json:"requiredInputs,omitempty"`
	Properties      map[string]Property `json:"properties"`
	Required        []string            `json:"required,omitempty"`
}

// Schema generates the package schema from Components' Go types and the doc comments in the module at root.
// A Go type with no schema equivalent fails it, naming the field.
func Schema(root string) (*Package, error) { return SchemaOf(root, Components) }

// SchemaOf is the schema of the given components.
func SchemaOf(root string, components []Component) (*Package, error) {
	g := &generator{docs: newDocs(root), types: map[string]ObjectType{}, tokens: map[reflect.Type]string{}, owners: map[string]reflect.Type{}}
	pkg := &Package{
		Name:        PackageName,
		Version:     Version,
		DisplayName: "gitlab-ha",
		Description: "A highly available GitLab on Kubernetes (AWS EKS, Linode LKE or an existing cluster), zone by zone, as Pulumi components.",
		Keywords:    []string{"pulumi", "gitlab", "kubernetes", "aws", "linode", "category/infrastructure", "kind/component"},
		Homepage:    "https://github.com/gitlab-ha/gitlab-ha",
		Repository:  "https://github.com/gitlab-ha/gitlab-ha",
		License:     "Apache-2.0",
		Publisher:   "gitlab-ha",
		// pulumi package add sets the namespace of a package from a Git repository to the repository's owner;
		// saying it here makes the committed SDKs the ones it generates.
		Namespace: "gitlab-ha",
		Meta:      map[string]string{"moduleFormat": "(.*)"},
		Language:  languages(),
		Types:     g.types,
		Resources: map[string]Resource{},
	}
	for _, c := range components {
		r, err := g.resource(c)
		if err != nil {
			return nil, err
		}
		pkg.Resources[c.Token] = r
	}
	return pkg, nil
}

// JSON is the schema as committed: indented, keys sorted, a final newline.
func (p *Package) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// languages are the generated SDKs' package names and dependencies.
func languages() map[string]any {
	return map[string]any{
		"nodejs": map[string]any{
			"packageName":  "@gitlab-ha/gitlab-ha",
			"dependencies": map[string]string{"@pulumi/pulumi": "^3.259.0"},
		},
		"python": map[string]any{
			"packageName": "pulumi_gitlab_ha",
			"requires":    map[string]string{"pulumi": ">=3.259.0,<4.0.0"},
			"pyproject":   map[string]bool{"enabled": true},
		},
		"csharp": map[string]any{
			"rootNamespace":     "GitLabHa",
			"packageReferences": map[string]string{"Pulumi": "3.*"},
		},
		"java": map[string]any{
			"basePackage": "io.github.gitlabha",
		},
	}
}

type generator struct {
	docs   *docs
	types  map[string]ObjectType   // token -> object type
	tokens map[reflect.Type]string // Go struct -> its token
	owners map[string]reflect.Type // token -> the Go struct that has it
}

func (g *generator) resource(c Component) (Resource, error) {
	argsDoc, err := g.docs.of(c.Args)
	if err != nil {
		return Resource{}, err
	}
	resourceDoc, err := g.docs.of(c.Resource)
	if err != nil {
		return Resource{}, err
	}
	inputs, requiredInputs, err := g.properties(c, c.Args, argsDoc)
	if err != nil {
		return Resource{}, err
	}
	r := Resource{
		IsComponent:     true,
		Description:     joinDocs(resourceDoc.doc, argsDoc.doc),
		InputProperties: inputs,
		RequiredInputs:  requiredInputs,
		Properties:      map[string]Property{},
	}
	err = outputFields(c.Resource, func(f field, index []int) error {
		owner := c.Resource
		if len(index) > 1 {
			owner = c.Resource.FieldByIndex(index[:len(index)-1]).Type
		}
		doc, err := g.docs.of(owner)
		if err != nil {
			return err
		}
		t := f.Type
		if isEventual(t) {
			var ok bool
			if t, ok = elementOf(t); !ok {
				return fmt.Errorf("%s.%s: output type %s carries no element type", typeName(owner), f.Name, f.Type)
			}
		}
		spec, err := g.typeSpec(c, t, false, typeName(owner)+"."+f.Name)
		if err != nil {
			return err
		}
		spec = unplain(spec)
		r.Properties[f.Property] = Property{TypeSpec: spec, Description: doc.fields[f.Name]}
		r.Required = append(r.Required, f.Property)
		return nil
	})
	slices.Sort(r.Required)
	return r, err
}

// properties maps a struct's fields, with the names of the required ones.
func (g *generator) properties(c Component, t reflect.Type, doc typeDoc) (map[string]Property, []string, error) {
	fields, err := argsFields(t)
	if err != nil {
		return nil, nil, err
	}
	properties := map[string]Property{}
	var requiredNames []string
	for _, f := range fields {
		spec, err := g.typeSpec(c, f.Type, !isEventual(f.Type), typeName(t)+"."+f.Name)
		if err != nil {
			return nil, nil, err
		}
		description := doc.fields[f.Name]
		if required.MatchString(description) {
			requiredNames = append(requiredNames, f.Property)
		}
		if holdsDuration(f.Type) {
			description = joinSentences(description, durationNote)
		}
		properties[f.Property] = Property{TypeSpec: spec, Description: description}
	}
	slices.Sort(requiredNames)
	return properties, requiredNames, nil
}

// typeSpec maps a Go type. plain says the value is a Go value, not a pulumi.Input: the schema marks it plain
// at every level, so that SDKs take it as a plain value. An Input's element is eventual all the way down.
func (g *generator) typeSpec(c Component, t reflect.Type, plain bool, path string) (TypeSpec, error) {
	if isEventual(t) {
		elem, ok := elementOf(t)
		if !ok || elem.Kind() == reflect.Interface {
			return TypeSpec{}, fmt.Errorf("%s: %s has no schema equivalent (an input of no concrete type)", path, t)
		}
		spec, err := g.typeSpec(c, elem, false, path)
		return unplain(spec), err
	}
	if plain, ok := plainForm(t); ok {
		return g.typeSpec(c, plain, true, path)
	}
	if isResource(t) {
		// A resource to depend on (GitStorage.DependsOn): a resource of any type has no schema type but Any,
		// and reaches Construct as a resource reference, which the SDK turns back into a pulumi.Resource.
		return TypeSpec{Ref: "pulumi.json#/Any"}, nil
	}
	if t == durationType {
		return TypeSpec{Type: "string", Plain: plain}, nil
	}
	spec := TypeSpec{Plain: plain}
	switch t.Kind() {
	case reflect.String:
		spec.Type = "string"
	case reflect.Bool:
		spec.Type = "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		spec.Type = "integer"
	case reflect.Float32, reflect.Float64:
		spec.Type = "number"
	case reflect.Pointer:
		return g.typeSpec(c, t.Elem(), plain, path)
	case reflect.Slice:
		items, err := g.typeSpec(c, t.Elem(), plain, path+"[]")
		if err != nil {
			return TypeSpec{}, err
		}
		spec.Type, spec.Items = "array", &items
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return TypeSpec{}, fmt.Errorf("%s: %s has no schema equivalent (map keys must be strings)", path, t)
		}
		values, err := g.typeSpec(c, t.Elem(), plain, path+"[]")
		if err != nil {
			return TypeSpec{}, err
		}
		spec.Type, spec.AdditionalProperties = "object", &values
	case reflect.Struct:
		token, err := g.objectType(c, t)
		if err != nil {
			return TypeSpec{}, err
		}
		spec.Ref = "#/types/" + token
	default:
		return TypeSpec{}, fmt.Errorf("%s: Go type %s has no schema equivalent", path, t)
	}
	return spec, nil
}

// objectType registers a struct as an object type and returns its token: the component's module, and the
// struct's name, prefixed with the component's when the struct's package is a cloud implementation whose
// name is not the module's (lke.NodeCounts -> gitlab-ha:cluster:LKENodeCounts, beside cluster.NodeCounts).
func (g *generator) objectType(c Component, t reflect.Type) (string, error) {
	if token, ok := g.tokens[t]; ok {
		return token, nil
	}
	if t.Name() == "" {
		return "", fmt.Errorf("%s: an unnamed struct has no schema equivalent", t)
	}
	name := t.Name()
	if pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]; pkg != c.Module() && !strings.HasPrefix(name, c.Name()) {
		name = c.Name() + name
	}
	token := PackageName + ":" + c.Module() + ":" + name
	if other, taken := g.owners[token]; taken {
		return "", fmt.Errorf("%s and %s would both be schema type %s", other, t, token)
	}
	g.tokens[t], g.owners[token] = token, t
	doc, err := g.docs.of(t)
	if err != nil {
		return "", err
	}
	properties, requiredNames, err := g.properties(c, t, doc)
	if err != nil {
		return "", err
	}
	g.types[token] = ObjectType{Type: "object", Description: doc.doc, Properties: properties, Required: requiredNames}
	return token, nil
}

// unplain clears the plain marks of a type: the element of an Input, and every output, is eventual.
func unplain(spec TypeSpec) TypeSpec {
	spec.Plain = false
	if spec.Items != nil {
		items := unplain(*spec.Items)
		spec.Items = &items
	}
	if spec.AdditionalProperties != nil {
		values := unplain(*spec.AdditionalProperties)
		spec.AdditionalProperties = &values
	}
	return spec
}

// joinSentences appends a sentence to a description, in its last paragraph.
func joinSentences(description, sentence string) string {
	if description == "" {
		return sentence
	}
	return description + " " + sentence
}

func joinDocs(docs ...string) string {
	var parts []string
	for _, d := range docs {
		if d != "" {
			parts = append(parts, d)
		}
	}
	return strings.Join(parts, "\n\n")
}
