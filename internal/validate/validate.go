// Package validate holds the checks that every component runs on its Args before it registers anything.
//
// Args fields are often pulumi Inputs: a caller may pass a literal (pulumi.String("x")) or an Output that
// is only known during a deployment. The Literal* helpers return a literal's value so that it can be checked
// up front; an Output is reported as not literal, and its check is left to the provider.
package validate

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Error names the Args field (or config key) at fault and the value it had.
type Error struct {
	Field  string // e.g. "zones[2].name"
	Value  any    // the bad value, quoted in the message when it is a string
	Reason string // what is wrong, in a phrase
}

func (e *Error) Error() string {
	switch v := e.Value.(type) {
	case nil:
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	case string:
		return fmt.Sprintf("%s: %q %s", e.Field, v, e.Reason)
	default:
		return fmt.Sprintf("%s: %v %s", e.Field, v, e.Reason)
	}
}

// Errorf builds an *Error for field with the bad value and a reason.
func Errorf(field string, value any, reason string, args ...any) error {
	return &Error{Field: field, Value: value, Reason: fmt.Sprintf(reason, args...)}
}

// Missing reports a required field that was not given.
func Missing(field string) error {
	return &Error{Field: field, Reason: "is required"}
}

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1035Label = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	labelValue   = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`)
	// quantity accepts the Kubernetes resource quantities people write: 500m, 2, 1.5, 8Gi, 512Mi.
	quantity = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$`)
)

// DNSLabel checks a Kubernetes object name or label that must be an RFC 1123 label.
func DNSLabel(field, value string) error {
	if len(value) > 63 || !dns1123Label.MatchString(value) {
		return Errorf(field, value, "is not a valid DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters")
	}
	return nil
}

// ServiceName checks a name that becomes a Service's DNS name, which must start with a letter (RFC 1035).
func ServiceName(field, value string) error {
	if len(value) > 63 || !dns1035Label.MatchString(value) {
		return Errorf(field, value, "is not a valid Service name: lowercase letters, digits and '-', starting with a letter, at most 63 characters")
	}
	return nil
}

// LabelValue checks a Kubernetes label value.
func LabelValue(field, value string) error {
	if len(value) > 63 || !labelValue.MatchString(value) {
		return Errorf(field, value, "is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit")
	}
	return nil
}

// Quantity checks a Kubernetes resource quantity such as "500m" or "8Gi".
func Quantity(field, value string) error {
	if !quantity.MatchString(value) {
		return Errorf(field, value, "is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 8Gi)")
	}
	return nil
}

// Port checks a TCP port number.
func Port(field string, value int) error {
	if value < 1 || value > 65535 {
		return Errorf(field, value, "is not a TCP port (1-65535)")
	}
	return nil
}

// CIDR parses an IPv4 or IPv6 prefix in canonical form ("10.0.0.0/16", not "10.0.0.1/16").
func CIDR(field, value string) (netip.Prefix, error) {
	prefix, err := netip.ParsePrefix(value)
	if err != nil {
		return netip.Prefix{}, Errorf(field, value, "is not a CIDR block")
	}
	if prefix != prefix.Masked() {
		return netip.Prefix{}, Errorf(field, value, "has host bits set; did you mean %s?", prefix.Masked())
	}
	return prefix, nil
}

// LiteralString returns the value of in when the caller passed a literal, and false for nil or an Output.
func LiteralString(in pulumi.StringInput) (string, bool) {
	switch v := in.(type) {
	case pulumi.String:
		return string(v), true
	case *pulumi.String:
		if v != nil {
			return string(*v), true
		}
	}
	return "", false
}

// LiteralInt returns the value of in when the caller passed a literal, and false for nil or an Output.
func LiteralInt(in pulumi.IntInput) (int, bool) {
	switch v := in.(type) {
	case pulumi.Int:
		return int(v), true
	case *pulumi.Int:
		if v != nil {
			return int(*v), true
		}
	}
	return 0, false
}

// LiteralStrings returns the elements of in when it is a literal array of literal strings, and false when
// in is nil, an Output, or holds any Output element (so that indices in errors stay true).
func LiteralStrings(in pulumi.StringArrayInput) ([]string, bool) {
	arr, ok := in.(pulumi.StringArray)
	if !ok {
		return nil, false
	}
	values := make([]string, len(arr))
	for i, element := range arr {
		if values[i], ok = LiteralString(element); !ok {
			return nil, false
		}
	}
	return values, true
}

// RequiredString fails when a required string input is nil or a literal empty string.
func RequiredString(field string, in pulumi.StringInput) error {
	if in == nil {
		return Missing(field)
	}
	if s, ok := LiteralString(in); ok && s == "" {
		return Missing(field)
	}
	return nil
}

// ZoneNames checks that every zone is a DNS label (it names Kubernetes objects and cloud resources) and that
// none repeats another.
func ZoneNames(zones []string) error {
	seen := map[string]int{}
	for i, zone := range zones {
		field := fmt.Sprintf("zones[%d]", i)
		if err := DNSLabel(field, zone); err != nil {
			return err
		}
		if first, dup := seen[zone]; dup {
			return Errorf(field, zone, "repeats zones[%d]", first)
		}
		seen[zone] = i
	}
	return nil
}

// ZoneSubnets checks a list of zones (at least min, no repeats) and that subnets has an ID for each; field
// names the subnet map, as in `subnetIds["eu-west-1a"]`.
func ZoneSubnets(zones []string, min int, field string, subnets map[string]pulumi.StringInput) error {
	if len(zones) < min {
		return Errorf("zones", len(zones), "zones given; at least %d needed", min)
	}
	seen := map[string]int{}
	for i, zone := range zones {
		if first, dup := seen[zone]; dup {
			return Errorf(fmt.Sprintf("zones[%d]", i), zone, "repeats zones[%d]", first)
		}
		seen[zone] = i
		if err := RequiredString(fmt.Sprintf("%s[%q]", field, zone), subnets[zone]); err != nil {
			return err
		}
	}
	return nil
}

// labelKey is a Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name of at most 63
// characters.
var labelKey = regexp.MustCompile(`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

// LabelKey checks a Kubernetes label key such as "app.kubernetes.io/name".
func LabelKey(field, value string) error {
	name := value
	if i := strings.LastIndex(value, "/"); i >= 0 {
		if i > 253 {
			return Errorf(field, value, "has a prefix longer than 253 characters")
		}
		name = value[i+1:]
	}
	if len(name) > 63 || !labelKey.MatchString(value) {
		return Errorf(field, value, "is not a valid label key: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit")
	}
	return nil
}
