package stacks

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// check is one component's validation in the pre-flight, with the way back from its Args fields to the
// configuration keys they came from.
type check struct {
	component string
	validate  func() error
	key       func(field string) string
}

// preflight runs every check before anything is registered, and returns the first failure as an error
// that names the configuration key, so that a bad stack fails as `pulumi up` would, and registers nothing.
func preflight(checks ...check) error {
	for _, c := range checks {
		err := c.validate()
		if err == nil {
			continue
		}
		var field *validate.Error
		if errors.As(err, &field) {
			return &validate.Error{Field: Namespace + ":" + c.key(field.Field), Value: field.Value, Reason: field.Reason}
		}
		return fmt.Errorf("%s: %s: %w", Namespace, c.component, err)
	}
	return nil
}

// renames maps an Args field to its configuration key: the longest matching prefix of the field is
// replaced; a field no prefix matches lives under section.
func renames(section string, prefixes map[string]string) func(string) string {
	ordered := make([]string, 0, len(prefixes))
	for prefix := range prefixes {
		ordered = append(ordered, prefix)
	}
	sort.Slice(ordered, func(i, j int) bool { return len(ordered[i]) > len(ordered[j]) })
	return func(field string) string {
		for _, prefix := range ordered {
			if field == prefix || strings.HasPrefix(field, prefix+".") || strings.HasPrefix(field, prefix+"[") {
				return prefixes[prefix] + field[len(prefix):]
			}
		}
		return section + "." + field
	}
}

var zoneField = regexp.MustCompile(`^zones\[(\d+)\](.*)$`)

// gitlabKey maps the GitLab component's fields: a zone's name is the zones list's entry, its NFS server is
// the existing cluster's, the external URL comes from gitlab.host, the database from existing.database.
func gitlabKey(zones []string) func(string) string {
	rest := renames("gitlab", map[string]string{
		"externalURL": "gitlab.host", "database.host": "existing.database.host", "database.port": "existing.database.port",
		"database.sslMode": "existing.database.sslMode", "database.password": "databasePassword", "namespace": "gitlab.namespace",
	})
	return func(field string) string {
		m := zoneField.FindStringSubmatch(field)
		if m == nil {
			return rest(field)
		}
		i, _ := strconv.Atoi(m[1])
		switch {
		case strings.HasPrefix(m[2], ".storage") && i < len(zones):
			return fmt.Sprintf("existing.nfsServers[%q]", zones[i])
		case strings.HasPrefix(m[2], ".nodeSelector"):
			return "existing.zoneLabel"
		}
		return "zones[" + m[1] + "]"
	}
}
