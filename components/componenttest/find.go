package componenttest

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// OfType returns the resources of one type token, in registration order.
func (r *Result) OfType(typeToken string) []Resource {
	var found []Resource
	for _, res := range r.Resources {
		if res.Type == typeToken {
			found = append(found, res)
		}
	}
	return found
}

// Find returns the resource with this type token and logical name.
func (r *Result) Find(typeToken, name string) (Resource, bool) {
	for _, res := range r.Resources {
		if res.Type == typeToken && res.Name == name {
			return res, true
		}
	}
	return Resource{}, false
}

// ByURN returns the resource with this URN.
func (r *Result) ByURN(urn string) (Resource, bool) {
	for _, res := range r.Resources {
		if res.URN == urn {
			return res, true
		}
	}
	return Resource{}, false
}

// Components returns the component resources (those with no provider behind them).
func (r *Result) Components() []Resource {
	var found []Resource
	for _, res := range r.Resources {
		if !res.Custom && !strings.HasPrefix(res.Type, "pulumi:providers:") {
			found = append(found, res)
		}
	}
	return found
}

// ChildrenOf returns the resources whose parent is urn.
func (r *Result) ChildrenOf(urn string) []Resource {
	var found []Resource
	for _, res := range r.Resources {
		if res.Parent == urn {
			found = append(found, res)
		}
	}
	return found
}

// CountByType returns how many resources of each type token were registered.
func (r *Result) CountByType() map[string]int {
	counts := map[string]int{}
	for _, res := range r.Resources {
		counts[res.Type]++
	}
	return counts
}

// Input returns the input at a property path such as `spec.template.spec.containers[0].image` or
// `metadata.labels["app.kubernetes.io/name"]`, as plain Go values (maps, slices, strings, float64, bool)
// with secrets unwrapped. The second result is false when the path does not exist.
func (res Resource) Input(path string) (any, bool) {
	return lookupPath(res.Inputs, path)
}

// Output is Input for the mock's outputs.
func (res Resource) Output(path string) (any, bool) {
	return lookupPath(res.Outputs, path)
}

// InputString returns a string input, or "" when the path is missing or not a string.
func (res Resource) InputString(path string) string {
	v, _ := res.Input(path)
	s, _ := v.(string)
	return s
}

// InputMap returns an object input as a map of strings (labels, selectors, annotations); non-string
// values are formatted with %v.
func (res Resource) InputMap(path string) map[string]string {
	v, _ := res.Input(path)
	object, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(object))
	for k, e := range object {
		if s, ok := e.(string); ok {
			out[k] = s
		} else {
			out[k] = fmt.Sprint(e)
		}
	}
	return out
}

// InputIsSecret reports whether the value at path, or any object that holds it, was sent as a secret.
func (res Resource) InputIsSecret(path string) bool {
	parsed, err := resource.ParsePropertyPath(path)
	if err != nil {
		return false
	}
	value := resource.NewObjectProperty(res.Inputs)
	for _, segment := range parsed {
		if value.IsSecret() {
			return true
		}
		switch key := segment.(type) {
		case string:
			if !value.IsObject() {
				return false
			}
			value = value.ObjectValue()[resource.PropertyKey(key)]
		case int:
			if !value.IsArray() || key >= len(value.ArrayValue()) {
				return false
			}
			value = value.ArrayValue()[key]
		}
	}
	return value.IsSecret()
}

func lookupPath(properties resource.PropertyMap, path string) (any, bool) {
	parsed, err := resource.ParsePropertyPath(path)
	if err != nil {
		return nil, false
	}
	var value any = Plain(resource.NewObjectProperty(properties))
	for _, segment := range parsed {
		switch key := segment.(type) {
		case string:
			object, ok := value.(map[string]any)
			if !ok {
				return nil, false
			}
			if value, ok = object[key]; !ok {
				return nil, false
			}
		case int:
			array, ok := value.([]any)
			if !ok || key < 0 || key >= len(array) {
				return nil, false
			}
			value = array[key]
		}
	}
	return value, true
}

// Plain turns a property value into plain Go values, unwrapping secrets and known outputs; unknown values
// become nil and resource references their URN.
func Plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return Plain(v.SecretValue().Element)
	case v.IsOutput():
		if out := v.OutputValue(); out.Known {
			return Plain(out.Element)
		}
		return nil
	case v.IsComputed(), v.IsNull():
		return nil
	case v.IsObject():
		object := map[string]any{}
		for key, element := range v.ObjectValue() {
			object[string(key)] = Plain(element)
		}
		return object
	case v.IsArray():
		array := make([]any, 0, len(v.ArrayValue()))
		for _, element := range v.ArrayValue() {
			array = append(array, Plain(element))
		}
		return array
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	default:
		return v.V
	}
}

// Awaited is an output's resolved state.
type Awaited struct {
	Value  any
	Known  bool
	Secret bool
	// Dependencies are the URNs of the resources the output came from.
	Dependencies []string
}

// Await resolves an output of a program that Run has finished evaluating.
func Await(o pulumi.Output) (Awaited, error) {
	result, err := internals.UnsafeAwaitOutput(context.Background(), o)
	if err != nil {
		return Awaited{}, err
	}
	deps := make([]string, 0, len(result.Dependencies))
	for _, dep := range result.Dependencies {
		urn, err := internals.UnsafeAwaitOutput(context.Background(), dep.URN())
		if err != nil {
			return Awaited{}, err
		}
		deps = append(deps, fmt.Sprint(urn.Value))
	}
	sort.Strings(deps)
	return Awaited{Value: result.Value, Known: result.Known, Secret: result.Secret, Dependencies: deps}, nil
}

// Leak is a place where a secret value was sent in plain text.
type Leak struct {
	Resource string // "type name"
	Path     string // property path of the input
}

func (l Leak) String() string { return l.Resource + " " + l.Path }

// PlaintextLeaks returns every input, anywhere in the run, whose string contains one of secrets outside a
// secret value. An empty result is the proof that the program kept those values secret end to end.
func (r *Result) PlaintextLeaks(secrets ...string) []Leak {
	var leaks []Leak
	for _, res := range r.Resources {
		where := res.Type + " " + res.Name
		walkPlaintext(resource.NewObjectProperty(res.Inputs), "", func(path, s string) {
			for _, secret := range secrets {
				if secret != "" && strings.Contains(s, secret) {
					leaks = append(leaks, Leak{Resource: where, Path: path})
					return
				}
			}
		})
	}
	return leaks
}

// walkPlaintext calls visit for every string that is not inside a secret.
func walkPlaintext(v resource.PropertyValue, path string, visit func(path, s string)) {
	switch {
	case v.IsSecret():
		return
	case v.IsOutput():
		if out := v.OutputValue(); out.Known && !out.Secret {
			walkPlaintext(out.Element, path, visit)
		}
	case v.IsString():
		visit(path, v.StringValue())
	case v.IsObject():
		for key, element := range v.ObjectValue() {
			walkPlaintext(element, strings.TrimPrefix(path+"."+string(key), "."), visit)
		}
	case v.IsArray():
		for i, element := range v.ArrayValue() {
			walkPlaintext(element, fmt.Sprintf("%s[%d]", path, i), visit)
		}
	}
}
