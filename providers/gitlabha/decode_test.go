package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/providers/gitlabha/componentpkg"
)

// literals are sample values for the pulumi Input types the components' Args use; a new one needs a line.
var literals = map[reflect.Type]func(path string) (any, resource.PropertyValue){
	reflect.TypeFor[pulumi.StringInput](): func(p string) (any, resource.PropertyValue) {
		return pulumi.String(p), resource.NewProperty(p)
	},
	reflect.TypeFor[pulumi.IntInput](): func(string) (any, resource.PropertyValue) {
		return pulumi.Int(7), resource.NewProperty(7.0)
	},
	reflect.TypeFor[pulumi.BoolInput](): func(string) (any, resource.PropertyValue) {
		return pulumi.Bool(true), resource.NewProperty(true)
	},
	reflect.TypeFor[pulumi.StringMapInput](): func(p string) (any, resource.PropertyValue) {
		return pulumi.StringMap{"key": pulumi.String(p)}, resource.NewProperty(resource.PropertyMap{"key": resource.NewProperty(p)})
	},
	// A duration is a string in Go's syntax (a threshold, a deadline).
	reflect.TypeFor[time.Duration](): func(string) (any, resource.PropertyValue) {
		return 90 * time.Second, resource.NewProperty("1m30s")
	},
	reflect.TypeFor[pulumi.StringArrayInput](): func(p string) (any, resource.PropertyValue) {
		return pulumi.StringArray{pulumi.String(p)}, resource.NewProperty([]resource.PropertyValue{resource.NewProperty(p)})
	},
}

// sample is a value of t with every field set, every slice and map holding one element, and the same value
// as a program sends it, under the schema's names.
func sample(t *testing.T, typ reflect.Type, path string) (reflect.Value, resource.PropertyValue) {
	t.Helper()
	v := reflect.New(typ).Elem()
	if literal, ok := literals[typ]; ok {
		goValue, wire := literal(path)
		v.Set(reflect.ValueOf(goValue))
		return v, wire
	}
	switch typ.Kind() {
	case reflect.Interface:
		t.Fatalf("%s: no sample for %s; add one to literals", path, typ)
	case reflect.Slice:
		if typ.Elem() == reflect.TypeFor[pulumi.Resource]() {
			// Resources come back as the SDK's own stand-ins: TestConstructDecodesAResourceToDependOn.
			v.Set(reflect.MakeSlice(typ, 0, 0))
			return v, resource.NewProperty([]resource.PropertyValue{})
		}
		elem, wire := sample(t, typ.Elem(), path+"[0]")
		v.Set(reflect.Append(reflect.MakeSlice(typ, 0, 1), elem))
		return v, resource.NewProperty([]resource.PropertyValue{wire})
	case reflect.String:
		v.SetString(path)
		return v, resource.NewProperty(path)
	case reflect.Bool:
		v.SetBool(true)
		return v, resource.NewProperty(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(3)
		return v, resource.NewProperty(3.0)
	case reflect.Float64:
		v.SetFloat(2.5)
		return v, resource.NewProperty(2.5)
	case reflect.Pointer:
		elem, wire := sample(t, typ.Elem(), path)
		v.Set(reflect.New(typ.Elem()))
		v.Elem().Set(elem)
		return v, wire
	case reflect.Map:
		elem, wire := sample(t, typ.Elem(), path+"[key]")
		v.Set(reflect.MakeMap(typ))
		v.SetMapIndex(reflect.ValueOf("key").Convert(typ.Key()), elem)
		return v, resource.NewProperty(resource.PropertyMap{"key": wire})
	case reflect.Struct:
		object := resource.PropertyMap{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			name := componentpkg.PropertyName(f.Name)
			field, wire := sample(t, f.Type, path+"."+name)
			v.Field(i).Set(field)
			object[resource.PropertyKey(name)] = wire
		}
		return v, resource.NewProperty(object)
	}
	t.Fatalf("%s: no sample for %s", path, typ)
	return v, resource.PropertyValue{}
}

var errDecoded = errors.New("decoded")

// decodeOnly runs Construct's decoding of inputs for the component c, as the provider would, and returns the Args.
func decodeOnly(t *testing.T, p *started, c componentpkg.Component, inputs resource.PropertyMap) any {
	t.Helper()
	var got any
	construct := func(ctx *pulumi.Context, typ, name string, inputs provider.ConstructInputs,
		_ pulumi.ResourceOption,
	) (*provider.ConstructResult, error) {
		var err error
		if got, err = c.Decode(inputs); err != nil {
			return nil, err
		}
		return nil, errDecoded
	}
	wireInputs, err := marshal(inputs)
	require.NoError(t, err)
	_, err = provider.Construct(context.Background(), &pulumirpc.ConstructRequest{
		Project: project, Stack: stack, Type: c.Token, Name: "sample", Inputs: wireInputs, MonitorEndpoint: p.addr,
	}, nil, construct)
	require.ErrorContains(t, err, errDecoded.Error())
	require.NotNil(t, got)
	return got
}

// A resource a program passes to depend on (GitStorage.DependsOn, Any in the schema) reaches the Args as a
// pulumi.Resource with the program's URN.
func TestConstructDecodesAResourceToDependOn(t *testing.T) {
	p := startProvider(t)
	c, err := componentpkg.Lookup(gitlab.TypeToken)
	require.NoError(t, err)
	const cluster = "urn:pulumi:test::gitlab-ha::gitlab-ha:gitaly:GitalyCluster::gitaly"
	got := decodeOnly(t, p, c, resource.PropertyMap{"gitStorage": resource.NewProperty(resource.PropertyMap{
		"dependsOn": resource.NewProperty([]resource.PropertyValue{resource.MakeComponentResourceReference(cluster, "")}),
	})}).(*gitlab.GitLabArgs)
	require.Len(t, got.GitStorage.DependsOn, 1)
	urn, err := componenttest.Await(got.GitStorage.DependsOn[0].URN())
	require.NoError(t, err)
	assert.Equal(t, cluster, fmt.Sprint(urn.Value))
}

// Every field of every component's Args, nested ones too, reaches the Args that Construct hands to NewX,
// under the schema's name: a field added to a component is decoded with no change to the provider.
func TestConstructDecodesEveryFieldOfEveryComponentsArgs(t *testing.T) {
	p := startProvider(t)
	for _, c := range componentpkg.Components {
		t.Run(c.Token, func(t *testing.T) {
			want, wire := sample(t, c.Args, "")
			got := decodeOnly(t, p, c, wire.ObjectValue())
			assert.Equal(t, want.Interface(), reflect.ValueOf(got).Elem().Interface(), fmt.Sprintf("%s decoded from %v", c.Args, wire))
		})
	}
}
