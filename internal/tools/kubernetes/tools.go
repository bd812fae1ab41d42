//go:build tools

// Package tools pins the Kubernetes control plane of the e2e tests, k8s.io/kubernetes v1.36.3: a module of
// its own, built by `make e2e` into .cache/e2e with version ldflags so that the binaries report v1.36.3.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
