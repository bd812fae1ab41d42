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
// its schema property name. Pulumi Input and Output types, and plain values, stay as they are.
func twinOf(t reflect.Type) (reflect.Type, error) {
	if cached, ok := twins.Load(t); ok {
		return cached.(reflect.Type), nil
	}
	var twin reflect.Type
	switch {
	case isEventual(t):
		twin = t
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

// fromTwin copies a decoded twin value into the real type's value dst.
func fromTwin(dst, src reflect.Value) {
	if src.Type() == dst.Type() {
		dst.Set(src)
		return
	}
	switch dst.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.New(dst.Type().Elem()))
		fromTwin(dst.Elem(), src.Elem())
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeSlice(dst.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			fromTwin(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeMapWithSize(dst.Type(), src.Len()))
		for iter := src.MapRange(); iter.Next(); {
			elem := reflect.New(dst.Type().Elem()).Elem()
			fromTwin(elem, iter.Value())
			dst.SetMapIndex(iter.Key(), elem)
		}
	case reflect.Struct:
		for i := range src.NumField() {
			fromTwin(dst.FieldByName(src.Type().Field(i).Name), src.Field(i))
		}
	default:
		dst.Set(src.Convert(dst.Type()))
	}
}
