// Package awstest runs AWS programs under the mock harness with an explicit provider, as the stacks do.
package awstest

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/internal/awstags"
)

// Region the tests run in.
const Region = "eu-west-1"

// Run evaluates program with an AWS provider named "aws" in Region, which program must pass to what it builds.
// Options (a stack name, say) go to componenttest.Run.
func Run(program func(ctx *pulumi.Context, provider pulumi.ProviderResource) error, options ...componenttest.Option) *componenttest.Result {
	return componenttest.Run(func(ctx *pulumi.Context) error {
		provider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{Region: pulumi.String(Region)})
		if err != nil {
			return err
		}
		return program(ctx, provider)
	}, options...)
}

// Value awaits an output and returns its value, failing the test if it cannot.
func Value(t *testing.T, o pulumi.Output) any {
	t.Helper()
	got, err := componenttest.Await(o)
	require.NoError(t, err)
	require.True(t, got.Known)
	return got.Value
}

// ProviderRef is the provider reference every child of a component built by Run should carry.
func ProviderRef(t *testing.T, result *componenttest.Result) string {
	t.Helper()
	provider, ok := result.Find("pulumi:providers:aws", "aws")
	require.True(t, ok)
	return provider.URN + "::" + provider.ID
}

// CheckComponent asserts what every AWS component promises of its children: each AWS child is managed by the
// provider Run made, every taggable AWS resource carries its component's tag, and every component registered
// its outputs. It returns the component's children for the caller's own checks.
func CheckComponent(t *testing.T, result *componenttest.Result, componentURN string) []componenttest.Resource {
	t.Helper()
	provider := ProviderRef(t, result)
	children := result.ChildrenOf(componentURN)
	assert.NotEmpty(t, children)
	for _, r := range children {
		if strings.HasPrefix(r.Type, "aws:") {
			assert.Equal(t, provider, r.Provider, "%s %s", r.Type, r.Name)
		}
	}
	assert.Empty(t, result.UntaggedAWSResources(awstags.ComponentKey))
	assert.Equal(t, len(result.Components()), result.OutputsRegistered, "every component registers its outputs")
	return children
}
