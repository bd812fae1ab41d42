package stacks

import (
	"regexp"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/components/monitoring"
	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// MonitoringName names the monitoring component, and so its Kubernetes objects.
const MonitoringName = "gitlab-monitoring"

// What the GitLab component builds that the alerts watch (components/gitlab: migrations.go names the Jobs
// <name>-migrations-<version>-<hash> and <name>-post-migrations-<version>-<hash>, backup.go the CronJob
// <name>-backup). stacks/all's monitoring test reads them back from the registered Job and CronJob.

// MigrationJobPattern matches the GitLab component's migration Jobs, both phases.
func MigrationJobPattern() string { return regexp.QuoteMeta(GitLabName) + "-(post-)?migrations-.+" }

// BackupCronJobName is the GitLab component's backup CronJob.
func BackupCronJobName() string { return GitLabName + "-backup" }

// MonitoringArgs are the monitoring component's arguments for the stack; namespace is where its objects go
// (the GitLab component's Namespace, so that they wait for it; nil in the pre-flight).
func MonitoringArgs(cfg *Config, namespace pulumi.StringInput) *monitoring.MonitoringArgs {
	m := cfg.Monitoring
	if namespace == nil {
		namespace = pulumi.String(GitLabNamespace)
	}
	externalURL, _ := validate.LiteralString(ExternalURL(cfg, nil))
	args := &monitoring.MonitoringArgs{
		Namespace: namespace, NamespaceName: GitLabNamespace, Instance: GitLabName, Zones: cfg.Zones,
		GitStorage: cfg.GitKind(), GitalyNamespace: monitoring.DefaultGitalyNamespace, GitalyInstance: GitalyName,
		ExternalURL: externalURL, BlackboxExporter: m.BlackboxExporter,
		MigrationJobPattern: MigrationJobPattern(), MigrationDeadline: gitlab.MigrationDeadline,
		Labels: m.Labels, DashboardLabels: m.DashboardLabels, DashboardFolder: m.DashboardFolder,
		Thresholds: m.Alerts.Thresholds(),
	}
	if cfg.BackupOn() {
		args.BackupCronJob, args.BackupSchedule, args.BackupDeadline = BackupCronJobName(), cfg.BackupSchedule(), gitlab.BackupDeadline
	}
	return args
}

// Monitor registers the monitoring component when monitoring.prometheusOperator is on: a child of the GitLab
// component, so that it reaches the same cluster through the same provider. Its arguments were checked in
// the pre-flight (validateMonitoring).
func Monitor(ctx *pulumi.Context, cfg *Config, out *Outputs) (*monitoring.Monitoring, error) {
	if !cfg.Monitoring.PrometheusOperator || out == nil || out.GitLab == nil {
		return nil, nil
	}
	return monitoring.NewMonitoring(ctx, MonitoringName, MonitoringArgs(cfg, out.GitLab.Namespace), pulumi.Parent(out.GitLab))
}
