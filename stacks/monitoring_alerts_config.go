package stacks

// AlertsConfig is gitlab-ha:monitoring.alerts.
type AlertsConfig struct{}

func (a AlertsConfig) validate(key func(string) string) error { return nil }
