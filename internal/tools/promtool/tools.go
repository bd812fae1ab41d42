//go:build tools

// Package tools pins promtool, Prometheus v0.316.0 (the module's tag of Prometheus 3.16.0): a module of its own,
// so that its dependencies never touch gitlab-ha's, built by `make validate` into .cache/tools to judge the
// monitoring component's rules (promtool check rules, promtool test rules).
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
