package linodedb

import _ "embed" // the reconciler's script

// ReconcilerScript is what the reconciler runs (allowlist.py): Python's standard library, nothing installed.
//
//go:embed allowlist.py
var ReconcilerScript string

// scriptDir is where the script's ConfigMap is mounted; heartbeatFile is what each turn of its loop touches.
const (
	scriptDir     = "/reconciler"
	heartbeatFile = "/tmp/heartbeat"
)
