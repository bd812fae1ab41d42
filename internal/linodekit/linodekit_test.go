package linodekit_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/internal/linodekit"
)

// label is linodekit.Label(role) as a program of project/stack sees it.
func label(t *testing.T, project, stack, role string) string {
	t.Helper()
	var got string
	result := componenttest.Run(func(ctx *pulumi.Context) error {
		got = linodekit.Label(ctx, role)
		return nil
	}, componenttest.WithStack(project, stack))
	require.NoError(t, result.Err)
	return got
}

// everyLinodeLabel is what a cluster, database, NodeBalancer, firewall and volume label all accept.
var everyLinodeLabel = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func TestLabelsNameTheStackAndDifferBetweenStacks(t *testing.T) {
	dev, prod := label(t, "gitlab-ha", "dev", "gitlab-db"), label(t, "gitlab-ha", "prod", "gitlab-db")
	assert.Regexp(t, `^dev-gitlab-db-[0-9a-f]{6}$`, dev)
	assert.Regexp(t, `^prod-gitlab-db-[0-9a-f]{6}$`, prod)
	other := label(t, "another-project", "dev", "gitlab-db")
	assert.NotEqual(t, dev, other, "the same stack name in another project is another stack")
	assert.Equal(t, dev[len(dev)-6:], label(t, "gitlab-ha", "dev", "gitlab")[len(label(t, "gitlab-ha", "dev", "gitlab"))-6:],
		"every resource of a stack carries the same suffix")
}

func TestLabelsFitWhatLinodeAccepts(t *testing.T) {
	for _, stack := range []string{"dev", "Prod_EU", "2026-staging", strings.Repeat("very-long-stack-name-", 4), "a--b"} {
		for _, role := range []string{"gitlab", "gitlab-db", "gitlab-lb", "gitlab-nfs-data"} {
			got := label(t, "gitlab-ha", stack, role)
			assert.LessOrEqual(t, len(got), 32, got)
			assert.Regexp(t, everyLinodeLabel, got, "stack %q role %q", stack, role)
			assert.Contains(t, got, "-"+role+"-", "the role is never shortened")
		}
	}
}
