package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gitlab-ha/gitlab-ha/internal/plan"
)

func TestTheDiffNamesWhatIsAddedRemovedAndWhichInputsChanged(t *testing.T) {
	before := &plan.Plan{Resources: []plan.Resource{
		{URN: "urn:a", Type: "aws:rds/instance:Instance", Name: "db", Inputs: map[string]any{"multiAz": false, "tags": map[string]any{"Name": "db"}}},
		{URN: "urn:b", Type: "aws:ec2/subnet:Subnet", Name: "old"},
		{URN: "urn:c", Type: "aws:ec2/vpc:Vpc", Name: "same", Inputs: map[string]any{"cidrBlock": "10.0.0.0/16"}},
	}}
	after := &plan.Plan{Resources: []plan.Resource{
		{URN: "urn:a", Type: "aws:rds/instance:Instance", Name: "db", Protect: true, Inputs: map[string]any{"multiAz": true, "tags": map[string]any{"Name": "db"}}},
		{URN: "urn:c", Type: "aws:ec2/vpc:Vpc", Name: "same", Inputs: map[string]any{"cidrBlock": "10.0.0.0/16"}},
		{URN: "urn:d", Type: "aws:ec2/subnet:Subnet", Name: "new"},
	}}
	var out strings.Builder
	diff(&out, before, after)
	assert.Equal(t, `~ aws:rds/instance:Instance db: [multiAz (protect)]
+ aws:ec2/subnet:Subnet new
- aws:ec2/subnet:Subnet old
1 to add, 1 to change, 1 to remove
`, out.String())
}

// A change to a resource option alone changes what an update does (how long it waits, what it replaces first,
// which inputs it leaves alone), so it shows as a change even when no input differs.
func TestTheDiffShowsAChangedResourceOptionWithNoInputChanged(t *testing.T) {
	deployment := plan.Resource{URN: "urn:z", Type: "kubernetes:apps/v1:Deployment", Name: "gitlab-eu-west-1a",
		CustomTimeouts: &plan.CustomTimeouts{Create: "25m", Update: "25m"}, Inputs: map[string]any{"kind": "Deployment"}}
	volume := plan.Resource{URN: "urn:v", Type: "kubernetes:core/v1:PersistentVolume", Name: "gitlab-eu-west-1a",
		Inputs: map[string]any{"kind": "PersistentVolume"}}
	longer, replacedFirst := deployment, volume
	longer.CustomTimeouts = &plan.CustomTimeouts{Create: "40m", Update: "40m"}
	replacedFirst.DeleteBeforeReplace, replacedFirst.IgnoreChanges = true, []string{"spec.nfs"}

	var out strings.Builder
	diff(&out, &plan.Plan{Resources: []plan.Resource{deployment, volume}}, &plan.Plan{Resources: []plan.Resource{longer, replacedFirst}})
	assert.Equal(t, `~ kubernetes:apps/v1:Deployment gitlab-eu-west-1a: [(customTimeouts)]
~ kubernetes:core/v1:PersistentVolume gitlab-eu-west-1a: [(deleteBeforeReplace) (ignoreChanges)]
0 to add, 2 to change, 0 to remove
`, out.String())
}
