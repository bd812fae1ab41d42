package awstest

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// PolicyDocument is an IAM policy's JSON, as tests read it.
type PolicyDocument struct {
	Statement []struct {
		Sid       string
		Effect    string
		Principal any
		Action    any
		Resource  any
		Condition map[string]map[string]any
	}
}

// ParsePolicy reads an IAM policy document, failing the test on bad JSON.
func ParsePolicy(t testing.TB, text string) PolicyDocument {
	t.Helper()
	var doc PolicyDocument
	require.NoError(t, json.Unmarshal([]byte(text), &doc), text)
	return doc
}

// PolicyStrings reads a policy element that may be a string or a list of strings, sorted.
func PolicyStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = e.(string)
		}
		sort.Strings(out)
		return out
	}
	return nil
}
