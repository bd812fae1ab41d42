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
