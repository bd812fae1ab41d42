// Package stackconfig reads a project's Pulumi.yaml and one stack's Pulumi.<stack>.yaml with Pulumi's own
// loaders and hands back the configuration as the engine would give it to the program: "namespace:key"
// keys, object values as JSON, project defaults filled in for keys the stack leaves out, and the keys whose
// values are secret. Secure values cannot be decrypted without the stack's secrets provider, so they come
// back blinded: "[secret]", and listed as secret.
package stackconfig

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// Stack is one stack's configuration, ready for the program.
type Stack struct {
	Project    string
	Name       string
	Config     map[string]string
	SecretKeys []string
}

// Load reads dir/Pulumi.yaml and dir/Pulumi.<stack>.yaml.
func Load(dir, stack string) (*Stack, error) {
	project, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("reading Pulumi.yaml: %w", err)
	}
	// Pulumi's loader treats a missing stack file as a new, empty stack; planning defaults for a typo would
	// be worse than no plan.
	stackFile := filepath.Join(dir, "Pulumi."+stack+".yaml")
	if _, err := os.Stat(stackFile); err != nil {
		return nil, fmt.Errorf("stack %q: no %s", stack, stackFile)
	}
	sink := diag.DefaultSink(io.Discard, os.Stderr, diag.FormatOptions{Color: colors.Never})
	projectStack, err := workspace.LoadProjectStack(sink, project, stackFile)
	if err != nil {
		return nil, fmt.Errorf("reading Pulumi.%s.yaml: %w", stack, err)
	}
	values, err := projectStack.Config.Decrypt(config.NewBlindingDecrypter())
	if err != nil {
		return nil, fmt.Errorf("Pulumi.%s.yaml: %w", stack, err)
	}
	out := &Stack{Project: project.Name.String(), Name: stack, Config: map[string]string{}}
	for key, value := range values {
		out.Config[key.String()] = value
	}
	for _, key := range projectStack.Config.SecureKeys() {
		out.SecretKeys = append(out.SecretKeys, key.String())
	}
	if err := out.applyDefaults(project); err != nil {
		return nil, err
	}
	sort.Strings(out.SecretKeys)
	return out, nil
}

// applyDefaults fills in a project-level default for every key the stack does not set, as the engine does.
// A key declared without a namespace belongs to the project.
func (s *Stack) applyDefaults(project *workspace.Project) error {
	for name, declared := range project.Config {
		key, err := config.ParseKey(name)
		if err != nil {
			key = config.MustMakeKey(s.Project, name)
		}
		if _, set := s.Config[key.String()]; set || declared.Default == nil {
			continue
		}
		if text, ok := declared.Default.(string); ok {
			s.Config[key.String()] = text
			continue
		}
		body, err := json.Marshal(normalize(declared.Default))
		if err != nil {
			return fmt.Errorf("Pulumi.yaml: default of %s: %w", name, err)
		}
		s.Config[key.String()] = string(body)
	}
	return nil
}

// normalize turns YAML's map[any]any into map[string]any so that a default can be written as JSON.
func normalize(v any) any {
	switch value := v.(type) {
	case map[any]any:
		out := map[string]any{}
		for k, e := range value {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range value {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(value))
		for i, e := range value {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}
