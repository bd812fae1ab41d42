package componentpkg

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Server is the component provider's gRPC service, what the Pulumi engine talks to. It answers as the SDK's
// own component provider (provider.MainWithOptions) does, and is exported so that a test can serve it on a
// port of its own.
type Server struct {
	pulumirpc.UnimplementedResourceProviderServer

	engine  *grpc.ClientConn
	version string
	schema  []byte
}

// NewServer serves schema and Construct; engine is the engine's connection (for logs), version the plugin's.
func NewServer(engine *grpc.ClientConn, version string, schema []byte) *Server {
	return &Server{engine: engine, version: version, schema: schema}
}

// GetPluginInfo returns the plugin's version.
func (s *Server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.version}, nil
}

// GetSchema returns schema.json.
func (s *Server) GetSchema(_ context.Context, req *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	if v := req.GetVersion(); v != 0 {
		return nil, fmt.Errorf("unsupported schema version %d", v)
	}
	return &pulumirpc.GetSchemaResponse{Schema: string(s.schema)}, nil
}

// Configure accepts secrets, resources and output values, so that what a program passes keeps its secrecy
// and dependencies all the way to the components' children.
func (s *Server) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true, AcceptOutputs: true}, nil
}

// Construct builds a component (see the package's Construct).
func (s *Server) Construct(ctx context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	return provider.Construct(ctx, req, s.engine, Construct)
}

// Attach connects to an engine when the provider was started on its own (pulumi's debugging mode).
func (s *Server) Attach(_ context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	host, err := provider.NewHostClient(req.GetAddress())
	if err != nil {
		return nil, err
	}
	s.engine = host.EngineConn()
	return &emptypb.Empty{}, nil
}

// Cancel has nothing to stop: a component's children are the engine's to create.
func (s *Server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
