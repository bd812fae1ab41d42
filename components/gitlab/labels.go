package gitlab

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Label keys and values. Every object carries the app.kubernetes.io set; per-zone objects add ZoneLabelKey.
const (
	// ZoneLabelKey marks the zone of a per-zone object: volume, claim, Deployment and pod.
	ZoneLabelKey = "zone"
	// UsageLabelKey marks what a PersistentVolume is for; claims select on it with the zone.
	UsageLabelKey = "usage"
	// DataUsage is the usage of GitLab's data volumes.
	DataUsage = "gitlab-data"

	// Values of app.kubernetes.io/component.
	WebserviceComponent = "webservice"
	RedisComponent      = "redis"
	StorageComponent    = "storage"
	ConfigComponent     = "config"
	// MigrationsComponent marks the Jobs that migrate the database, and their pods.
	MigrationsComponent = "migrations"

	appName = "gitlab"
	partOf  = "gitlab-ha"
)

// selectorLabels are the labels that select one component of one GitLab instance: what a Service,
// PodDisruptionBudget or NetworkPolicy matches on. They are a subset of standardLabels.
func selectorLabels(instance, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      appName,
		"app.kubernetes.io/instance":  instance,
		"app.kubernetes.io/component": component,
	}
}

// standardLabels go on every object of the component.
func standardLabels(instance, component string) map[string]string {
	labels := selectorLabels(instance, component)
	labels["app.kubernetes.io/part-of"] = partOf
	labels["app.kubernetes.io/managed-by"] = "pulumi"
	return labels
}

// zoneLabels are the standard labels plus the zone.
func zoneLabels(instance, component, zone string) map[string]string {
	labels := standardLabels(instance, component)
	labels[ZoneLabelKey] = zone
	return labels
}

// zoneSelector selects one zone's pods of one component.
func zoneSelector(instance, component, zone string) map[string]string {
	labels := selectorLabels(instance, component)
	labels[ZoneLabelKey] = zone
	return labels
}

func toStringMap(m map[string]string) pulumi.StringMap {
	out := make(pulumi.StringMap, len(m))
	for k, v := range m {
		out[k] = pulumi.String(v)
	}
	return out
}
