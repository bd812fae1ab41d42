package stacks

// CloudWatchConfig is gitlab-ha:monitoring.cloudWatch.
type CloudWatchConfig struct{}

func (c CloudWatchConfig) validate(key func(string) string, platform string) error { return nil }
