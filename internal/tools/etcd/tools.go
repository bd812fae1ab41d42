//go:build tools

// Package tools pins etcd v3.5.21 for the e2e tests' control plane, built by `make e2e` into .cache/e2e.
package tools

import _ "go.etcd.io/etcd/server/v3"
