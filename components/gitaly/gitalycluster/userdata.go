package gitalycluster

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// The instances' user data is cloud-config (cloud-init's own format, judged by `cloud-init schema`): GitLab's
// package repository, gitlab.rb, and one start-up script that cloud-init runs once, at the instance's first
// boot. It names the secrets' parameters and holds no secret: the script reads them from SSM with the
// instance's role and writes them to root-only files, which gitlab.rb reads.

// secretsDir is where the start-up writes the secrets, root only.
const secretsDir = "/etc/gitlab/gitlab-ha-secrets"

// gitData is Omnibus's git-data directory, where a Gitaly's volume is mounted.
const gitData = "/var/opt/gitlab/git-data"

// packageRepository is GitLab's own package repository for Amazon Linux 2023, as GitLab's installation script
// writes it for the edition (packages.gitlab.com/install/repositories/gitlab/<package>/script.rpm.sh).
func packageRepository(edition string) map[string]any {
	base := "https://packages.gitlab.com/gitlab/gitlab-" + edition
	return map[string]any{
		"name":          "GitLab " + strings.ToUpper(edition) + " for Amazon Linux 2023",
		"baseurl":       base + "/amazon/2023/$basearch",
		"enabled":       true,
		"gpgcheck":      true,
		"repo_gpgcheck": true,
		"gpgkey":        base + "/gpgkey " + base + "/gpgkey/gitlab-gitlab-" + edition + "-3D645A26AB9FBD22.pub.gpg",
		"sslverify":     true,
		"sslcacert":     "/etc/pki/tls/certs/ca-bundle.crt",
	}
}

// release is what the start-up installs: GitLab's version and the package's release (ce.0 or ee.0).
type release struct{ version, release string }

func (r release) edition() string { return strings.SplitN(r.release, ".", 2)[0] }

// packageName is the exact package to install: gitlab-ce-18.11.11-ce.0.amazon2023.
func (r release) packageName() string {
	return fmt.Sprintf("gitlab-%s-%s-%s.amazon2023", r.edition(), r.version, r.release)
}

// startScript reads the secrets, mounts the repository volume (Gitaly), installs the release and reconfigures.
// Reconfigure is retried: a Praefect that migrates waits for its database, which GitLab's migration Job makes.
func startScript(region, prefix string, secrets []string, volumeID string, r release) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("#!/bin/bash")
	line("# GitLab HA Gitaly Cluster: the instance's start-up, run once by cloud-init at its first boot.")
	line("set -euo pipefail")
	line("exec >>/var/log/gitlab-ha-start.log 2>&1")
	line("retry() { local tries=$1; shift; for i in $(seq 1 \"$tries\"); do \"$@\" && return 0; sleep 10; done; return 1; }")
	line("install -d -m 0700 -o root -g root %s", secretsDir)
	line("for name in %s; do", strings.Join(secrets, " "))
	line("  retry 30 aws ssm get-parameter --region %s --with-decryption --name \"%s/$name\" --query Parameter.Value --output text > \"%s/$name.new\"", region, prefix, secretsDir)
	line("  chmod 0600 \"%s/$name.new\" && mv \"%s/$name.new\" \"%s/$name\"", secretsDir, secretsDir, secretsDir)
	line("done")
	if volumeID != "" {
		line("# The repositories: this zone's volume, attached after the instance starts, found by its ID.")
		line("device=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_%s", strings.ReplaceAll(volumeID, "-", ""))
		line("retry 120 test -e \"$device\"")
		line("blkid \"$device\" >/dev/null || mkfs.xfs -L gitaly-data \"$device\"  # a new volume only: never over data")
		line("uuid=$(blkid -s UUID -o value \"$device\")")
		line("install -d -m 0755 %s", gitData)
		line("grep -q \"UUID=$uuid\" /etc/fstab || echo \"UUID=$uuid %s xfs defaults,noatime,nofail 0 2\" >> /etc/fstab", gitData)
		line("mountpoint -q %s || mount %s", gitData, gitData)
	}
	line("# Upgrades replace the instance; a package update in place must not reconfigure behind this script.")
	line("touch /etc/gitlab/skip-auto-reconfigure")
	line("retry 30 dnf install -y %s", r.packageName())
	line("retry 60 gitlab-ctl reconfigure")
	return b.String()
}

// gitalyConfig is a Gitaly node's gitlab.rb: Omnibus's Gitaly role, on TCP with Praefect's internal token,
// the zone's storage on its volume, and GitLab's internal API for the hooks.
func gitalyConfig(storage, gitLabURL string) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# GitLab HA: a Gitaly node of the Gitaly Cluster. No secret is written here: each is read from a root-only")
	line("# file the start-up wrote from SSM.")
	line("secret = ->(name) { File.read(File.join(%s, name)).strip }", rubyString(secretsDir))
	line("gitaly_role['enable'] = true")
	line("gitlab_rails['internal_api_url'] = %s", rubyString(gitLabURL))
	line("gitlab_shell['secret_token'] = secret.call(%s)", rubyString(shellSecret))
	line("gitaly['configuration'] = {")
	line("  listen_addr: '0.0.0.0:%d',", GitalyPort)
	line("  auth: { token: secret.call(%s) },", rubyString(internalToken))
	line("  storage: [{ name: %s, path: %s }],", rubyString(storage), rubyString(gitData+"/repositories"))
	line("}")
	return b.String()
}

// praefectNodeConfig is one Gitaly node as Praefect addresses it.
type praefectNodeConfig struct{ storage, address string }

// praefectSettings are a Praefect node's values, resolved.
type praefectSettings struct {
	deploy                 bool // the node that migrates Praefect's database
	virtualStorage         string
	nodes                  []praefectNodeConfig
	dbHost, dbName, dbUser string
	dbPort                 int
}

// praefectConfig is a Praefect node's gitlab.rb: every other service off (there is no Praefect role in 18.11,
// package/libraries/config/gitlab.rb lists none), Praefect on TCP with the external token, its database, and
// the virtual storage over every zone's Gitaly. Only the deploy node migrates (GitLab's upgrade docs).
func praefectConfig(s praefectSettings) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# GitLab HA: a Praefect node of the Gitaly Cluster. No secret is written here: each is read from a root-only")
	line("# file the start-up wrote from SSM.")
	line("secret = ->(name) { File.read(File.join(%s, name)).strip }", rubyString(secretsDir))
	for _, service := range []string{"gitaly", "postgresql", "redis", "nginx", "puma", "sidekiq", "gitlab_workhorse",
		"prometheus", "alertmanager", "gitlab_exporter", "gitlab_kas"} {
		line("%s['enable'] = false", service)
	}
	line("praefect['enable'] = true")
	line("praefect['auto_migrate'] = %t", s.deploy)
	line("gitlab_rails['auto_migrate'] = false")
	line("praefect['configuration'] = {")
	line("  listen_addr: '0.0.0.0:%d',", PraefectPort)
	line("  auth: { token: secret.call(%s) },", rubyString(externalToken))
	line("  database: {")
	line("    host: %s, port: %d, dbname: %s, user: %s,", rubyString(s.dbHost), s.dbPort, rubyString(s.dbName), rubyString(s.dbUser))
	line("    password: secret.call(%s), sslmode: 'require',", rubyString(databasePassword))
	line("  },")
	line("  virtual_storage: [{")
	line("    name: %s,", rubyString(s.virtualStorage))
	line("    node: [")
	for _, n := range s.nodes {
		line("      { storage: %s, address: %s, token: secret.call(%s) },", rubyString(n.storage), rubyString(n.address), rubyString(internalToken))
	}
	line("    ],")
	line("  }],")
	line("}")
	return b.String()
}

// cloudConfig renders the user data.
func cloudConfig(edition, gitlabRB, script string) (string, error) {
	doc := map[string]any{
		"yum_repos": map[string]any{"gitlab_" + edition: packageRepository(edition)},
		"write_files": []map[string]any{
			{"path": "/etc/gitlab/gitlab.rb", "owner": "root:root", "permissions": "0600", "content": gitlabRB},
			{"path": "/usr/local/sbin/gitlab-ha-start", "owner": "root:root", "permissions": "0700", "content": script},
		},
		"runcmd": [][]string{{"/usr/local/sbin/gitlab-ha-start"}},
	}
	body, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	return "#cloud-config\n" + string(body), nil
}

func rubyString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
