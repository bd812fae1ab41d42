package componenttest

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Rejects runs program and checks that it failed with an error containing want, having registered
// nothing: the contract for bad arguments, which must be refused before any resource exists.
func Rejects(t testing.TB, program pulumi.RunFunc, want string, options ...Option) *Result {
	t.Helper()
	result := Run(program, options...)
	switch {
	case result.Err == nil:
		t.Errorf("want an error containing %q, got none", want)
	case !strings.Contains(result.Err.Error(), want):
		t.Errorf("want an error containing %q, got %q", want, result.Err.Error())
	}
	if len(result.Resources) > 0 {
		t.Errorf("a refused program registered %d resources, the first %s %s", len(result.Resources),
			result.Resources[0].Type, result.Resources[0].Name)
	}
	return result
}

// MustInput returns the input at path, failing t when there is none.
func (res Resource) MustInput(t testing.TB, path string) any {
	t.Helper()
	v, ok := res.Input(path)
	if !ok {
		t.Fatalf("%s %s has no input %s", res.Type, res.Name, path)
	}
	return v
}

// MustAwait is Await for a value the test needs: it fails the test unless the output resolves to a known value.
func MustAwait(t testing.TB, o pulumi.Output) Awaited {
	t.Helper()
	got, err := Await(o)
	if err != nil {
		t.Fatalf("awaiting an output: %v", err)
	}
	if !got.Known {
		t.Fatalf("the output is unknown")
	}
	return got
}
