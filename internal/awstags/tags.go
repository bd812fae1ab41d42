// Package awstags builds the tags of an AWS resource. Project and stack reach every resource through the
// AWS provider's default tags (see providers/); a component adds what only it knows: the resource's Name and
// the component that made it.
package awstags

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// ComponentKey is the tag that names the component a resource belongs to.
const ComponentKey = "gitlab-ha:component"

// For returns the tags of one resource: Name, the component, and the caller's extra tags (which win).
func For(component, name string, extra map[string]string) pulumi.StringMap {
	tags := pulumi.StringMap{"Name": pulumi.String(name), ComponentKey: pulumi.String(component)}
	for k, v := range extra {
		tags[k] = pulumi.String(v)
	}
	return tags
}
