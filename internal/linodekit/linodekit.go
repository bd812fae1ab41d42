// Package linodekit holds what every Linode component needs: Linode's integer IDs from Pulumi's string IDs,
// Linode's flat tags, labels that name the stack, and the address ranges LKE documents.
package linodekit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// PrivateRange is the data center's private network that LKE's control plane and nodes use (LKE's
// documented firewall rules admit kubelet, Calico and WireGuard traffic from it).
const PrivateRange = "192.168.128.0/17"

// NodeBalancerRange is where NodeBalancers reach their backends from.
const NodeBalancerRange = "192.168.255.0/24"

// PodCIDR is the network of an LKE cluster's pods, "private (accessible only within the cluster)" in LKE's
// network documentation. Traffic a node sends to another node's pod leaves masqueraded from this range too.
const PodCIDR = "10.2.0.0/16"

// maxLabel is the longest label Linode takes for a cluster, database, NodeBalancer, firewall or volume.
const maxLabel = 32

var notLabel = regexp.MustCompile(`[^a-z0-9]+`)

// Label is the Linode label of one of a stack's resources: the stack's name and the resource's role, then six
// hex digits of the organization, project and stack, so that two stacks never share a label in one account
// and every resource of a stack carries the same suffix. It fits what every Linode label accepts: at most 32
// characters, letters, digits and single dashes, beginning with a letter; a long stack name is shortened, the
// role and the suffix never are.
func Label(ctx *pulumi.Context, role string) string {
	sum := sha256.Sum256([]byte(ctx.Organization() + "/" + ctx.Project() + "/" + ctx.Stack()))
	suffix := "-" + sanitize(role) + "-" + hex.EncodeToString(sum[:3])
	stack := sanitize(ctx.Stack())
	if stack == "" || stack[0] < 'a' || stack[0] > 'z' {
		stack = "s" + stack
	}
	if room := max(maxLabel-len(suffix), 1); len(stack) > room {
		stack = strings.TrimRight(stack[:room], "-")
	}
	return stack + suffix
}

// sanitize lowercases s and turns every run of characters a label refuses into one dash.
func sanitize(s string) string {
	return strings.Trim(notLabel.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

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
	return pulumi.ToStringArray(TagList(component, extra))
}

// TagList is Tags as plain strings, for what is not a resource input (an annotation, say).
func TagList(component string, extra []string) []string {
	return append([]string{"gitlab-ha", "gitlab-ha-" + component}, extra...)
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

// unroutable are the IPv4 ranges no packet from the internet arrives from: RFC 1918's private networks (the
// data center's 192.168.128.0/17 among them), shared address space (RFC 6598), loopback and link-local.
var unroutable = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("169.254.0.0/16"),
}

// PublicRanges refuses, in an allow-list of a service that has public addresses only (a managed database),
// any range that overlaps a network no connection to a public address comes from: such an entry admits
// nobody, and a stack relying on it would fail only when GitLab first connects. Also refuses what NoOpenRange
// refuses, except that an empty list is fine.
func PublicRanges(field string, cidrs []string) error {
	for i, cidr := range cidrs {
		entry := fmt.Sprintf("%s[%d]", field, i)
		prefix, err := validate.CIDR(entry, cidr)
		if err != nil {
			return err
		}
		if prefix.Bits() == 0 {
			return validate.Errorf(entry, cidr, "opens the service to the whole internet")
		}
		if !prefix.Addr().Is4() {
			return validate.Errorf(entry, cidr, "is not an IPv4 range; LKE's nodes and pods reach the database over IPv4")
		}
		for _, private := range unroutable {
			if private.Overlaps(prefix) {
				return validate.Errorf(entry, cidr, "overlaps %s, from which no connection reaches the database: it has public hosts only "+
					"(no private network host, and no VPC with this provider); name public addresses", private)
			}
		}
	}
	return nil
}

// IsPublicIPv4 reports whether address is an IPv4 address outside every range PublicRanges refuses: a node's
// address from which its pods reach a public service.
func IsPublicIPv4(address string) bool {
	a, err := netip.ParseAddr(address)
	if err != nil || !a.Is4() {
		return false
	}
	for _, private := range unroutable {
		if private.Contains(a) {
			return false
		}
	}
	return true
}
