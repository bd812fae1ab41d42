package main

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The test plays the Pulumi engine: an engine service for the provider's logs, and a resource monitor that
// hands every registration and invoke to componenttest's mocks over gRPC, as the SDK's own mock monitor does
// in process. The Go constructor's run under componenttest.Run and the provider's Construct then see the
// same answers, and their records compare one for one.

// serve starts a gRPC server on a loopback port for the test's lifetime and returns its address.
func serve(t *testing.T, register func(*grpc.Server)) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	server := grpc.NewServer()
	register(server)
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	return listener.Addr().String()
}

// dial connects to a test server.
func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// engine takes the provider's log messages.
type engine struct {
	pulumirpc.UnimplementedEngineServer
	mu   sync.Mutex
	logs []string
}

func (e *engine) Log(_ context.Context, req *pulumirpc.LogRequest) (*emptypb.Empty, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, fmt.Sprintf("%s: %s", req.GetSeverity(), req.GetMessage()))
	return &emptypb.Empty{}, nil
}

// mocksMonitor is a resource monitor over gRPC in front of pulumi mocks. Like the SDK's mock monitor it does
// not take output values, so the inputs the mocks see are marshalled exactly as in a Go program's run.
type mocksMonitor struct {
	pulumirpc.UnimplementedResourceMonitorServer
	project, stack string
	mocks          *componenttest.Mocks

	mu       sync.Mutex
	existing map[string]resource.PropertyMap // URN -> {urn, id, state}, for pulumi:pulumi:getResource
}

var wire = plugin.MarshalOptions{KeepSecrets: true, KeepResources: true}

func (m *mocksMonitor) SupportsFeature(_ context.Context, req *pulumirpc.SupportsFeatureRequest) (*pulumirpc.SupportsFeatureResponse, error) {
	return &pulumirpc.SupportsFeatureResponse{HasSupport: req.GetId() != "outputValues"}, nil
}

func (m *mocksMonitor) GetDeploymentInfo(context.Context, *emptypb.Empty) (*pulumirpc.DeploymentInfo, error) {
	return &pulumirpc.DeploymentInfo{Project: m.project, Stack: m.stack, SupportedFeatures: []pulumirpc.ResourceMonitorFeature{
		pulumirpc.ResourceMonitorFeature_RESOURCE_MONITOR_FEATURE_SECRETS,
		pulumirpc.ResourceMonitorFeature_RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
		pulumirpc.ResourceMonitorFeature_RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
		pulumirpc.ResourceMonitorFeature_RESOURCE_MONITOR_FEATURE_DELETED_WITH,
		pulumirpc.ResourceMonitorFeature_RESOURCE_MONITOR_FEATURE_TRANSFORMS,
	}}, nil
}

func (m *mocksMonitor) RegisterResource(_ context.Context, req *pulumirpc.RegisterResourceRequest) (*pulumirpc.RegisterResourceResponse, error) {
	inputs, err := plugin.UnmarshalProperties(req.GetObject(), wire)
	if err != nil {
		return nil, err
	}
	id, state, err := m.mocks.NewResource(pulumi.MockResourceArgs{TypeToken: req.GetType(), Name: req.GetName(),
		Inputs: inputs, Provider: req.GetProvider(), ID: req.GetImportId(), Custom: req.GetCustom(), RegisterRPC: req})
	if err != nil {
		return nil, err
	}
	object, err := plugin.MarshalProperties(state, wire)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.RegisterResourceResponse{Urn: urnOf(m.project, m.stack, req.GetParent(), req.GetType(), req.GetName()),
		Id: id, Object: object}, nil
}

func (m *mocksMonitor) RegisterResourceOutputs(context.Context, *pulumirpc.RegisterResourceOutputsRequest) (*emptypb.Empty, error) {
	return m.mocks.RegisterResourceOutputs()
}

func (m *mocksMonitor) Invoke(_ context.Context, req *pulumirpc.ResourceInvokeRequest) (*pulumirpc.ResourceInvokeResponse, error) {
	args, err := plugin.UnmarshalProperties(req.GetArgs(), wire)
	if err != nil {
		return nil, err
	}
	var result resource.PropertyMap
	if req.GetTok() == "pulumi:pulumi:getResource" {
		m.mu.Lock()
		existing, ok := m.existing[args["urn"].StringValue()]
		m.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("unknown resource %s", args["urn"].StringValue())
		}
		result = existing
	} else if result, err = m.mocks.Call(pulumi.MockCallArgs{Token: req.GetTok(), Args: args, Provider: req.GetProvider()}); err != nil {
		return nil, err
	}
	ret, err := plugin.MarshalProperties(result, wire)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ResourceInvokeResponse{Return: ret}, nil
}

// urnOf computes a URN as the mocks do, from the parent's type.
func urnOf(project, stack, parent, typ, name string) string {
	parentType := ""
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = string(p.QualifiedType())
	}
	return string(resource.NewURN(tokens.QName(stack), tokens.PackageName(project), tokens.Type(parentType), tokens.Type(typ), name))
}
