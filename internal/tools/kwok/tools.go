//go:build tools

// Package tools pins kwok v0.7.0, which plays the e2e tests' nodes and runs their pods' lifecycles.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
