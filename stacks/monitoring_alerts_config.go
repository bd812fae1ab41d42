package stacks

import (
	"time"

	"github.com/gitlab-ha/gitlab-ha/components/monitoring"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// AlertsConfig is gitlab-ha:monitoring.alerts: the PrometheusRule's thresholds and periods. Durations are Go
// durations ("5m", "1h30m", "336h"); every key left out takes the monitoring component's default, which the
// comment repeats.
type AlertsConfig struct {
	// ZoneDownFor: how long a zone may have no ready GitLab replica (GitLabZoneDown, and fewer than two zones
	// serving). Default 5m.
	ZoneDownFor string `json:"zoneDownFor,omitempty"`
	// ErrorRatio: the share of a zone's responses that may be 5xx, above 0 and at most 1. Default 0.05, held 10m
	// (errorRatioFor).
	ErrorRatio    *float64 `json:"errorRatio,omitempty"`
	ErrorRatioFor string   `json:"errorRatioFor,omitempty"`
	// PumaQueuedConnections: connections a zone's Puma may hold waiting for a thread. Default 10, held 10m
	// (pumaQueueFor).
	PumaQueuedConnections *int   `json:"pumaQueuedConnections,omitempty"`
	PumaQueueFor          string `json:"pumaQueueFor,omitempty"`
	// SidekiqLatency: the age of a Sidekiq queue's oldest job. Default 5m, held 10m (sidekiqLatencyFor).
	SidekiqLatency    string `json:"sidekiqLatency,omitempty"`
	SidekiqLatencyFor string `json:"sidekiqLatencyFor,omitempty"`
	// GitLatency: the 99th percentile of Gitaly's unary RPCs in a zone. Default 1s, held 10m (gitLatencyFor).
	GitLatency    string `json:"gitLatency,omitempty"`
	GitLatencyFor string `json:"gitLatencyFor,omitempty"`
	// CertificateExpiry: how long before GitLab's certificate expires the alert fires. Default 336h (14 days).
	CertificateExpiry string `json:"certificateExpiry,omitempty"`
	// BackupMargin: added to the backup schedule's period and a run's deadline. Default 1h.
	BackupMargin string `json:"backupMargin,omitempty"`
	// MigrationMargin: added to a migration Job's deadline before a running Job alerts. Default 5m.
	MigrationMargin string `json:"migrationMargin,omitempty"`
}

// Largest values that still make sense: a threshold beyond them is a typo that silences its alert.
const (
	maxAlertDuration       = 7 * 24 * time.Hour
	maxCertificateExpiry   = 90 * 24 * time.Hour
	maxPumaQueuedConnectns = 10000
)

// durations are the keys that hold durations, each with where it goes and its upper bound.
func (a AlertsConfig) durations(t *monitoring.Thresholds) []struct {
	key   string
	value string
	into  *time.Duration
	max   time.Duration
} {
	return []struct {
		key   string
		value string
		into  *time.Duration
		max   time.Duration
	}{
		{"zoneDownFor", a.ZoneDownFor, &t.ZoneDownFor, maxAlertDuration},
		{"errorRatioFor", a.ErrorRatioFor, &t.ErrorRatioFor, maxAlertDuration},
		{"pumaQueueFor", a.PumaQueueFor, &t.PumaQueueFor, maxAlertDuration},
		{"sidekiqLatency", a.SidekiqLatency, &t.SidekiqLatency, maxAlertDuration},
		{"sidekiqLatencyFor", a.SidekiqLatencyFor, &t.SidekiqLatencyFor, maxAlertDuration},
		{"gitLatency", a.GitLatency, &t.GitLatency, time.Hour},
		{"gitLatencyFor", a.GitLatencyFor, &t.GitLatencyFor, maxAlertDuration},
		{"certificateExpiry", a.CertificateExpiry, &t.CertificateExpiry, maxCertificateExpiry},
		{"backupMargin", a.BackupMargin, &t.BackupMargin, maxAlertDuration},
		{"migrationMargin", a.MigrationMargin, &t.MigrationMargin, maxAlertDuration},
	}
}

// Thresholds are the monitoring component's thresholds; call after validate.
func (a AlertsConfig) Thresholds() monitoring.Thresholds {
	var t monitoring.Thresholds
	for _, d := range a.durations(&t) {
		if d.value != "" {
			*d.into, _ = time.ParseDuration(d.value)
		}
	}
	if a.ErrorRatio != nil {
		t.ErrorRatio = *a.ErrorRatio
	}
	if a.PumaQueuedConnections != nil {
		t.PumaQueuedConnections = *a.PumaQueuedConnections
	}
	return t
}

func (a AlertsConfig) validate(key func(string) string) error {
	field := func(k string) string { return key("monitoring.alerts." + k) }
	var t monitoring.Thresholds
	for _, d := range a.durations(&t) {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil {
			return validate.Errorf(field(d.key), d.value, "is not a duration such as 5m or 1h30m")
		}
		if v <= 0 || v > d.max || v%time.Millisecond != 0 {
			return validate.Errorf(field(d.key), d.value, "is not a duration above 0 and at most %s, in whole milliseconds", d.max)
		}
	}
	if a.ErrorRatio != nil && (*a.ErrorRatio <= 0 || *a.ErrorRatio > 1) {
		return validate.Errorf(field("errorRatio"), *a.ErrorRatio, "is not a share above 0 and at most 1 (0.05 is 5%%)")
	}
	if a.PumaQueuedConnections != nil && (*a.PumaQueuedConnections < 1 || *a.PumaQueuedConnections > maxPumaQueuedConnectns) {
		return validate.Errorf(field("pumaQueuedConnections"), *a.PumaQueuedConnections, "is not from 1 to %d", maxPumaQueuedConnectns)
	}
	return nil
}
