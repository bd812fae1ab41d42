package gitlab_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

// fakeImage is the part of the Omnibus image the regular migration Job's script reads, under a directory of
// the test's: the version manifest, gitlab-ctl (whose upgrade-check passes unless told to refuse), the
// entrypoint (which here only says it ran), the volume's previous /etc/gitlab, the termination log.
type fakeImage struct {
	root string
}

func newFakeImage(t *testing.T, running string) fakeImage {
	t.Helper()
	image := fakeImage{root: t.TempDir()}
	image.write(t, "opt/gitlab/version-manifest.txt", "gitlab-ce "+running+"\n")
	image.write(t, "opt/gitlab/bin/gitlab-ctl", "#!/bin/bash\n[ -z \"$FAKE_UPGRADE_CHECK_REFUSES\" ] || { echo \"$FAKE_UPGRADE_CHECK_REFUSES\"; exit 1; }\n")
	image.write(t, "assets/init-container", "#!/bin/bash\necho migrating\n")
	require.NoError(t, os.MkdirAll(filepath.Join(image.root, "etc/gitlab-previous"), 0o755))
	return image
}

func (f fakeImage) write(t *testing.T, path, content string) {
	t.Helper()
	full := filepath.Join(f.root, path)
	require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
	require.NoError(t, os.WriteFile(full, []byte(content), 0o755))
}

// run runs the Job's script as the kubelet would hand it to bash, rooted in the fake image, with env, and
// returns its exit code and its termination message (or output).
func (f fakeImage) run(t *testing.T, job componenttest.Resource, env map[string]string) (int, string) {
	t.Helper()
	command := job.MustInput(t, "spec.template.spec.containers[0].command").([]any)
	script := strings.ReplaceAll(command[2].(string), "$$", "$") // the kubelet's unescaping of $$(...)
	script = strings.NewReplacer("/opt/gitlab/", f.root+"/opt/gitlab/", "/assets/", f.root+"/assets/",
		"/etc/gitlab-previous", f.root+"/etc/gitlab-previous", "/dev/termination-log", f.root+"/termination-log").Replace(script)
	cmd := exec.Command("/bin/bash", "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for name, value := range env {
		cmd.Env = append(cmd.Env, name+"="+value)
	}
	output, err := cmd.CombinedOutput()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	if message, err := os.ReadFile(filepath.Join(f.root, "termination-log")); err == nil {
		return code, string(message)
	}
	return code, string(output)
}

// regularJob is the regular migration Job of args.
func regularJob(t *testing.T, args *gitlab.GitLabArgs) componenttest.Resource {
	t.Helper()
	regular, _ := jobs(t, mustDeploy(t, args))
	return regular
}

func TestTheMigrationJobRollsOnlyAnUpgradeGitLabSupportsWithoutDowntime(t *testing.T) {
	upgrade := func(running string) *gitlab.GitLabArgs {
		args := threeZones()
		args.Image = "gitlab/gitlab-ce:" + running + "-ce.0"
		return args
	}
	for _, tc := range []struct {
		migrated, running string
		refused           string // "" when it migrates
	}{
		{"", "18.11.11", ""}, // a first install has no record to check
		{"18.11.11", "18.11.11", ""},
		{"18.11.3", "18.11.11", ""}, // a patch
		{"18.10.7", "18.11.11", ""}, // the next minor
		{"18.11.11", "19.0.2", ""},  // the next major's first minor, after upgrade-check's required stop
		{"18.9.4", "18.11.11", "more than one minor release later"},
		{"18.8.0", "18.11.11", "upgrade to the latest 18.9 patch first"},
		{"18.11.11", "19.1.0", "more than one release later"},
		{"17.11.2", "19.0.0", "more than one release later"},
		{"18.11.11", "18.10.4", "Downgrade refused"},
	} {
		job := regularJob(t, upgrade(tc.running))
		env := map[string]string{}
		if tc.migrated != "" {
			env["GITLAB_HA_MIGRATED_VERSION"] = tc.migrated
		}
		env["GITLAB_HA_VERSION"] = tc.running
		code, message := newFakeImage(t, tc.running).run(t, job, env)
		if tc.refused == "" {
			assert.Equal(t, 0, code, "%s -> %s: %s", tc.migrated, tc.running, message)
			assert.Equal(t, "migrating\n", message, "%s -> %s goes on to the entrypoint", tc.migrated, tc.running)
			continue
		}
		assert.Equal(t, 3, code, "%s -> %s fails the Job at once (its pod failure policy): %s", tc.migrated, tc.running, message)
		assert.Contains(t, message, tc.refused, "%s -> %s", tc.migrated, tc.running)
		assert.NotContains(t, message, "migrating", "nothing migrated")
	}

	job := regularJob(t, threeZones())
	code, message := newFakeImage(t, "18.11.11").run(t, job, map[string]string{
		"GITLAB_HA_MIGRATED_VERSION": "18.7.1", "GITLAB_HA_VERSION": "18.11.11",
		"FAKE_UPGRADE_CHECK_REFUSES": "It seems you are upgrading from 18.7.1 to 18.11.11. It is required to upgrade to the latest 18.8.x version first",
	})
	assert.Equal(t, 3, code)
	assert.Contains(t, message, "required to upgrade to the latest 18.8.x version first", "Omnibus's own required stop comes first")
}
