package componentpkg

import (
	"fmt"
	"reflect"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
)

// Construct builds the component with type token typ, as provider.ConstructFunc: the inputs are decoded into
// the component's Args, and its own NewX builds it. NewX's errors come back unchanged, so a program in any
// language reads the same field-named error a Go program does, and nothing is registered.
func Construct(ctx *pulumi.Context, typ, name string, inputs provider.ConstructInputs,
	options pulumi.ResourceOption,
) (*provider.ConstructResult, error) {
	c, err := Lookup(typ)
	if err != nil {
		return nil, err
	}
	args, err := c.Decode(inputs)
	if err != nil {
		return nil, err
	}
	resource, err := c.new(ctx, name, args, options)
	if err != nil {
		return nil, err
	}
	state, err := Outputs(resource)
	if err != nil {
		return nil, err
	}
	return &provider.ConstructResult{URN: resource.URN(), State: state}, nil
}

// Decode returns a *Args of the component filled from a Construct's inputs.
func (c Component) Decode(inputs provider.ConstructInputs) (any, error) {
	twin, err := twinOf(c.Args)
	if err != nil {
		return nil, err
	}
	decoded := reflect.New(twin)
	if err := inputs.CopyTo(decoded.Interface()); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Token, err)
	}
	args := reflect.New(c.Args)
	if err := fromTwin(args.Elem(), decoded.Elem(), ""); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Token, err)
	}
	return args.Interface(), nil
}

// Outputs are a component's exported fields as the schema's output properties: its Pulumi outputs and its
// plain values, including those of embedded structs (database.Endpoint). Child resources (a Kubernetes
// provider, a Service) are left out: a schema can name another package's resource only by loading that
// package's schema, which needs its plugin.
func Outputs(resource pulumi.ComponentResource) (pulumi.Map, error) {
	state := pulumi.Map{}
	err := outputFields(reflect.TypeOf(resource).Elem(), func(f field, index []int) error {
		value := reflect.ValueOf(resource).Elem().FieldByIndex(index)
		if unset(value) {
			return nil
		}
		if out, ok := value.Interface().(pulumi.Output); ok {
			state[f.Property] = out
		} else if value.Type() == durationType {
			state[f.Property] = pulumi.String(value.Interface().(time.Duration).String()) // as the schema says
		} else {
			state[f.Property] = pulumi.ToOutput(value.Interface())
		}
		return nil
	})
	return state, err
}

// outputFields calls visit for each output field of a component struct t, with its index path.
func outputFields(t reflect.Type, visit func(f field, index []int) error) error {
	for i := range t.NumField() {
		f := t.Field(i)
		switch {
		case !f.IsExported(), f.Type == resourceStateType:
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			err := outputFields(f.Type, func(inner field, index []int) error {
				return visit(inner, append([]int{i}, index...))
			})
			if err != nil {
				return err
			}
		case holdsResources(f.Type):
		default:
			if err := visit(field{StructField: f, Property: PropertyName(f.Name)}, []int{i}); err != nil {
				return err
			}
		}
	}
	return nil
}

// unset says whether an Output field was never given a value: its embedded *pulumi.OutputState is nil, and the
// SDK could not marshal it.
func unset(value reflect.Value) bool {
	if !value.Type().Implements(outputType) || value.Kind() != reflect.Struct || value.NumField() == 0 {
		return false
	}
	state := value.Field(0)
	return state.Kind() == reflect.Pointer && state.IsNil()
}

// holdsResources says whether t is a resource, or a pointer to, list or map of them: a component's children.
func holdsResources(t reflect.Type) bool {
	switch {
	case t.Implements(resourceType):
		return true
	case t.Kind() == reflect.Pointer, t.Kind() == reflect.Slice, t.Kind() == reflect.Map:
		return holdsResources(t.Elem())
	}
	return false
}
