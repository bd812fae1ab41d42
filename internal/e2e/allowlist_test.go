//go:build e2e

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkAllowListReconciler runs the Linode database's reconciler script, as the plan ships it in its
// ConfigMap, against this control plane with its own service account's token (so the plan's RBAC is what
// lets it in), and against a stand-in for the Linode API: it must send the nodes' external addresses and the
// clients' networks, leave an equal list alone, and be refused everything but listing Nodes.
func (cp *controlPlane) checkAllowListReconciler(t *testing.T, objects []map[string]any) {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Log("linode: python3 is not on PATH, so the reconciler's script is not run (its objects were applied all the same)")
		return
	}
	var deployment, script map[string]any
	for _, o := range objects {
		if str(dig(o, "metadata", "name")) == "database-allow-list" && str(dig(o, "metadata", "namespace")) == "kube-system" {
			switch o["kind"] {
			case "Deployment":
				deployment = o
			case "ConfigMap":
				script = o
			}
		}
	}
	require.NotNil(t, deployment, "the plan runs the reconciler")
	require.NotNil(t, script)
	env := map[string]string{}
	containers, _ := dig(deployment, "spec", "template", "spec", "containers").([]any)
	for _, e := range dig(containers[0], "env").([]any) {
		env[str(dig(e, "name"))] = str(dig(e, "value"))
	}

	// Two nodes the cloud controller would have initialized: a public address and a private one each. kwok
	// plays neither, and they go when the check is done, so the zones' checks that follow see their own.
	defer func() {
		for _, name := range []string{"lke-node-a", "lke-node-b"} {
			_, _, _ = cp.api.do("DELETE", "/api/v1/nodes/"+name, "", nil)
		}
	}()
	for name, external := range map[string]string{"lke-node-a": "45.79.0.10", "lke-node-b": "45.79.0.11"} {
		require.NoError(t, cp.api.apply(map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": name}}))
		status := `{"status":{"addresses":[{"type":"ExternalIP","address":"` + external + `"},` +
			`{"type":"InternalIP","address":"192.168.130.4"},{"type":"Hostname","address":"` + name + `"}]}}`
		code, body, err := cp.api.do("PATCH", "/api/v1/nodes/"+name+"/status", "application/merge-patch+json", []byte(status))
		require.NoError(t, err)
		require.Equal(t, 200, code, string(body))
	}

	// The service account's own token, through the TokenRequest API, as the kubelet would mount it.
	code, body, err := cp.api.do("POST", "/api/v1/namespaces/kube-system/serviceaccounts/database-allow-list/token",
		"application/json", []byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":600}}`))
	require.NoError(t, err)
	require.Equal(t, 201, code, string(body))
	var request struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	require.NoError(t, json.Unmarshal(body, &request))
	account := t.TempDir()
	writeFile(t, account, "token", request.Status.Token)
	ca, err := os.ReadFile(cp.caFile)
	require.NoError(t, err)
	writeFile(t, account, "ca.crt", string(ca))

	// Its token may do nothing but list Nodes.
	as := &client{server: cp.api.server, token: request.Status.Token, http: cp.api.http}
	for path, want := range map[string]int{"/api/v1/nodes": 200, "/api/v1/namespaces/kube-system/secrets": 403,
		"/api/v1/nodes/lke-node-a": 403, "/api/v1/namespaces/gitlab/pods": 403} {
		code, _, err := as.do("GET", path, "", nil)
		require.NoError(t, err)
		assert.Equal(t, want, code, path)
	}

	// The Linode API, as far as the script uses it: the database's allow-list, read and written.
	var mu sync.Mutex
	current, puts := []string{"192.168.128.0/17"}, 0
	linode := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/v4/databases/postgresql/instances/"+env["DATABASE_ID"] || r.Header.Get("Authorization") != "Bearer e2e-token" {
			http.Error(w, `{"errors":[{"reason":"Not found"}]}`, http.StatusNotFound)
			return
		}
		if r.Method == http.MethodPut {
			body, _ := io.ReadAll(r.Body)
			var update struct {
				AllowList []string `json:"allow_list"`
			}
			if err := json.Unmarshal(body, &update); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			current, puts = update.AllowList, puts+1
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": env["DATABASE_ID"], "allow_list": current})
	}))
	defer linode.Close()

	file := filepath.Join(t.TempDir(), "allowlist.py")
	require.NoError(t, os.WriteFile(file, []byte(str(dig(script, "data", "allowlist.py"))), 0o644))
	server, err := url.Parse(cp.api.server)
	require.NoError(t, err)
	run := func() string {
		cmd := exec.Command(python, file)
		cmd.Env = append(os.Environ(), "ONCE=1", "LINODE_TOKEN=e2e-token", "LINODE_API="+linode.URL+"/v4",
			"DATABASE_ID="+env["DATABASE_ID"], "CLIENT_CIDRS="+env["CLIENT_CIDRS"], "SERVICE_ACCOUNT_DIR="+account,
			"HEARTBEAT_FILE="+filepath.Join(account, "heartbeat"),
			"KUBERNETES_SERVICE_HOST="+server.Hostname(), "KUBERNETES_SERVICE_PORT="+server.Port())
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	out := run()
	mu.Lock()
	assert.Equal(t, []string{"45.79.0.10/32", "45.79.0.11/32"}, current, "the nodes' external addresses, not their private ones: %s", out)
	assert.Equal(t, 1, puts)
	mu.Unlock()
	t.Logf("linode: the reconciler, with its own token, replaced [192.168.128.0/17] by the nodes' addresses: %s", out)

	run()
	mu.Lock()
	assert.Equal(t, 1, puts, "an equal list is left alone")
	mu.Unlock()
	_, err = os.Stat(filepath.Join(account, "heartbeat"))
	assert.NoError(t, err, "each turn touches the file the liveness probe watches")
}
