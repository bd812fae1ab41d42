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

// Check is one component's validation in the pre-flight, with the way back from its Args fields to the
// configuration keys they came from.
type Check struct {
	Component string
	Validate  func() error
	Key       func(field string) string
}

// Preflight refuses a configuration for another platform than the caller builds, checks the configuration
// as a whole, then runs every component's check on the arguments it will get, before anything is registered. It
// returns the first failure as an error that names the configuration key, so that a bad stack fails as
// `pulumi up` would, and registers nothing.
func Preflight(cfg *Config, platform string, checks func(*Config) []Check) error {
	if cfg.Platform != platform {
		return validate.Errorf(Namespace+":platform", cfg.Platform, "is not %s, the only platform this program builds", platform)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return runChecks(checks(cfg))
}

// CloudPreflight runs checks that ask the cloud, through the stack's provider, whether it offers what the
// configuration chose (a Kubernetes version, a region's capability), after Preflight and before anything
// but the provider is registered. Under mocks the harness answers them; with credentials, the cloud does, on
// pulumi preview and up alike. The first refusal names the configuration key, as Preflight's do.
func CloudPreflight(checks []Check) error {
	return runChecks(checks)
}

func runChecks(checks []Check) error {
	for _, c := range checks {
		err := c.Validate()
		if err == nil {
			continue
		}
		var field *validate.Error
		if errors.As(err, &field) {
			return &validate.Error{Field: Namespace + ":" + c.Key(field.Field), Value: field.Value, Reason: field.Reason}
		}
		return fmt.Errorf("%s: %s: %w", Namespace, c.Component, err)
	}
	return nil
}

// Renames maps an Args field to its configuration key: the longest matching prefix of the field is
// replaced; a field no prefix matches lives under section.
func Renames(section string, prefixes map[string]string) func(string) string {
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

// GitLabKey maps the GitLab component's fields: a zone's name is the zones list's entry, its NFS server is
// the existing cluster's, the external URL comes from gitlab.host, the database from existing.database.
func GitLabKey(zones []string) func(string) string {
	rest := Renames("gitlab", map[string]string{
		"externalURL": "gitlab.host", "service.healthCheckNodePort": "gitlab.healthCheckNodePort",
		"service.proxyProtocol": "existing.proxyProtocolFrom", "service.proxyProtocol.trustedCidrs": "existing.proxyProtocolFrom",
		"database.host": "existing.database.host", "database.port": "existing.database.port",
		"database.sslMode": "existing.database.sslMode", "database.password": "databasePassword", "namespace": "gitlab.namespace",
		"keys": "gitlabKeys",
		// Object storage: an existing cluster's service comes from objectStorage and the secret keys; the
		// platforms that build their buckets pass generated values.
		"objectStorage": "objectStorage", "objectStorage.connection": "objectStorage",
		"objectStorage.connection.accessKeyID": "objectStorageAccessKeyId", "objectStorage.connection.secretAccessKey": "objectStorageSecretAccessKey",
		"backup": "backup", "backup.pruneAfterDays": "backup.retentionDays", "backup.connection": "objectStorage",
		"backup.connection.accessKeyID": "backupAccessKeyId", "backup.connection.secretAccessKey": "backupSecretAccessKey",
		"gitStorage": "gitStorage", "metrics.scraperNamespace": "monitoring.prometheusNamespace",
		"metrics.scraperLabels": "monitoring.prometheusPodLabels",
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

// GitLabKeyWithStorage is GitLabKey for a platform whose zones all take their storage from one key (Linode's
// linode.fileStorage), rather than from a server per zone.
func GitLabKeyWithStorage(zones []string, storageKey string) func(string) string {
	key := GitLabKey(zones)
	return func(field string) string {
		if m := zoneField.FindStringSubmatch(field); m != nil && strings.HasPrefix(m[2], ".storage") {
			return storageKey
		}
		return key(field)
	}
}
