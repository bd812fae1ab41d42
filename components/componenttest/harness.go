// Package componenttest runs a Pulumi program under mocks and records everything it registers, in the spirit
// of net/http/httptest: no cloud, no Pulumi CLI, no plugins.
//
//	result := componenttest.Run(func(ctx *pulumi.Context) error {
//		_, err := gitlab.NewGitLab(ctx, "gitlab", args)
//		return err
//	})
//	require.NoError(t, result.Err)
//	deployments := result.OfType("kubernetes:apps/v1:Deployment")
//
// The mocks answer as the engine and providers would, deterministically: every resource gets a stable ID,
// ARN, IP address or DNS name derived from its name (see answers.go), outputs listed in
// AdditionalSecretOutputs come back secret, and the invokes the components use are answered. Programs that
// use this package's answers see concrete values downstream, so a test can follow a value from the resource
// that made it to every resource that consumes it.
package componenttest

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Default project and stack names for Run.
const (
	DefaultProject = "gitlab-ha"
	DefaultStack   = "test"
)

// Resource is one registration the program made, as the engine would have seen it.
type Resource struct {
	URN    string
	Type   string // type token, e.g. "kubernetes:apps/v1:Deployment"
	Name   string // logical name
	ID     string // the mock's ID; empty for component resources
	Custom bool   // false for component resources

	Parent       string            // parent URN; the stack's URN for top-level resources
	Provider     string            // provider reference ("urn::id") of a custom resource, if explicit
	Providers    map[string]string // package → provider reference, given to a component
	Dependencies []string          // URNs this resource depends on, for any reason
	// DataDependencies are the URNs whose outputs flow into this resource's inputs: the dependencies the
	// data implies. Dependencies less these were asked for explicitly (DependsOn).
	DataDependencies []string
	Protect          bool
	RetainOnDelete   bool
	// CustomTimeouts are the resource's pulumi.Timeouts option, nil when it has none: how long the provider
	// waits for it to be ready before failing.
	CustomTimeouts *CustomTimeouts
	// IgnoreChanges are the input paths whose changes the engine would not send to the provider.
	IgnoreChanges []string
	// DeleteBeforeReplace deletes the old resource before creating its replacement.
	DeleteBeforeReplace bool
	// ReplaceOnChanges are the input paths whose changes replace the resource rather than update it.
	ReplaceOnChanges []string
	// Aliases are the resource's earlier identities, each a URN or a spec such as "name=old,type=T".
	Aliases []string
	// DeletedWith is the URN of the resource whose deletion deletes this one too; ReplaceWith the URNs
	// whose replacement replaces it; ImportID the ID of an existing resource it adopts.
	DeletedWith string
	ReplaceWith []string
	ImportID    string

	// Inputs as sent to the engine; secret values are resource.Secret property values.
	Inputs resource.PropertyMap
	// Outputs as the mock answered them.
	Outputs resource.PropertyMap
}

// CustomTimeouts are durations as Pulumi takes them ("25m"); "" leaves the provider's default.
type CustomTimeouts struct {
	Create, Update, Delete string
}

// Result is what a Run recorded.
type Result struct {
	// Err is what the program returned (or the first failed registration).
	Err error
	// Resources in registration order, the stack itself excluded.
	Resources []Resource
	// OutputsRegistered counts the program's RegisterResourceOutputs calls (the stack's own, which the SDK
	// makes once in every run, is not counted). Every component makes exactly one, so a correct program has
	// OutputsRegistered == len(Components()).
	OutputsRegistered int
	// Invokes lists the tokens of the data-source calls made, in order.
	Invokes []string
}

// Option configures Run.
type Option func(*settings)

type settings struct {
	project, stack string
	config         map[string]string
	secretKeys     []string
	answers        map[string]Answer
	invokes        map[string]InvokeAnswer
	preview        bool
}

// WithStack sets the project and stack names the program sees (default DefaultProject, DefaultStack).
func WithStack(project, stack string) Option {
	return func(s *settings) { s.project, s.stack = project, stack }
}

// WithConfig gives the program stack configuration, as the engine would: keys are "namespace:key", object
// values are JSON, and secretKeys lists the keys whose values are secret.
func WithConfig(config map[string]string, secretKeys ...string) Option {
	return func(s *settings) { s.config, s.secretKeys = config, secretKeys }
}

// WithPreview evaluates the program as `pulumi preview` does (ctx.DryRun() is true). Default: as `pulumi up`
// does, whatever PULUMI_DRY_RUN says.
func WithPreview() Option {
	return func(s *settings) { s.preview = true }
}

// WithAnswer overrides (or adds) the answer for one resource type token.
func WithAnswer(typeToken string, answer Answer) Option {
	return func(s *settings) { s.answers[typeToken] = answer }
}

// WithInvoke overrides (or adds) the answer for one invoke token.
func WithInvoke(token string, answer InvokeAnswer) Option {
	return func(s *settings) { s.invokes[token] = answer }
}

// Run evaluates program under mocks and returns what it registered. It never fails the test itself:
// callers assert on Result.Err, which makes the same function serve good and bad input.
func Run(program pulumi.RunFunc, options ...Option) *Result {
	m := newMonitor(options)
	s := m.settings
	withConfig := func(info *pulumi.RunInfo) {
		info.Config, info.ConfigSecretKeys, info.DryRun = s.config, s.secretKeys, s.preview
	}
	err := pulumi.RunErr(program, pulumi.WithMocks(s.project, s.stack, m), withConfig)
	m.mu.Lock()
	defer m.mu.Unlock()
	// The SDK registers the stack's outputs once at the end of every run, whatever the program did.
	const stackOutputs = 1
	return &Result{Err: err, Resources: m.resources, OutputsRegistered: m.outputsRegistered - stackOutputs, Invokes: m.invokeTokens}
}

// Mocks are the mocks Run evaluates a program under, for a program that reaches them another way: a component
// provider's Construct, called over gRPC by a test that plays the engine and hands each registration to
// NewResource and each invoke to Call, as the SDK's own mock monitor does. Run's options apply.
type Mocks struct{ *monitor }

// NewMocks returns mocks that answer and record as Run's do.
func NewMocks(options ...Option) *Mocks { return &Mocks{newMonitor(options)} }

// Result is what the mocks recorded, with err as the program's outcome. OutputsRegistered counts every
// RegisterResourceOutputs the mocks saw: a Construct registers no stack.
func (m *Mocks) Result(err error) *Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &Result{Err: err, Resources: m.resources, OutputsRegistered: m.outputsRegistered, Invokes: m.invokeTokens}
}

func newMonitor(options []Option) *monitor {
	s := &settings{project: DefaultProject, stack: DefaultStack, answers: defaultAnswers(), invokes: defaultInvokes()}
	for _, option := range options {
		option(s)
	}
	return &monitor{settings: s, byID: map[string]resource.PropertyMap{}}
}

// monitor implements pulumi.MockResourceMonitor and records every call.
type monitor struct {
	settings *settings

	mu                sync.Mutex
	resources         []Resource
	byID              map[string]resource.PropertyMap // outputs by ID, so answers can look up what they reference
	outputsRegistered int
	invokeTokens      []string
}

func (m *monitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rec := Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs}
	var secretOutputs []string
	if rpc := args.RegisterRPC; rpc != nil {
		rec.Parent = rpc.GetParent()
		rec.Provider = rpc.GetProvider()
		rec.Providers = rpc.GetProviders()
		rec.Dependencies = append([]string(nil), rpc.GetDependencies()...)
		sort.Strings(rec.Dependencies)
		seen := map[string]bool{}
		for _, deps := range rpc.GetPropertyDependencies() {
			for _, urn := range deps.GetUrns() {
				if !seen[urn] {
					seen[urn] = true
					rec.DataDependencies = append(rec.DataDependencies, urn)
				}
			}
		}
		sort.Strings(rec.DataDependencies)
		rec.Protect = rpc.GetProtect()
		rec.RetainOnDelete = rpc.GetRetainOnDelete()
		rec.IgnoreChanges = rpc.GetIgnoreChanges()
		rec.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		rec.ReplaceOnChanges = rpc.GetReplaceOnChanges()
		rec.Aliases = aliases(rpc.GetAliases(), rpc.GetAliasURNs())
		rec.DeletedWith, rec.ReplaceWith, rec.ImportID = rpc.GetDeletedWith(), rpc.GetReplaceWith(), rpc.GetImportId()
		if timeouts := rpc.GetCustomTimeouts(); timeouts != nil && timeouts.GetCreate()+timeouts.GetUpdate()+timeouts.GetDelete() != "" {
			rec.CustomTimeouts = &CustomTimeouts{Create: timeouts.GetCreate(), Update: timeouts.GetUpdate(), Delete: timeouts.GetDelete()}
		}
		secretOutputs = rpc.GetAdditionalSecretOutputs()
	}
	rec.URN = m.urn(rec.Parent, rec.Type, rec.Name)

	if !args.Custom {
		// Component resources have no provider behind them: nothing to answer.
		m.record(rec)
		return "", resource.PropertyMap{}, nil
	}

	m.mu.Lock()
	answer, ok := m.settings.answers[args.TypeToken]
	m.mu.Unlock()
	if !ok {
		answer = echoAnswer
	}
	id, outputs, err := answer(Request{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs,
		ProviderID: providerID(args.Provider), Lookup: m.lookup})
	if err != nil {
		return "", nil, fmt.Errorf("componenttest: answering %s %q: %w", args.TypeToken, args.Name, err)
	}
	// The engine marks AdditionalSecretOutputs secret; the SDK leaves it to the engine, so the mock must.
	for _, key := range secretOutputs {
		if v, ok := outputs[resource.PropertyKey(key)]; ok && !v.IsSecret() {
			outputs[resource.PropertyKey(key)] = resource.MakeSecret(v)
		}
	}
	rec.ID, rec.Outputs = id, outputs
	m.mu.Lock()
	m.byID[id] = outputs
	m.mu.Unlock()
	m.record(rec)
	return id, outputs, nil
}

func (m *monitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.invokeTokens = append(m.invokeTokens, args.Token)
	answer, ok := m.settings.invokes[args.Token]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("componenttest: no answer for invoke %s; add one with WithInvoke", args.Token)
	}
	return answer(args.Args)
}

// RegisterResourceOutputs is called by the mock monitor once for every ctx.RegisterResourceOutputs.
func (m *monitor) RegisterResourceOutputs() (*emptypb.Empty, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outputsRegistered++
	return &emptypb.Empty{}, nil
}

func (m *monitor) record(rec Resource) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resources = append(m.resources, rec)
}

// lookup finds the outputs of a resource registered earlier, by ID.
func (m *monitor) lookup(id string) (resource.PropertyMap, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	outputs, ok := m.byID[id]
	return outputs, ok
}

// urn computes a resource's URN the way the mock monitor does, so records and references agree.
func (m *monitor) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.settings.stack), tokens.PackageName(m.settings.project),
		parentType, tokens.Type(typ), name))
}

// aliases renders a registration's aliases: a URN as it is, a spec as its set fields ("name=old,type=T").
func aliases(specs []*pulumirpc.Alias, urns []string) []string {
	rendered := append([]string(nil), urns...)
	for _, alias := range specs {
		if urn := alias.GetUrn(); urn != "" {
			rendered = append(rendered, urn)
			continue
		}
		spec := alias.GetSpec()
		var fields []string
		for _, field := range []struct{ key, value string }{
			{"name", spec.GetName()}, {"type", spec.GetType()}, {"stack", spec.GetStack()},
			{"project", spec.GetProject()}, {"parent", spec.GetParentUrn()},
		} {
			if field.value != "" {
				fields = append(fields, field.key+"="+field.value)
			}
		}
		if spec.GetNoParent() {
			fields = append(fields, "noParent")
		}
		rendered = append(rendered, strings.Join(fields, ","))
	}
	return rendered
}

// providerID is the ID part of a provider reference "urn::id".
func providerID(ref string) string {
	if i := strings.LastIndex(ref, "::"); i >= 0 {
		return ref[i+2:]
	}
	return ""
}
