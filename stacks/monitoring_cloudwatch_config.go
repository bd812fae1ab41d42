package stacks

import (
	"github.com/gitlab-ha/gitlab-ha/components/monitoring/alarms"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// CloudWatchConfig is gitlab-ha:monitoring.cloudWatch: CloudWatch alarms on what lives outside the cluster,
// sent to an encrypted SNS topic (components/monitoring/cloudwatch).
type CloudWatchConfig struct {
	// Enabled builds the alarms. Default true on platform aws; refused true on the others, which have no
	// CloudWatch.
	Enabled *bool `json:"enabled,omitempty"`
	// Subscribers of the topic: {protocol: email|email-json|https|sms, endpoint}. Default none: the alarms
	// still change state in the console, but page nobody.
	Subscribers []CloudWatchSubscriber `json:"subscribers,omitempty"`
	// Thresholds override alarms' defaults by kind (nlbHealthyHosts, rdsCpu, ...; the README's alarm table):
	// {threshold, period, evaluationPeriods}, each within the kind's documented range. Default none.
	Thresholds map[string]CloudWatchThreshold `json:"thresholds,omitempty"`
}

// CloudWatchSubscriber is one endpoint of the alarms' topic.
type CloudWatchSubscriber struct {
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
}

// CloudWatchThreshold overrides one alarm kind; an absent field keeps the default.
type CloudWatchThreshold struct {
	Threshold         *float64 `json:"threshold,omitempty"`
	Period            *int     `json:"period,omitempty"`
	EvaluationPeriods *int     `json:"evaluationPeriods,omitempty"`
}

// On reports whether the stack builds CloudWatch alarms on platform.
func (c CloudWatchConfig) On(platform string) bool {
	if c.Enabled != nil {
		return *c.Enabled
	}
	return platform == PlatformAWS
}

// AlarmSubscribers are the subscribers as the component takes them.
func (c CloudWatchConfig) AlarmSubscribers() []alarms.Subscriber {
	var out []alarms.Subscriber
	for _, s := range c.Subscribers {
		out = append(out, alarms.Subscriber{Protocol: s.Protocol, Endpoint: s.Endpoint})
	}
	return out
}

// AlarmThresholds are the overrides as the component takes them.
func (c CloudWatchConfig) AlarmThresholds() alarms.Thresholds {
	if len(c.Thresholds) == 0 {
		return nil
	}
	out := alarms.Thresholds{}
	for kind, t := range c.Thresholds {
		out[kind] = alarms.Threshold{Threshold: t.Threshold, Period: t.Period, EvaluationPeriods: t.EvaluationPeriods}
	}
	return out
}

func (c CloudWatchConfig) validate(key func(string) string, platform string) error {
	const prefix = "monitoring.cloudWatch"
	if c.Enabled != nil && *c.Enabled && platform != PlatformAWS {
		return validate.Errorf(key(prefix+".enabled"), true, "is available on platform aws only; %s has no CloudWatch "+
			"(the README's \"Linode\" monitoring section says what it offers instead)", platform)
	}
	if err := alarms.ValidateSubscribers(prefix+".", c.AlarmSubscribers()); err != nil {
		return renameKey(err, key)
	}
	return renameKey(alarms.ValidateThresholds(c.AlarmThresholds(), func(kind string) string { return prefix + ".thresholds." + kind }), key)
}

// renameKey puts the namespace before the field a shared check named.
func renameKey(err error, key func(string) string) error {
	if e, ok := err.(*validate.Error); ok {
		return &validate.Error{Field: key(e.Field), Value: e.Value, Reason: e.Reason}
	}
	return err
}
