//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cronJobType = "kubernetes:batch/v1:CronJob"

// runBackupNow does what the README's "take one now" does, `kubectl create job --from=cronjob/gitlab-backup`:
// a Job from the CronJob's template, as the controller would make at the scheduled time. The real scheduler
// places its pod, running as the backup's own service account, and the Job must complete (kwok plays the
// container). It returns the node the pod ran on.
func (cp *controlPlane) runBackupNow(t *testing.T, stack string, plan []planned) string {
	t.Helper()
	cronJob := find(t, plan, cronJobType, "gitlab-backup")
	var live map[string]any
	require.NoError(t, cp.api.get(objectPath(cronJob.object), &live), "the API server accepted the CronJob")
	template, _ := dig(live, "spec", "jobTemplate").(map[string]any)
	require.NotNil(t, template)
	job := map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": "gitlab-backup-now", "namespace": namespace,
			"labels": dig(template, "metadata", "labels")},
		"spec": template["spec"],
	}
	started := time.Now()
	require.NoError(t, cp.api.apply(job))
	if _, _, err := cp.awaitDone(planned{typ: jobType, name: "gitlab-backup-now", object: job}, 3*time.Minute); err != nil {
		t.Fatalf("%s: the backup Job did not complete: %v", stack, err)
	}
	var pods struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, cp.api.get("/api/v1/namespaces/"+namespace+"/pods?labelSelector=batch.kubernetes.io/job-name%3Dgitlab-backup-now", &pods))
	require.Len(t, pods.Items, 1)
	pod := pods.Items[0]
	assert.Equal(t, "gitlab-backup", str(dig(pod, "spec", "serviceAccountName")))
	t.Logf("%s: a backup Job from CronJob %s (schedule %q) scheduled on %s and completed in %s", stack,
		str(dig(live, "metadata", "name")), str(dig(live, "spec", "schedule")), str(dig(pod, "spec", "nodeName")),
		time.Since(started).Round(time.Millisecond))
	code, body, err := cp.api.do("DELETE", "/apis/batch/v1/namespaces/"+namespace+"/jobs/gitlab-backup-now?propagationPolicy=Background", "", nil)
	require.NoError(t, err)
	require.Contains(t, []int{200, 202}, code, fmt.Sprintf("%s", body))
	return str(dig(pod, "spec", "nodeName"))
}
