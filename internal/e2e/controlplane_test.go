//go:build e2e

// Package e2e applies the plans' manifests to a real Kubernetes control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, all v1.36.3) with kwok playing the nodes, in the order Pulumi
// would, and checks that the zone design behaves: the release's migration Job completes before any zone
// rolls out and the post-deployment Job after every zone has, claims bind to their zone's volumes, pods run
// on their zone's nodes, an upgrade runs a new Job and rolls the zones, the Service keeps endpoints while a
// zone is lost, and the lost zone's pods wait for their zone instead of moving.
// Run with `make e2e`, which builds the binaries into .cache/e2e and the plans into plan/.
package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// controlPlane is a running cluster: its processes and a client for its API.
type controlPlane struct {
	dir       string
	api       *client
	caFile    string // the CA the API server's certificate is signed by
	processes []*exec.Cmd
}

// binary is a pinned binary built by `make e2e`.
func binary(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("E2E_BIN")
	if dir == "" {
		t.Fatal("E2E_BIN is not set: run `make e2e`")
	}
	path, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is not built: run `make e2e`", path)
	}
	return path
}

func freePort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port
}

// startControlPlane starts every process on loopback and returns when the API answers ready. Every
// process it started is stopped by PID when the test ends, pass or fail.
func startControlPlane(t *testing.T) *controlPlane {
	t.Helper()
	dir := t.TempDir()
	cp := &controlPlane{dir: dir}
	t.Cleanup(cp.stop)

	pki := writePKI(t, dir)
	cp.caFile = pki.caCert
	token := randomToken(t)
	writeFile(t, dir, "tokens.csv", fmt.Sprintf("%s,admin,admin,system:masters\n", token))

	etcdClient, etcdPeer, apiPort := freePort(t), freePort(t), freePort(t)
	cp.start(t, "etcd", binary(t, "etcd-v3.5.21"),
		"--data-dir", filepath.Join(dir, "etcd"), "--unsafe-no-fsync",
		"--listen-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--advertise-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPeer),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPeer),
		"--initial-cluster", fmt.Sprintf("default=http://127.0.0.1:%d", etcdPeer))

	cp.start(t, "kube-apiserver", binary(t, "kube-apiserver-v1.36.3"),
		"--etcd-servers", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", fmt.Sprint(apiPort),
		// With a loopback advertise address, the default endpoint reconciler refuses to start.
		"--endpoint-reconciler-type", "none",
		"--tls-cert-file", pki.serverCert, "--tls-private-key-file", pki.serverKey, "--client-ca-file", pki.caCert,
		"--token-auth-file", filepath.Join(dir, "tokens.csv"), "--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", pki.saPublic, "--service-account-signing-key-file", pki.saPrivate,
		// LKE's Service network, where the Linode plan's NFS Service asks for its fixed address.
		"--service-cluster-ip-range", "10.128.0.0/16", "--profiling=false")

	server := fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	cp.api = newClient(t, server, token, pki.caCert)
	kubeconfig := writeKubeconfig(t, dir, server, token, pki.caCert)
	cp.api.waitReady(t, 90*time.Second)

	// Default controllers: node lifecycle clears the not-ready taint, endpoints follow ready pods, the
	// volume binder binds claims, pod GC removes the pods of deleted nodes.
	cp.start(t, "kube-controller-manager", binary(t, "kube-controller-manager-v1.36.3"),
		"--kubeconfig", kubeconfig, "--leader-elect=false", "--secure-port", "0",
		"--service-account-private-key-file", pki.saPrivate, "--root-ca-file", pki.caCert)
	cp.start(t, "kube-scheduler", binary(t, "kube-scheduler-v1.36.3"),
		"--kubeconfig", kubeconfig, "--leader-elect=false", "--secure-port", "0")
	writeFile(t, dir, "kwok.yaml", serviceStage)
	cp.start(t, "kwok", binary(t, "kwok-v0.7.0"),
		"--kubeconfig", kubeconfig, "--manage-nodes-with-label-selector", fakeNodeLabel+"=true",
		"--config", filepath.Join(dir, "kwok.yaml"), "--cidr", "10.244.0.1/16",
		// Nodes renew a Lease, as kubelets do; the node lifecycle controller watches it.
		"--node-lease-duration-seconds", "40")
	return cp
}

// fakeNodeLabel marks the nodes kwok plays.
const fakeNodeLabel = "kwok.x-k8s.io/fake"

// serviceStage plays a cloud controller: a LoadBalancer Service gets an address from the documentation
// range, unless it names a load balancer class, which the cloud's controller leaves alone
// (k8s.io/cloud-provider v0.33 controllers/service/controller.go, wantsLoadBalancer). kwok's default stages play the nodes and pods, and they include the stage the migration Jobs need:
// kwok v0.7's pod-complete (kustomize/stage/pod/fast) turns a running pod that a Job owns into Succeeded,
// which completes the Job. They apply because this file gives no Pod stage: kwok loads its default pod
// stages only when the configuration has none of its own (pkg/kwok/cmd/root.go), so a Pod stage here would
// have to replace all three (ready, complete, delete).
const serviceStage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: service-load-balancer
spec:
  resourceRef:
    apiGroup: v1
    kind: Service
  selector:
    matchExpressions:
    - key: '.spec.type'
      operator: 'In'
      values: ['LoadBalancer']
    - key: '.spec.loadBalancerClass'
      operator: 'DoesNotExist'
    - key: '.status.loadBalancer.ingress'
      operator: 'DoesNotExist'
  next:
    statusTemplate: |
      loadBalancer:
        ingress:
        - ip: 198.51.100.10
`

func (cp *controlPlane) start(t *testing.T, name, path string, args ...string) {
	t.Helper()
	log, err := os.Create(filepath.Join(cp.dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	cp.processes = append(cp.processes, cmd)
	t.Logf("started %s (pid %d)", name, cmd.Process.Pid)
}

// stop ends every process this test started, newest first, by PID; it keeps their logs when the test failed.
func (cp *controlPlane) stop() {
	for i := len(cp.processes) - 1; i >= 0; i-- {
		process := cp.processes[i].Process
		_ = syscall.Kill(-process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _, _ = cp.processes[i].Process.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	if keep := os.Getenv("E2E_LOGS"); keep != "" {
		_ = os.MkdirAll(keep, 0o755)
		logs, _ := filepath.Glob(filepath.Join(cp.dir, "*.log"))
		for _, log := range logs {
			body, _ := os.ReadFile(log)
			_ = os.WriteFile(filepath.Join(keep, filepath.Base(log)), body, 0o644)
		}
	}
}

// --- certificates ----------------------------------------------------------------------------------------

type pkiFiles struct{ caCert, serverCert, serverKey, saPublic, saPrivate string }

func writePKI(t *testing.T, dir string) pkiFiles {
	t.Helper()
	caKey := rsaKey(t)
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gitlab-ha e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	serverKey := rsaKey(t)
	serverTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.128.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, serverTemplate, ca, &serverKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	saKey := rsaKey(t)
	saPublic, _ := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	return pkiFiles{
		caCert:     writePEM(t, dir, "ca.crt", "CERTIFICATE", caDER),
		serverCert: writePEM(t, dir, "server.crt", "CERTIFICATE", serverDER),
		serverKey:  writePEM(t, dir, "server.key", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(serverKey)),
		saPublic:   writePEM(t, dir, "sa.pub", "PUBLIC KEY", saPublic),
		saPrivate:  writePEM(t, dir, "sa.key", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey)),
	}
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writePEM(t *testing.T, dir, name, kind string, der []byte) string {
	t.Helper()
	return writeFile(t, dir, name, string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})))
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func randomToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

func writeKubeconfig(t *testing.T, dir, server, token, caFile string) string {
	t.Helper()
	return writeFile(t, dir, "kubeconfig", fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %q, certificate-authority: %q}
users:
- name: admin
  user: {token: %q}
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
`, server, caFile, token))
}

// --- the API ---------------------------------------------------------------------------------------------

// client speaks to the API server over HTTPS with a bearer token: the few calls the tests need, without
// client-go.
type client struct {
	server, token string
	http          *http.Client
}

func newClient(t *testing.T, server, token, caFile string) *client {
	t.Helper()
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(ca)
	return &client{server: server, token: token, http: &http.Client{
		Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}}
}

func (c *client) do(method, path, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, c.server+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func (c *client) waitReady(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if code, _, err := c.do("GET", "/readyz", "", nil); err == nil && code == 200 {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("kube-apiserver not ready within %s", within)
}

// get decodes an object or list at path.
func (c *client) get(path string, out any) error {
	code, body, err := c.do("GET", path, "", nil)
	if err != nil {
		return err
	}
	if code != 200 {
		return fmt.Errorf("GET %s: %d %s", path, code, body)
	}
	return json.Unmarshal(body, out)
}

// apply server-side applies an object, as `kubectl apply --server-side` does.
func (c *client) apply(object map[string]any) error {
	body, err := json.Marshal(object)
	if err != nil {
		return err
	}
	code, out, err := c.do("PATCH", objectPath(object)+"?fieldManager=gitlab-ha-e2e&force=true", "application/apply-patch+yaml", body)
	if err != nil {
		return err
	}
	if code != 200 && code != 201 {
		return fmt.Errorf("apply %s: %d %s", objectPath(object), code, out)
	}
	return nil
}

// objectPath is an object's REST path, from its apiVersion, kind, namespace and name.
func objectPath(object map[string]any) string {
	apiVersion, _ := object["apiVersion"].(string)
	kind, _ := object["kind"].(string)
	metadata, _ := object["metadata"].(map[string]any)
	namespace, _ := metadata["namespace"].(string)
	name, _ := metadata["name"].(string)
	return collectionPath(apiVersion, namespace, plural(kind)) + "/" + name
}

func collectionPath(apiVersion, namespace, resource string) string {
	base := "/apis/" + apiVersion
	if !strings.Contains(apiVersion, "/") {
		base = "/api/" + apiVersion
	}
	if namespace != "" {
		base += "/namespaces/" + namespace
	}
	return base + "/" + resource
}

func plural(kind string) string {
	lower := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(lower, "y"):
		return strings.TrimSuffix(lower, "y") + "ies"
	case strings.HasSuffix(lower, "ss"): // StorageClass
		return lower + "es"
	}
	return lower + "s"
}
