package componentpkg

import (
	"fmt"
	"reflect"
	"sync"
)

// The SDK decodes a Construct's inputs (secrets, unknowns, output values with their dependencies) into a
// struct whose fields carry `pulumi:"name"` tags: provider.ConstructInputs.CopyTo. The components' Args
// carry none, so Construct decodes into a tagged twin of each Args type, built by reflection with the schema's
// property names, and copies the twin into the real Args. Any Args field a component gains is decoded with no
// change here.

var twins sync.Map // reflect.Type -> reflect.Type

// twinOf is t with every struct inside it replaced by an unnamed struct of the same fields, each tagged with
// its schema property name, and every time.Duration by a string (Go's syntax, which fromTwin parses). Pulumi
// Input and Output types, and other plain values, stay as they are.
func twinOf(t reflect.Type) (reflect.Type, error) {
	if cached, ok := twins.Load(t); ok {
		return cached.(reflect.Type), nil
	}
	var twin reflect.Type
	switch {
	case t == durationType:
		twin = reflect.TypeFor[string]() // fromTwin parses it
	case isEventual(t):
		twin = t
	case isResource(t):
		// The SDK decodes a resource reference into any, not into pulumi.Resource (it checks the stand-in's
		// struct, not its pointer, against the interface); fromTwin checks it is a resource.
		twin = reflect.TypeFor[any]()
	case isPlainInput(t):
		plain, _ := plainForm(t)
		return twinOf(plain)
	case t.Kind() == reflect.Pointer:
		elem, err := twinOf(t.Elem())
		if err != nil {
			return nil, err
		}
		twin = reflect.PointerTo(elem)
	case t.Kind() == reflect.Slice:
		elem, err := twinOf(t.Elem())
		if err != nil {
			return nil, err
		}
		twin = reflect.SliceOf(elem)
	case t.Kind() == reflect.Map:
		elem, err := twinOf(t.Elem())
		if err != nil {
			return nil, err
		}
		twin = reflect.MapOf(t.Key(), elem)
	case t.Kind() == reflect.Struct:
		fields, err := argsFields(t)
		if err != nil {
			return nil, err
		}
		twinFields := make([]reflect.StructField, len(fields))
		for i, f := range fields {
			ft, err := twinOf(f.Type)
			if err != nil {
				return nil, err
			}
			twinFields[i] = reflect.StructField{Name: f.Name, Type: ft, Tag: reflect.StructTag(fmt.Sprintf(`pulumi:%q`, f.Property))}
		}
		twin = reflect.StructOf(twinFields)
	default:
		twin = t
	}
	twins.Store(t, twin)
	return twin, nil
}

// fromTwin copies a decoded twin value into the real type's value dst; path names it in an error.
func fromTwin(dst, src reflect.Value, path string) error {
	if src.Type() == dst.Type() {
		dst.Set(src)
		return nil
	}
	switch {
	case dst.Type() == durationType:
		d, err := parseDuration(path, src.String())
		if err != nil {
			return err
		}
		dst.Set(reflect.ValueOf(d))
	case dst.Kind() == reflect.Interface: // a resource, decoded into any
		if src.IsNil() {
			return nil
		}
		if !src.Elem().Type().Implements(dst.Type()) {
			return fmt.Errorf("%s: expected a resource, got %s", path, src.Elem().Type())
		}
		dst.Set(src.Elem())
	case dst.Kind() == reflect.Pointer:
		if src.IsNil() {
			return nil
		}
		dst.Set(reflect.New(dst.Type().Elem()))
		return fromTwin(dst.Elem(), src.Elem(), path)
	case dst.Kind() == reflect.Slice:
		if src.IsNil() {
			return nil
		}
		dst.Set(reflect.MakeSlice(dst.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			if err := fromTwin(dst.Index(i), src.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case dst.Kind() == reflect.Map:
		if src.IsNil() {
			return nil
		}
		dst.Set(reflect.MakeMapWithSize(dst.Type(), src.Len()))
		for iter := src.MapRange(); iter.Next(); {
			elem := reflect.New(dst.Type().Elem()).Elem()
			if err := fromTwin(elem, iter.Value(), fmt.Sprintf("%s[%q]", path, iter.Key())); err != nil {
				return err
			}
			dst.SetMapIndex(iter.Key().Convert(dst.Type().Key()), elem)
		}
	case dst.Kind() == reflect.Struct:
		for i := range src.NumField() {
			f := src.Type().Field(i)
			name := PropertyName(f.Name)
			if path != "" {
				name = path + "." + name
			}
			if err := fromTwin(dst.FieldByName(f.Name), src.Field(i), name); err != nil {
				return err
			}
		}
	default:
		dst.Set(src.Convert(dst.Type()))
	}
	return nil
}

// isPlainInput: a concrete Pulumi Input type that holds a value (pulumi.StringMap, pulumi.String).
func isPlainInput(t reflect.Type) bool {
	_, ok := plainForm(t)
	return ok
}
