package gitlab_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

// BenchmarkNewGitLabThreeZones measures evaluating the component under mocks: validation, 24 children, and
// the mock engine's round trips.
func BenchmarkNewGitLabThreeZones(b *testing.B) {
	for i := 0; i < b.N; i++ {
		result := componenttest.Run(func(ctx *pulumi.Context) error {
			_, err := gitlab.NewGitLab(ctx, "gitlab", threeZones())
			return err
		})
		if result.Err != nil {
			b.Fatal(result.Err)
		}
	}
}
