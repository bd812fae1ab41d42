// Package linodekit holds what every Linode component needs: Linode's integer IDs from Pulumi's string IDs,
// and Linode's flat tags.
package linodekit

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// PrivateRange is the data center's private network that LKE's control plane and nodes use (LKE's
// documented firewall rules admit kubelet, Calico and WireGuard traffic from it).
const PrivateRange = "192.168.128.0/17"

// NodeBalancerRange is where NodeBalancers reach their backends from.
const NodeBalancerRange = "192.168.255.0/24"

var regionPattern = regexp.MustCompile(`^[a-z]{2}-[a-z]+$`)

// Region checks a Linode region ID such as "eu-central" or "us-lax".
func Region(field, region string) error {
	if !regionPattern.MatchString(region) {
		return validate.Errorf(field, region, "is not a Linode region such as eu-central or us-lax")
	}
	return nil
}

// IntID turns a resource's ID ("12345") into the integer other Linode resources take.
func IntID(id pulumi.IDOutput) pulumi.IntOutput {
	return id.ApplyT(func(id pulumi.ID) (int, error) {
		n, err := strconv.Atoi(string(id))
		if err != nil {
			return 0, fmt.Errorf("linode ID %q is not a number", id)
		}
		return n, nil
	}).(pulumi.IntOutput)
}

// Tags are a Linode resource's tags: the project's, the component's, and the caller's.
func Tags(component string, extra []string) pulumi.StringArray {
	tags := pulumi.StringArray{pulumi.String("gitlab-ha"), pulumi.String("gitlab-ha-" + component)}
	for _, tag := range extra {
		tags = append(tags, pulumi.String(tag))
	}
	return tags
}

// NoOpenRange refuses 0.0.0.0/0 in an allow-list that must name who may connect.
func NoOpenRange(field string, cidrs []string) error {
	if len(cidrs) == 0 {
		return validate.Errorf(field, nil, "is empty: name the networks that may connect")
	}
	for i, cidr := range cidrs {
		prefix, err := validate.CIDR(fmt.Sprintf("%s[%d]", field, i), cidr)
		if err != nil {
			return err
		}
		if prefix.Bits() == 0 {
			return validate.Errorf(fmt.Sprintf("%s[%d]", field, i), cidr, "opens the service to the whole internet")
		}
	}
	return nil
}
