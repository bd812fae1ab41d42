//go:build tools

// Package tools pins kube-linter v0.8.3: a module of its own, so that its dependencies never touch gitlab-ha's, built
// by `make validate` into .cache/tools. (go install $module@$version needs the proxy to list versions,
// which this workplace's proxy refuses for some modules; requiring the module here does not.)
package tools

import _ "golang.stackrox.io/kube-linter/cmd/kube-linter"
