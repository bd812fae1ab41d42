package gitlab_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
)

// servicePorts maps each of the Service's ports to its number, node port and target.
func servicePorts(t *testing.T, service componenttest.Resource) map[string][3]any {
	t.Helper()
	ports := map[string][3]any{}
	for _, raw := range service.MustInput(t, "spec.ports").([]any) {
		p := raw.(map[string]any)
		ports[p["name"].(string)] = [3]any{p["port"], p["nodePort"], p["targetPort"]}
	}
	return ports
}

// zoneContainer is the first zone's GitLab container: its ports by name, its environment, and the script it
// runs before reconfigure.
func zoneContainer(t *testing.T, result *componenttest.Result) (ports map[string]float64, env map[string]string) {
	t.Helper()
	deployment, ok := result.Find(deploymentType, "gitlab-eu-west-1a")
	require.True(t, ok)
	ports, env = map[string]float64{}, map[string]string{}
	for _, raw := range deployment.MustInput(t, "spec.template.spec.containers[0].ports").([]any) {
		p := raw.(map[string]any)
		ports[p["name"].(string)] = p["containerPort"].(float64)
	}
	for _, raw := range deployment.MustInput(t, "spec.template.spec.containers[0].env").([]any) {
		e := raw.(map[string]any)
		value, _ := e["value"].(string)
		env[e["name"].(string)] = value
	}
	return ports, env
}

// A LoadBalancer Service sends what reaches a node to that node's own GitLab pods only, and pins the port on
// which kube-proxy tells the load balancer whether the node holds a ready one.
func TestALoadBalancerServiceKeepsTrafficOnItsNodeAndPinsItsHealthCheckPort(t *testing.T) {
	args := threeZones()
	args.Service = gitlab.Service{Type: "LoadBalancer"}
	result, _ := deploy(t, args)
	service, _ := result.Find(serviceType, "gitlab")
	assert.Equal(t, "Local", service.InputString("spec.externalTrafficPolicy"))
	assert.Equal(t, float64(gitlab.DefaultHealthCheckNodePort), service.MustInput(t, "spec.healthCheckNodePort"))
	_, classed := service.Input("spec.loadBalancerClass")
	assert.False(t, classed, "the cloud's own controller builds the load balancer")

	args.Service.HealthCheckNodePort = 30100
	result, _ = deploy(t, args)
	service, _ = result.Find(serviceType, "gitlab")
	assert.Equal(t, float64(30100), service.MustInput(t, "spec.healthCheckNodePort"))
}

// Kubernetes gives no health-check port to a NodePort Service, but it keeps traffic on its node all the
// same; a ClusterIP Service has no outside traffic at all.
func TestANodePortServiceKeepsTrafficOnItsNodeAndAClusterIPServiceIsUntouched(t *testing.T) {
	args := threeZones()
	args.Service = gitlab.Service{Type: "NodePort", NodePorts: gitlab.NodePorts{HTTP: 30080, SSH: 30022}}
	result, _ := deploy(t, args)
	service, _ := result.Find(serviceType, "gitlab")
	assert.Equal(t, "Local", service.InputString("spec.externalTrafficPolicy"))
	_, pinned := service.Input("spec.healthCheckNodePort")
	assert.False(t, pinned, "the API server refuses a health-check port on a NodePort Service")

	result, _ = deploy(t, threeZones())
	service, _ = result.Find(serviceType, "gitlab")
	for _, field := range []string{"spec.externalTrafficPolicy", "spec.healthCheckNodePort"} {
		_, set := service.Input(field)
		assert.False(t, set, "%s on a ClusterIP Service", field)
	}
}

// A load balancer managed outside Kubernetes gets a Service no controller acts on, which Pulumi waits on for
// its health-check port rather than for an address nobody will give it; the caller's annotations stay.
func TestAServiceOfTheExternalClassIsLeftToItsOwnLoadBalancer(t *testing.T) {
	args := threeZones()
	args.Service = gitlab.Service{
		Type: "LoadBalancer", LoadBalancerClass: gitlab.ExternalLoadBalancerClass,
		Annotations: pulumi.StringMap{"example.com/owner": pulumi.String("platform")},
		NodePorts:   gitlab.NodePorts{HTTP: 30080, SSH: 30022},
	}
	result, _ := deploy(t, args)
	service, _ := result.Find(serviceType, "gitlab")
	assert.Equal(t, gitlab.ExternalLoadBalancerClass, service.InputString("spec.loadBalancerClass"))
	assert.Equal(t, map[string]string{
		"example.com/owner": "platform", "pulumi.com/waitFor": "jsonpath={.spec.healthCheckNodePort}",
	}, service.InputMap("metadata.annotations"))
	assert.Equal(t, map[string][3]any{
		"http": {float64(80), float64(30080), "http"}, "ssh": {float64(22), float64(30022), "ssh"},
	}, servicePorts(t, service))
}

// Without PROXY protocol, connections arrive with the client's own address: GitLab trusts no proxy, NGINX
// reads no header, and OpenSSH serves SSH on port 22.
func TestWithoutPROXYProtocolGitLabTrustsNoProxy(t *testing.T) {
	args := threeZones()
	args.Service = gitlab.Service{Type: "LoadBalancer"}
	result, _ := deploy(t, args)
	config := omnibusConfig(t, result)
	assert.Contains(t, config, "gitlab_rails['trusted_proxies'] = []\n")
	for _, key := range []string{"real_ip", "proxy_protocol", "gitlab_sshd", "custom_gitlab_server_config"} {
		assert.NotContains(t, config, key)
	}
	ports, env := zoneContainer(t, result)
	assert.Equal(t, map[string]float64{"http": 80, "ssh": 22}, withoutMetrics(ports))
	assert.NotContains(t, env, "GITLAB_DISABLE_OPENSSH")
	assert.NotContains(t, env["GITLAB_PRE_RECONFIGURE_SCRIPT"], "gitlab-sshd")
}

// With PROXY protocol both of GitLab's listeners read it, and each believes it only from the load balancer:
// NGINX on a listener of its own (port 80 stays plain for the probes and in-cluster clients), SSH on
// gitlab-sshd in place of OpenSSH, with the shared host keys. One side without the other would refuse or
// misread every connection, so the test asks for both.
func TestWithPROXYProtocolNGINXAndSSHBothReadItFromTheLoadBalancerAlone(t *testing.T) {
	args := threeZones()
	args.Service = gitlab.Service{Type: "LoadBalancer", ProxyProtocol: &gitlab.ProxyProtocol{TrustedCIDRs: []string{"192.168.255.0/24"}}}
	result, _ := deploy(t, args)
	config := omnibusConfig(t, result)

	nginx := []string{
		"nginx['real_ip_header'] = 'proxy_protocol'",
		"nginx['real_ip_trusted_addresses'] = ['192.168.255.0/24']",
		"nginx['custom_gitlab_server_config'] = 'listen *:8081 proxy_protocol;\n'",
	}
	sshd := []string{
		"gitlab_sshd['enable'] = true",
		"gitlab_sshd['listen_address'] = '0.0.0.0:2222'",
		"gitlab_sshd['proxy_protocol'] = true",
		"gitlab_sshd['proxy_allowed'] = ['192.168.255.0/24']",
		"gitlab_sshd['generate_host_keys'] = false",
	}
	for _, line := range append(append(nginx, sshd...), "gitlab_rails['trusted_proxies'] = ['192.168.255.0/24']") {
		assert.Contains(t, config, line+"\n")
	}
	assert.NotContains(t, config, "nginx['proxy_protocol']", "port 80 must stay plain: the readiness probe reaches it without a header")

	service, _ := result.Find(serviceType, "gitlab")
	ports := servicePorts(t, service)
	assert.Equal(t, "http-proxied", ports["http"][2], "the load balancer's HTTP reaches the listener that reads the header")
	assert.Equal(t, "ssh", ports["ssh"][2])
	container, env := zoneContainer(t, result)
	assert.Equal(t, map[string]float64{"http": 80, "http-proxied": 8081, "ssh": 2222}, withoutMetrics(container), "port 22 of the Service reaches gitlab-sshd")
	assert.Equal(t, "true", env["GITLAB_DISABLE_OPENSSH"], "OpenSSH cannot read PROXY protocol")
	script := env["GITLAB_PRE_RECONFIGURE_SCRIPT"]
	for _, key := range []string{"ssh_host_rsa_key", "ssh_host_ecdsa_key", "ssh_host_ed25519_key"} {
		assert.Contains(t, script, "install -o git -g git -m 0600 /etc/gitlab/"+key+" /var/opt/gitlab/gitlab-sshd/"+key+"\n",
			"gitlab-sshd serves the shared host key, not one of its own")
	}
	assert.Less(t, strings.Index(script, "install -o root -g root -m 0600"), strings.Index(script, "/var/opt/gitlab/gitlab-sshd/"),
		"the shared keys are in /etc/gitlab before gitlab-sshd's copy is made")

	policy, _ := result.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gitlab")
	assert.Equal(t, []any{
		map[string]any{"port": float64(80), "protocol": "TCP"}, map[string]any{"port": float64(2222), "protocol": "TCP"},
		map[string]any{"port": float64(8081), "protocol": "TCP"},
	}, policy.MustInput(t, "spec.ingress[0].ports"))
}

// Where TLS ends at the load balancer, its plain-HTTP listener reaches a port of its own whose NGINX server
// answers every request with a redirect to the https address.
func TestWithTLSEndedAtTheLoadBalancerHTTPIsRedirectedToHTTPS(t *testing.T) {
	args := threeZones()
	args.Service = gitlab.Service{Type: "NodePort", HTTPRedirect: true, NodePorts: gitlab.NodePorts{HTTP: 30080, SSH: 30022, HTTPRedirect: 30081}}
	result, _ := deploy(t, args)
	service, _ := result.Find(serviceType, "gitlab")
	assert.Equal(t, [3]any{float64(gitlab.HTTPRedirectPort), float64(30081), "http-redirect"}, servicePorts(t, service)["http-redirect"])
	ports, _ := zoneContainer(t, result)
	assert.Equal(t, float64(8084), ports["http-redirect"])
	assert.Contains(t, omnibusConfig(t, result), "nginx['custom_nginx_config'] = 'server {\n  listen *:8084;\n  server_tokens off;\n"+
		"  location / {\n    return 301 https://gitlab.example.com$request_uri;\n  }\n}\n'\n")
}

func TestBadTrafficArgsNameTheField(t *testing.T) {
	proxied := &gitlab.ProxyProtocol{TrustedCIDRs: []string{"192.168.255.0/24"}}
	cases := []struct {
		name    string
		service gitlab.Service
		edit    func(*gitlab.GitLabArgs)
		want    string
	}{
		{"health-check port below the node-port range", gitlab.Service{Type: "LoadBalancer", HealthCheckNodePort: 10256}, nil,
			"service.healthCheckNodePort: 10256 is outside the node port range 30000-32767"},
		{"health-check port above the node-port range", gitlab.Service{Type: "LoadBalancer", HealthCheckNodePort: 32768}, nil,
			"service.healthCheckNodePort: 32768 is outside the node port range"},
		{"health-check port is a traffic port", gitlab.Service{Type: "LoadBalancer", HealthCheckNodePort: 30022,
			NodePorts: gitlab.NodePorts{HTTP: 30080, SSH: 30022}}, nil,
			"service.healthCheckNodePort: 30022 is also service.nodePorts.ssh, a traffic port"},
		{"health-check port on a NodePort Service", gitlab.Service{Type: "NodePort", HealthCheckNodePort: 30056}, nil,
			"service.healthCheckNodePort: 30056 is set, but the Service type is NodePort"},
		{"load balancer class on a NodePort Service", gitlab.Service{Type: "NodePort", LoadBalancerClass: gitlab.ExternalLoadBalancerClass}, nil,
			`service.loadBalancerClass: "gitlab-ha.io/external" is set, but the Service type is NodePort`},
		{"load balancer class not a qualified name", gitlab.Service{Type: "LoadBalancer", LoadBalancerClass: "my class"}, nil,
			`service.loadBalancerClass: "my class" is not a qualified name`},
		{"redirect on a ClusterIP Service", gitlab.Service{HTTPRedirect: true}, nil,
			"service.httpRedirect: true is set, but a ClusterIP Service has no load balancer"},
		{"redirect to an http URL", gitlab.Service{Type: "NodePort", HTTPRedirect: true},
			func(a *gitlab.GitLabArgs) { a.ExternalURL = pulumi.String("http://gitlab.example.com") },
			`service.httpRedirect: true is set, but externalURL "http://gitlab.example.com" is not https`},
		{"redirect where GitLab serves TLS", gitlab.Service{Type: "NodePort", HTTPRedirect: true},
			func(a *gitlab.GitLabArgs) { a.TLSSecretName = "gitlab-tls" }, `service.httpRedirect: true is set, but tlsSecretName "gitlab-tls"`},
		{"redirect node port without the redirect", gitlab.Service{Type: "NodePort", NodePorts: gitlab.NodePorts{HTTPRedirect: 30081}}, nil,
			"service.nodePorts.httpRedirect: 30081 is set, but service.httpRedirect is false"},
		{"PROXY protocol to a ClusterIP Service", gitlab.Service{ProxyProtocol: proxied}, nil,
			"service.proxyProtocol: is set, but the Service type is ClusterIP: no load balancer sends PROXY protocol to it"},
		{"PROXY protocol with GitLab serving TLS", gitlab.Service{Type: "LoadBalancer", ProxyProtocol: proxied},
			func(a *gitlab.GitLabArgs) { a.TLSSecretName = "gitlab-tls" }, `service.proxyProtocol: is set with tlsSecretName "gitlab-tls"`},
		{"PROXY protocol from nowhere", gitlab.Service{Type: "LoadBalancer", ProxyProtocol: &gitlab.ProxyProtocol{}}, nil,
			"service.proxyProtocol.trustedCidrs: is empty"},
		{"PROXY protocol from anyone", gitlab.Service{Type: "LoadBalancer", ProxyProtocol: &gitlab.ProxyProtocol{TrustedCIDRs: []string{"0.0.0.0/0"}}}, nil,
			`service.proxyProtocol.trustedCidrs[0]: "0.0.0.0/0" would believe a client address from anyone`},
		{"PROXY protocol from a bad range", gitlab.Service{Type: "LoadBalancer", ProxyProtocol: &gitlab.ProxyProtocol{TrustedCIDRs: []string{"nodebalancers"}}}, nil,
			`service.proxyProtocol.trustedCidrs[0]: "nodebalancers" is not a CIDR block`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := threeZones()
			args.Service = tc.service
			if tc.edit != nil {
				tc.edit(args)
			}
			componenttest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := gitlab.NewGitLab(ctx, "gitlab", args)
				return err
			}, fmt.Sprintf("gitlab %q: %s", "gitlab", tc.want))
		})
	}
}
