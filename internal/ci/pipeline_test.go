//go:build pipeline

// Package ci holds the check that keeps .gitlab-ci.yml a pipeline GitLab accepts, judged by gitlab-ci-local
// (GitLab's pipeline rules run locally, pinned by package-lock.json). check.sh installs it and runs these tests:
//
//	go test -tags pipeline ./internal/ci/
//
// They never skip: without gitlab-ci-local they fail.
package ci

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The jobs that touch a cloud stack, with the stack each one names in its STACK variable.
var cloudJobs = map[string]string{
	"preview-dev": "dev", "preview-prod": "prod",
	"deploy-dev": "dev", "deploy-prod": "prod",
}

// Variables as GitLab sets them in each kind of pipeline. A merge request pipeline has no CI_COMMIT_BRANCH.
var (
	mergeRequest = pipeline{
		set: map[string]string{
			"CI_PIPELINE_SOURCE":                  "merge_request_event",
			"CI_COMMIT_REF_NAME":                  "feature",
			"CI_MERGE_REQUEST_IID":                "1",
			"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature",
			"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
		},
		unset: []string{"CI_COMMIT_BRANCH"},
	}
	defaultBranch = pipeline{set: map[string]string{
		"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main",
	}}
	otherBranch = pipeline{set: map[string]string{
		"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature", "CI_COMMIT_REF_NAME": "feature",
	}}
	oidcRole   = map[string]string{"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/gitlab-ha-ci"}
	accessKeys = map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example"}
)

func TestPipelineFileMatchesGitLabsSchema(t *testing.T) {
	out := gitlabCIChecked(t, pipelineDir(t), defaultBranch, "--preview", "--json-schema-validation")
	var file map[string]any
	require.NoError(t, yaml.Unmarshal(out, &file))
	assert.Contains(t, file, "plan")
}

func TestJobsRunInTheirPipelinesOnly(t *testing.T) {
	both := map[string]string{"test": "on_success", "plan": "on_success"}
	cases := []struct {
		name     string
		pipeline pipeline
		want     map[string]string // job: when, as GitLab's rules decide it; "never" means not in the pipeline
	}{
		{"merge request without credentials", mergeRequest, merge(both, map[string]string{
			"preview-dev": "never", "preview-prod": "never", "deploy-dev": "never", "deploy-prod": "never",
		})},
		{"merge request with an OIDC role", mergeRequest.with(oidcRole), merge(both, map[string]string{
			"preview-dev": "on_success", "preview-prod": "on_success", "deploy-dev": "never", "deploy-prod": "never",
		})},
		{"merge request with access keys", mergeRequest.with(accessKeys), merge(both, map[string]string{
			"preview-dev": "on_success", "preview-prod": "on_success", "deploy-dev": "never", "deploy-prod": "never",
		})},
		{"default branch without credentials", defaultBranch, merge(both, map[string]string{
			"preview-dev": "never", "preview-prod": "never", "deploy-dev": "never", "deploy-prod": "never",
		})},
		{"default branch with an OIDC role", defaultBranch.with(oidcRole), merge(both, map[string]string{
			"preview-dev": "never", "preview-prod": "never", "deploy-dev": "on_success", "deploy-prod": "manual",
		})},
		{"default branch with access keys", defaultBranch.with(accessKeys), merge(both, map[string]string{
			"preview-dev": "never", "preview-prod": "never", "deploy-dev": "on_success", "deploy-prod": "manual",
		})},
		{"another branch, outside a merge request", otherBranch.with(oidcRole), map[string]string{
			"test": "never", "plan": "never",
			"preview-dev": "never", "preview-prod": "never", "deploy-dev": "never", "deploy-prod": "never",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := pipelineDir(t) // gitlab-ci-local keeps state in the folder it reads
			// Every job a running job needs, or takes artifacts from, is in the same pipeline.
			gitlabCI(t, dir, c.pipeline, "--validate-dependency-chain")
			jobs := listJobs(t, dir, c.pipeline)
			got := map[string]string{}
			for name, job := range jobs {
				got[name] = job.When
				// A failed job fails the pipeline, a manual prod deployment too: none may fail quietly.
				assert.False(t, job.AllowFailure, "%s allows failure", name)
			}
			assert.Equal(t, c.want, got)
		})
	}
}

func TestCloudJobsTakeOneStackAtATime(t *testing.T) {
	jobs := expandedJobs(t, pipelineDir(t))

	groups := map[string]map[string]bool{} // stack: the resource groups of the jobs that touch it
	for name, stack := range cloudJobs {
		job, ok := jobs[name]
		require.True(t, ok, "no job %s", name)
		assert.Equal(t, stack, job.Variables["STACK"], "%s: STACK", name)
		assert.NotEmpty(t, job.ResourceGroup, "%s has no resource_group", name)
		if groups[stack] == nil {
			groups[stack] = map[string]bool{}
		}
		groups[stack][job.ResourceGroup] = true
	}
	assert.Equal(t, map[string]map[string]bool{"dev": {"dev": true}, "prod": {"prod": true}}, groups,
		"each stack's jobs must share one resource group of their own")

	for _, name := range []string{"deploy-dev", "deploy-prod"} {
		job := jobs[name]
		assert.Equal(t, cloudJobs[name], job.environmentName(), "%s: environment", name)
		require.NotNil(t, job.Interruptible, "%s: interruptible", name)
		assert.False(t, *job.Interruptible, "%s: a newer pipeline must not cancel a deployment half-way", name)
	}
	assert.Contains(t, jobs["deploy-prod"].neededJobs(), "deploy-dev", "prod deploys only after dev took the commit")
}

func TestCloudJobsRunThePlanJobsProgram(t *testing.T) {
	jobs := expandedJobs(t, pipelineDir(t))

	plan := jobs["plan"]
	assert.Contains(t, plan.Artifacts.Paths, "bin/gitlab-ha")
	assert.Contains(t, strings.Join(plan.Script, "\n"), "-o bin/gitlab-ha ./stacks/cmd/gitlab-ha")

	for name := range cloudJobs {
		job := jobs[name]
		assert.Equal(t, strings.SplitN(name, "-", 2)[0], job.Stage, "%s runs after the plan job's stage", name)
		assert.Equal(t, []string{"plan"}, job.Dependencies, "%s takes the plan job's artifacts only", name)
		before := strings.Join(job.BeforeScript, "\n")
		assert.Contains(t, before, "internal/ci/cloud-tools.sh", "%s installs the Pulumi and AWS CLIs", name)
		assert.Contains(t, before, "internal/ci/prebuilt-program.sh bin/gitlab-ha", "%s runs the built program", name)
		assert.Contains(t, strings.Join(job.Script, "\n"), `--stack "$STACK"`, "%s works on its own stack", name)
	}
}

// The cloud jobs install the Pulumi CLI of the SDK the program is built with.
func TestCloudToolsPinThePulumiSDKsVersion(t *testing.T) {
	goMod, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	sdk := regexp.MustCompile(`(?m)^\s+github\.com/pulumi/pulumi/sdk/v3 v(\S+)$`).FindSubmatch(goMod)
	require.NotNil(t, sdk, "go.mod requires no github.com/pulumi/pulumi/sdk/v3")

	script, err := os.ReadFile("cloud-tools.sh")
	require.NoError(t, err)
	cli := regexp.MustCompile(`(?m)^PULUMI_VERSION=\$\{PULUMI_VERSION:-(\S+)\}`).FindSubmatch(script)
	require.NotNil(t, cli, "cloud-tools.sh pins no PULUMI_VERSION")
	assert.Equal(t, string(sdk[1]), string(cli[1]))
}

func TestPrebuiltProgramRewritesOnlyTheJobsProjectFile(t *testing.T) {
	original, err := os.ReadFile("../../Pulumi.yaml")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), original, 0o644))
	// A real executable stands for the plan job's bin/gitlab-ha: this test's own binary.
	self, err := os.Executable()
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.Symlink(self, filepath.Join(dir, "bin", "gitlab-ha")))

	before, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "go", before.Runtime.Name())
	assert.Empty(t, before.Runtime.Options(), "Pulumi.yaml in git compiles the program, for everyone without CI's binary")

	runScript(t, dir, "prebuilt-program.sh", "bin/gitlab-ha")

	// Pulumi's own loader, at the pinned SDK's version, accepts the rewritten file.
	after, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "go", after.Runtime.Name())
	assert.Equal(t, map[string]any{"binary": filepath.Join(dir, "bin", "gitlab-ha")}, after.Runtime.Options(),
		"an absolute path: Pulumi's Go host resolves a relative one from its own working directory")
	assert.Equal(t, before.Name, after.Name)
	assert.Equal(t, before.Main, after.Main)
	assert.Equal(t, before.Config, after.Config)

	// Without the artifact the job stops before Pulumi would compile the program behind its back.
	fresh := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(fresh, "Pulumi.yaml"), original, 0o644))
	out, err := scriptCommand(fresh, "prebuilt-program.sh", "bin/gitlab-ha").CombinedOutput()
	require.Error(t, err, "%s", out)
	assert.Contains(t, string(out), "no program binary at bin/gitlab-ha")
	unchanged, err := os.ReadFile(filepath.Join(fresh, "Pulumi.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(original), string(unchanged))
}

// pipeline is the variables of one kind of pipeline.
type pipeline struct {
	set   map[string]string
	unset []string
}

func (p pipeline) with(variables map[string]string) pipeline {
	return pipeline{set: merge(p.set, variables), unset: p.unset}
}

func merge(maps ...map[string]string) map[string]string {
	merged := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			merged[k] = v
		}
	}
	return merged
}

// gitlabCILocal is the pinned gitlab-ci-local: $GITLAB_CI_LOCAL, else the one `npm ci` installs here.
func gitlabCILocal(t *testing.T) string {
	t.Helper()
	path := os.Getenv("GITLAB_CI_LOCAL")
	if path == "" {
		path, _ = filepath.Abs(filepath.Join("node_modules", ".bin", "gitlab-ci-local"))
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("gitlab-ci-local is not installed (%v): run internal/ci/check.sh, or npm ci in internal/ci", err)
	}
	return path
}

// pipelineDir is a temporary repository holding .gitlab-ci.yml on main, with an origin whose default branch is
// main, as gitlab-ci-local expects a project; its state then stays out of the checkout.
func pipelineDir(t *testing.T) string {
	t.Helper()
	file, err := os.ReadFile("../../.gitlab-ci.yml")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".gitlab-ci.yml"), file, 0o644))
	for _, args := range [][]string{
		{"init", "--quiet", "--initial-branch=main"},
		{"add", ".gitlab-ci.yml"},
		{"-c", "user.name=check", "-c", "user.email=check@gitlab-ha.invalid", "commit", "--quiet", "-m", "pipeline"},
		{"remote", "add", "origin", "https://gitlab.example.com/gitlab-ha/gitlab-ha.git"},
		{"update-ref", "refs/remotes/origin/main", "HEAD"},
		{"symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
	}
	return dir
}

// gitlabCI runs gitlab-ci-local in dir with the pipeline's variables on a main default branch, and none from a
// variables file of this machine's user, and returns its standard output; it fails the test on any error, a pipeline file GitLab would refuse among them. GitLab's JSON
// schema, the same for every pipeline, is left to TestPipelineFileMatchesGitLabsSchema: it takes most of a run's
// time.
func gitlabCI(t *testing.T, dir string, p pipeline, args ...string) []byte {
	t.Helper()
	return gitlabCIChecked(t, dir, p, append(args, "--no-json-schema-validation")...)
}

func gitlabCIChecked(t *testing.T, dir string, p pipeline, args ...string) []byte {
	t.Helper()
	set := merge(map[string]string{"CI_DEFAULT_BRANCH": "main"}, p.set)
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--variable", k+"="+set[k])
	}
	for _, k := range p.unset {
		args = append(args, "--unset-variable", k)
	}
	args = append(args, "--no-color", "--home", t.TempDir(), "--ignore-predefined-vars",
		"CI_DEFAULT_BRANCH,CI_PIPELINE_SOURCE,CI_COMMIT_BRANCH,CI_COMMIT_REF_NAME")
	cmd := exec.Command(gitlabCILocal(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "gitlab-ci-local %s:\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.Bytes()
}

// listedJob is one job of `gitlab-ci-local --list-json`: its rules decided for the pipeline's variables.
type listedJob struct {
	Name         string `json:"name"`
	Stage        string `json:"stage"`
	When         string `json:"when"`
	AllowFailure bool   `json:"allow_failure"`
}

func listJobs(t *testing.T, dir string, p pipeline) map[string]listedJob {
	t.Helper()
	var list []listedJob
	require.NoError(t, json.Unmarshal(gitlabCI(t, dir, p, "--list-json"), &list))
	jobs := map[string]listedJob{}
	for _, job := range list {
		jobs[job.Name] = job
	}
	return jobs
}

// expandedJob is one job of `gitlab-ci-local --preview`: the file with defaults, extends and anchors expanded.
type expandedJob struct {
	Stage         string            `yaml:"stage"`
	Variables     map[string]string `yaml:"variables"`
	ResourceGroup string            `yaml:"resource_group"`
	Environment   any               `yaml:"environment"`
	Interruptible *bool             `yaml:"interruptible"`
	Dependencies  []string          `yaml:"dependencies"`
	Needs         []any             `yaml:"needs"`
	BeforeScript  []string          `yaml:"before_script"`
	Script        []string          `yaml:"script"`
	Artifacts     struct {
		Paths []string `yaml:"paths"`
	} `yaml:"artifacts"`
}

// globalKeywords are the top-level keys of a pipeline file that are not jobs.
var globalKeywords = map[string]bool{"default": true, "include": true, "stages": true, "variables": true, "workflow": true}

func expandedJobs(t *testing.T, dir string) map[string]expandedJob {
	t.Helper()
	var file map[string]yaml.Node
	require.NoError(t, yaml.Unmarshal(gitlabCI(t, dir, defaultBranch, "--preview"), &file))
	jobs := map[string]expandedJob{}
	for name, node := range file {
		if strings.HasPrefix(name, ".") || globalKeywords[name] {
			continue
		}
		var job expandedJob
		require.NoError(t, node.Decode(&job), "job %s", name)
		jobs[name] = job
	}
	return jobs
}

// environmentName reads environment: NAME and environment: {name: NAME} alike.
func (j expandedJob) environmentName() string {
	switch env := j.Environment.(type) {
	case string:
		return env
	case map[string]any:
		name, _ := env["name"].(string)
		return name
	}
	return ""
}

// neededJobs reads needs: [job] and needs: [{job: job}] alike.
func (j expandedJob) neededJobs() []string {
	var names []string
	for _, need := range j.Needs {
		switch need := need.(type) {
		case string:
			names = append(names, need)
		case map[string]any:
			name, _ := need["job"].(string)
			names = append(names, name)
		}
	}
	return names
}

func scriptCommand(dir, script string, args ...string) *exec.Cmd {
	path, _ := filepath.Abs(script)
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	return cmd
}

func runScript(t *testing.T, dir, script string, args ...string) {
	t.Helper()
	out, err := scriptCommand(dir, script, args...).CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", script, strings.Join(args, " "), out)
}
