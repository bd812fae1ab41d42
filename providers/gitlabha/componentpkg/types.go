package componentpkg

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

var (
	inputType         = reflect.TypeFor[pulumi.Input]()
	outputType        = reflect.TypeFor[pulumi.Output]()
	resourceType      = reflect.TypeFor[pulumi.Resource]()
	resourceStateType = reflect.TypeFor[pulumi.ResourceState]()
	durationType      = reflect.TypeFor[time.Duration]()
)

// A time.Duration (a threshold, a deadline) is a string in the schema, in Go's own syntax, which is also how the
// components' docs state their defaults ("Default 5m."): an int64 of nanoseconds is no unit a program in another
// language would think to write.

// durationNote ends the description of a property that is, or holds, durations.
const durationNote = `A duration, as a string in Go's syntax (time.ParseDuration): "90s", "5m", "1h30m", "336h".`

// holdsDuration says whether t is a time.Duration, or a pointer to, list or map of them.
func holdsDuration(t reflect.Type) bool {
	switch {
	case t == durationType:
		return true
	case t.Kind() == reflect.Pointer, t.Kind() == reflect.Slice, t.Kind() == reflect.Map:
		return holdsDuration(t.Elem())
	}
	return false
}

// parseDuration reads a duration a program sent; path names the property in the error. "" is the zero
// duration, as an unset property is: the component's default.
func parseDuration(path, text string) (time.Duration, error) {
	if text == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, validate.Errorf(path, text, `is not a duration in Go's syntax, such as "5m" or "1h30m"`)
	}
	return d, nil
}

// field is an exported field of an Args struct (or of a struct inside one) and its schema name.
type field struct {
	reflect.StructField
	Property string
}

// argsFields lists the fields of an Args struct that a program can set: every exported one. An embedded
// field has no name of its own to give a program, so it is refused rather than silently dropped.
func argsFields(t reflect.Type) ([]field, error) {
	var fields []field
	seen := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous {
			return nil, fmt.Errorf("%s.%s: an embedded field has no schema equivalent; give it a name", typeName(t), f.Name)
		}
		name := PropertyName(f.Name)
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s: fields %s and %s both become schema property %q", typeName(t), other, f.Name, name)
		}
		seen[name] = f.Name
		fields = append(fields, field{StructField: f, Property: name})
	}
	return fields, nil
}

// isEventual says whether t is a Pulumi Input interface or Output type, whose value may arrive later:
// pulumi.StringInput, pulumi.StringOutput and the like.
func isEventual(t reflect.Type) bool {
	return (t.Kind() == reflect.Interface && t.Implements(inputType)) || t.Implements(outputType)
}

// plainForm is what a concrete Pulumi Input type holds: pulumi.StringMap is a map[string]pulumi.StringInput
// (the keys known when the program runs, each value an input), pulumi.String a string. It cannot hold an
// eventual value as a whole, so it is its underlying type, in the schema and in decoding.
func plainForm(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() == reflect.Interface || !t.Implements(inputType) || t.Implements(outputType) {
		return nil, false
	}
	switch t.Kind() {
	case reflect.Map:
		return reflect.MapOf(t.Key(), t.Elem()), true
	case reflect.Slice:
		return reflect.SliceOf(t.Elem()), true
	case reflect.String:
		return reflect.TypeFor[string](), true
	case reflect.Bool:
		return reflect.TypeFor[bool](), true
	case reflect.Int:
		return reflect.TypeFor[int](), true
	case reflect.Float64:
		return reflect.TypeFor[float64](), true
	}
	return nil, false
}

// isResource says whether t is an interface of resources (pulumi.Resource): a resource to depend on.
func isResource(t reflect.Type) bool {
	return t.Kind() == reflect.Interface && t.Implements(resourceType)
}

// elementOf is the Go type a Pulumi Input or Output type carries: string for pulumi.StringInput, map[string]string
// for pulumi.StringMapOutput. It asks the type's own To<Name>Output method, as the SDK does.
func elementOf(t reflect.Type) (reflect.Type, bool) {
	if t.Implements(outputType) && t.Kind() != reflect.Interface {
		return reflect.Zero(t).Interface().(pulumi.Output).ElementType(), true
	}
	method, ok := t.MethodByName("To" + strings.TrimSuffix(t.Name(), "Input") + "Output")
	if !ok {
		return nil, false
	}
	mt := method.Type
	// An interface's method has no receiver among its inputs; a concrete type's has.
	in := mt.NumIn()
	if t.Kind() != reflect.Interface {
		in--
	}
	if in != 0 || mt.NumOut() != 1 || !mt.Out(0).Implements(outputType) {
		return nil, false
	}
	return elementOf(mt.Out(0))
}

// typeName is t package-qualified, as errors name it: gitlab.GitLabArgs.
func typeName(t reflect.Type) string { return t.String() }
