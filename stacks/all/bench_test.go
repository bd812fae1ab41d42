package all_test

import (
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/internal/stackconfig"
	"github.com/gitlab-ha/gitlab-ha/stacks/all"
)

// trivial is the cheapest custom resource there is: no inputs, no outputs.
type trivial struct{ pulumi.CustomResourceState }

// floor registers n trivial resources: what evaluating any program of that size costs at least.
func floor(n int) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		for i := 0; i < n; i++ {
			var r trivial
			if err := ctx.RegisterResource("test:index:Trivial", fmt.Sprintf("r%d", i), pulumi.Map{}, &r); err != nil {
				return err
			}
		}
		return nil
	}
}

func benchmarkStack(b *testing.B, name string) {
	config, err := stackconfig.Load("../..", name)
	if err != nil {
		b.Fatal(err)
	}
	options := []componenttest.Option{componenttest.WithPreview(), componenttest.WithStack("gitlab-ha", name),
		componenttest.WithConfig(config.Config, config.SecretKeys...)}
	first := componenttest.Run(all.Program, options...)
	if first.Err != nil {
		b.Fatal(first.Err)
	}
	b.Run("stack", func(b *testing.B) {
		b.ReportMetric(float64(len(first.Resources)), "resources")
		for i := 0; i < b.N; i++ {
			if result := componenttest.Run(all.Program, options...); result.Err != nil {
				b.Fatal(result.Err)
			}
		}
	})
	b.Run("floor", func(b *testing.B) {
		b.ReportMetric(float64(len(first.Resources)), "resources")
		for i := 0; i < b.N; i++ {
			if result := componenttest.Run(floor(len(first.Resources))); result.Err != nil {
				b.Fatal(result.Err)
			}
		}
	})
}

// BenchmarkDev and BenchmarkProd evaluate the real stacks under mocks, each beside a floor of as many trivial
// resources; the ratio of the two is what the components' own work costs.
func BenchmarkDev(b *testing.B)  { benchmarkStack(b, "dev") }
func BenchmarkProd(b *testing.B) { benchmarkStack(b, "prod") }
