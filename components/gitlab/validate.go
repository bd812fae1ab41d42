package gitlab

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// withDefaults returns a copy of args with every unset field at its documented default.
func withDefaults(args GitLabArgs) GitLabArgs {
	setString := func(field *string, value string) {
		if *field == "" {
			*field = value
		}
	}
	setString(&args.Namespace, "gitlab")
	setString(&args.Image, DefaultImage)
	setString(&args.Version, imageVersion(args.Image))
	setString(&args.RedisImage, DefaultRedisImage)
	setString(&args.Service.Type, "ClusterIP")
	setString(&args.Metrics.ScraperNamespace, DefaultScraperNamespace)
	if args.Service.Type == "LoadBalancer" && args.Service.HealthCheckNodePort == 0 {
		args.Service.HealthCheckNodePort = DefaultHealthCheckNodePort
	}
	setString(&args.Database.SSLMode, "require")
	setString(&args.Resources.CPURequest, "2")
	setString(&args.Resources.MemoryRequest, "8Gi")
	setString(&args.Resources.CPULimit, "4")
	setString(&args.Resources.MemoryLimit, "8Gi")
	setString(&args.Resources.EphemeralStorageRequest, "2Gi")
	setString(&args.Resources.EphemeralStorageLimit, "20Gi")
	if args.ReplicasPerZone == nil {
		args.ReplicasPerZone = pulumi.IntRef(1)
	}
	if args.Backup != nil {
		backup := *args.Backup
		setString(&backup.Schedule, DefaultBackupSchedule)
		setString(&backup.ScratchSize, "20Gi")
		args.Backup = &backup
	}
	if args.Database.Port == nil {
		args.Database.Port = pulumi.Int(5432)
	}
	if args.Database.Name == nil {
		args.Database.Name = pulumi.String("gitlabhq_production")
	}
	if args.Database.User == nil {
		args.Database.User = pulumi.String("gitlab")
	}
	if args.Redis != nil {
		redis := *args.Redis
		if redis.Port == nil {
			redis.Port = pulumi.Int(6379)
		}
		args.Redis = &redis
	}
	zones := make([]Zone, len(args.Zones))
	for i, zone := range args.Zones {
		if zone.NodeSelector == nil {
			zone.NodeSelector = map[string]string{ZoneLabel: zone.Name}
		}
		setString(&zone.Storage.Size, "100Gi")
		if zone.Storage.NFS != nil {
			nfs := *zone.Storage.NFS
			setString(&nfs.Path, "/")
			zone.Storage.NFS = &nfs
		}
		zones[i] = zone
	}
	args.Zones = zones
	return args
}

// validateArgs checks defaulted args and returns the first problem, naming the field and the bad value.
func validateArgs(name string, args GitLabArgs) error {
	// The component's name prefixes its Kubernetes objects, and names the Service.
	if err := validate.ServiceName("name", name); err != nil {
		return err
	}
	if err := validate.DNSLabel("namespace", args.Namespace); err != nil {
		return err
	}
	if err := validateZones(name, args); err != nil {
		return err
	}
	if *args.ReplicasPerZone < 1 {
		return validate.Errorf("replicasPerZone", *args.ReplicasPerZone, "must be at least 1")
	}
	if err := validateURL(args.ExternalURL); err != nil {
		return err
	}
	if args.TLSSecretName != "" {
		if err := validate.DNSLabel("tlsSecretName", args.TLSSecretName); err != nil {
			return err
		}
		if raw, ok := validate.LiteralString(args.ExternalURL); ok && !strings.HasPrefix(raw, "https://") {
			return validate.Errorf("tlsSecretName", args.TLSSecretName, "is set, but externalURL %q is not https", raw)
		}
	}
	if err := validateDatabase(args.Database); err != nil {
		return err
	}
	if args.Redis != nil {
		if err := validate.RequiredString("redis.host", args.Redis.Host); err != nil {
			return err
		}
		if port, ok := validate.LiteralInt(args.Redis.Port); ok {
			if err := validate.Port("redis.port", port); err != nil {
				return err
			}
		}
	}
	if err := validateResources(args.Resources); err != nil {
		return err
	}
	if err := validateVersion(name, args); err != nil {
		return err
	}
	if err := validateExtraConfig(args.ExtraConfig); err != nil {
		return err
	}
	if err := validateKeys(args.Keys); err != nil {
		return err
	}
	if err := validateObjectStorage(args.ObjectStorage); err != nil {
		return err
	}
	if err := validateBackup(name, args.Backup, args.ObjectStorage); err != nil {
		return err
	}
	if err := validateGitStorage(args); err != nil {
		return err
	}
	if err := validateService(args.Service); err != nil {
		return err
	}
	if err := validateMetrics(args.Metrics); err != nil {
		return err
	}
	return validateTraffic(args)
}

// validateVersion checks that the release has a version, that the image's tag does not contradict it, and
// that the Jobs it names fit Kubernetes' limit.
func validateVersion(name string, args GitLabArgs) error {
	if args.Version == "" {
		return validate.Errorf("version", nil, "is required: image %q has no tag that names a GitLab version (such as 18.11.11-ce.0)", args.Image)
	}
	if !versionPattern.MatchString(args.Version) {
		return validate.Errorf("version", args.Version, "is not a GitLab version such as 18.11.11")
	}
	if tagged := imageVersion(args.Image); tagged != "" && tagged != args.Version {
		return validate.Errorf("version", args.Version, "differs from %s, the version image %q names", tagged, args.Image)
	}
	if job := longestJobName(name, args.Version); len(job) > maxJobNameLength {
		return validate.Errorf("name", name, "makes the migration Job name %q, longer than %d characters; use a shorter component name", job, maxJobNameLength)
	}
	return nil
}

// servicesWithoutSecrets are the settings that turn on, through ExtraConfig, an Omnibus service whose secrets
// Omnibus generates only with package['generate_default_secrets'], which the configuration turns off so that no
// replica keeps a secret of its own: the Container Registry's http_secret and internal key
// (gitlab/libraries/registry.rb parse_secrets), Pages' API secret and OAuth registration (gitlab-pages/
// libraries/gitlab_pages.rb), Mattermost's salts (gitlab_mattermost.rb) and mail room's webhook token
// (gitlab/libraries/incoming_email.rb). Each would start with empty secrets and no error; none is run across
// zones by this component.
var servicesWithoutSecrets = []struct {
	pattern *regexp.Regexp
	service string
}{
	{regexp.MustCompile(`\bregistry_external_url\b`), "the Container Registry"},
	{regexp.MustCompile(`\bpages_external_url\b`), "GitLab Pages"},
	{regexp.MustCompile(`\bmattermost_external_url\b`), "Mattermost"},
	{regexp.MustCompile(`(incoming_email|service_desk_email)_delivery_method'\]\s*=\s*['"]webhook['"]`), "mail room's webhook delivery"},
}

// validateExtraConfig refuses ExtraConfig that turns on a service Omnibus would run with empty secrets.
// Comment lines are skipped.
func validateExtraConfig(extra string) error {
	for i, line := range strings.Split(extra, "\n") {
		code := strings.TrimSpace(line)
		if strings.HasPrefix(code, "#") {
			continue
		}
		for _, s := range servicesWithoutSecrets {
			if setting := s.pattern.FindString(code); setting != "" {
				return validate.Errorf("extraConfig", code,
					"(line %d) turns on %s, whose secrets Omnibus generates only on a single node: with package['generate_default_secrets'] off, "+
						"so that every replica shares its keys, it would run with empty secrets; the component does not run it", i+1, s.service)
			}
		}
	}
	return nil
}

func validateZones(name string, args GitLabArgs) error {
	if len(args.Zones) == 0 {
		return validate.Errorf("zones", nil, "needs at least one zone")
	}
	seen := map[string]int{}
	for i, zone := range args.Zones {
		field := fmt.Sprintf("zones[%d]", i)
		if err := validate.DNSLabel(field+".name", zone.Name); err != nil {
			return err
		}
		if first, dup := seen[zone.Name]; dup {
			return validate.Errorf(field+".name", zone.Name, "repeats zones[%d].name; zone names must be unique", first)
		}
		seen[zone.Name] = i
		// Per-zone objects are named <name>-<zone>, which must itself be a DNS label.
		if err := validate.DNSLabel(field+".name", name+"-"+zone.Name); err != nil {
			return validate.Errorf(field+".name", zone.Name, "makes the object name %q, longer than 63 characters; use a shorter component or zone name", name+"-"+zone.Name)
		}
		if len(zone.NodeSelector) == 0 {
			return validate.Errorf(field+".nodeSelector", nil, "is empty; a zone's pods must be pinned to its nodes")
		}
		for key, value := range zone.NodeSelector {
			if err := validate.LabelValue(fmt.Sprintf("%s.nodeSelector[%q]", field, key), value); err != nil {
				return err
			}
		}
		if args.GitStorage.stateless() {
			if err := validateStatelessZone(field, zone); err != nil {
				return err
			}
			continue
		}
		if err := validateStorage(field+".storage", zone.Storage, *args.ReplicasPerZone); err != nil {
			return err
		}
	}
	if args.GitStorage.stateless() {
		return nil // no zone holds data: any number of them serve the same repositories and buckets
	}
	return validateSharedStorage(args.Zones)
}

// validateSharedStorage refuses zones that would not share one file system: behind one Service, a push to
// one zone's volume would be missing from another's.
func validateSharedStorage(zones []Zone) error {
	if len(zones) < 2 {
		return nil
	}
	for i, zone := range zones {
		field := fmt.Sprintf("zones[%d].storage", i)
		if zone.Storage.NFS == nil {
			return validate.Errorf(field+".storageClass", zone.Storage.StorageClass,
				"gives zone %s a volume of its own, but there are %d zones: with more than one zone, every zone must mount the same NFS export (storage.nfs), or repositories and uploads would be split between zones behind one Service",
				zone.Name, len(zones))
		}
		if first := zones[0].Storage.NFS; first != nil && zone.Storage.NFS.Path != first.Path {
			return validate.Errorf(field+".nfs.path", zone.Storage.NFS.Path,
				"differs from zones[0].storage.nfs.path %q: every zone must mount the same export", first.Path)
		}
	}
	return nil
}

func validateStorage(field string, storage Storage, replicasPerZone int) error {
	switch {
	case storage.NFS != nil && storage.StorageClass != "":
		return validate.Errorf(field, nil, "sets both nfs and storageClass; choose one")
	case storage.NFS == nil && storage.StorageClass == "":
		return validate.Errorf(field, nil, "sets neither nfs nor storageClass; choose one")
	case storage.NFS != nil:
		if err := validate.RequiredString(field+".nfs.server", storage.NFS.Server); err != nil {
			return err
		}
		if !path.IsAbs(storage.NFS.Path) {
			return validate.Errorf(field+".nfs.path", storage.NFS.Path, "is not an absolute path")
		}
	default:
		if err := validate.DNSLabel(field+".storageClass", storage.StorageClass); err != nil {
			return err
		}
		if replicasPerZone > 1 {
			return validate.Errorf(field+".storageClass", storage.StorageClass,
				"gives a ReadWriteOnce volume, which serves one replica, but replicasPerZone is %d", replicasPerZone)
		}
	}
	return validate.Quantity(field+".size", storage.Size)
}

func validateURL(in pulumi.StringInput) error {
	if err := validate.RequiredString("externalURL", in); err != nil {
		return err
	}
	raw, ok := validate.LiteralString(in)
	if !ok {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return validate.Errorf("externalURL", raw, "is not an http:// or https:// URL with a host")
	}
	if u.Path != "" && u.Path != "/" {
		return validate.Errorf("externalURL", raw, "has a path; GitLab under a relative URL is not supported here")
	}
	return nil
}

func validateDatabase(db Database) error {
	if err := validate.RequiredString("database.host", db.Host); err != nil {
		return err
	}
	if err := validate.RequiredString("database.password", db.Password); err != nil {
		return err
	}
	if port, ok := validate.LiteralInt(db.Port); ok {
		if err := validate.Port("database.port", port); err != nil {
			return err
		}
	}
	switch db.SSLMode {
	case "disable", "allow", "prefer", "require", "verify-ca", "verify-full":
		return nil
	}
	return validate.Errorf("database.sslMode", db.SSLMode, "is not a libpq sslmode (disable, allow, prefer, require, verify-ca, verify-full)")
}

func validateResources(r Resources) error {
	for _, q := range []struct{ field, value string }{
		{"resources.cpuRequest", r.CPURequest}, {"resources.memoryRequest", r.MemoryRequest},
		{"resources.cpuLimit", r.CPULimit}, {"resources.memoryLimit", r.MemoryLimit},
		{"resources.ephemeralStorageRequest", r.EphemeralStorageRequest}, {"resources.ephemeralStorageLimit", r.EphemeralStorageLimit},
	} {
		if err := validate.Quantity(q.field, q.value); err != nil {
			return err
		}
	}
	memory, err := parseQuantity(r.MemoryLimit)
	if err != nil {
		return validate.Errorf("resources.memoryLimit", r.MemoryLimit, "%v", err)
	}
	if memory < minGitLabMemoryMiB*(1<<20) {
		return validate.Errorf("resources.memoryLimit", r.MemoryLimit,
			"cannot hold Sidekiq (%dMi), GitLab's other processes (%dMi) and two Puma workers (%dMi each): give at least %dMi",
			sidekiqMiB, otherProcessesMiB, pumaWorkerMiB, minGitLabMemoryMiB)
	}
	return nil
}

func validateService(s Service) error {
	switch s.Type {
	case "ClusterIP", "NodePort", "LoadBalancer":
	default:
		return validate.Errorf("service.type", s.Type, "is not ClusterIP, NodePort or LoadBalancer")
	}
	ports := map[int]string{}
	for _, p := range []struct {
		field string
		port  int
	}{{"service.nodePorts.http", s.NodePorts.HTTP}, {"service.nodePorts.https", s.NodePorts.HTTPS}, {"service.nodePorts.ssh", s.NodePorts.SSH},
		{"service.nodePorts.httpRedirect", s.NodePorts.HTTPRedirect}} {
		if p.port == 0 {
			continue
		}
		if s.Type == "ClusterIP" {
			return validate.Errorf(p.field, p.port, "is set, but a ClusterIP Service has no node ports")
		}
		if p.port < 30000 || p.port > 32767 {
			return validate.Errorf(p.field, p.port, "is outside the node port range 30000-32767")
		}
		if other, dup := ports[p.port]; dup {
			return validate.Errorf(p.field, p.port, "is also %s", other)
		}
		ports[p.port] = p.field
	}
	if err := validateHealthCheckNodePort(s, ports); err != nil {
		return err
	}
	if s.LoadBalancerClass != "" {
		if s.Type != "LoadBalancer" {
			return validate.Errorf("service.loadBalancerClass", s.LoadBalancerClass, "is set, but the Service type is %s, not LoadBalancer", s.Type)
		}
		if !qualifiedName.MatchString(s.LoadBalancerClass) || len(s.LoadBalancerClass) > 316 {
			return validate.Errorf("service.loadBalancerClass", s.LoadBalancerClass, "is not a qualified name such as %s", ExternalLoadBalancerClass)
		}
	}
	ranges, literal := validate.LiteralStrings(s.LoadBalancerSourceRanges)
	if literal && len(ranges) > 0 && s.Type != "LoadBalancer" {
		return validate.Errorf("service.loadBalancerSourceRanges", nil, "is set, but the Service type is %s, not LoadBalancer", s.Type)
	}
	for i, cidr := range ranges {
		if _, err := validate.CIDR(fmt.Sprintf("service.loadBalancerSourceRanges[%d]", i), cidr); err != nil {
			return err
		}
	}
	return nil
}
