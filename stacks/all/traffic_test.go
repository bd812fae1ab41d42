package all_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/gitlab"
	"github.com/gitlab-ha/gitlab-ha/components/loadbalancer/nodebalancer"
)

// gitlabService is the stack's GitLab Service.
func gitlabService(t *testing.T, result *componenttest.Result) componenttest.Resource {
	t.Helper()
	service, ok := result.Find("kubernetes:core/v1:Service", "gitlab")
	require.True(t, ok)
	return service
}

// healthCheckPort is the Service's pinned health-check node port, which it must have.
func healthCheckPort(t *testing.T, service componenttest.Resource) int {
	t.Helper()
	port, ok := service.Input("spec.healthCheckNodePort")
	require.True(t, ok, "the Service pins its health-check port")
	return int(port.(float64))
}

// trafficStacks are every platform's stacks as the repository ships them (the Linode and existing ones as
// the tests build them from dev), with an existing cluster behind the team's own load balancer too.
func trafficStacks(t *testing.T) map[string]*stack {
	return map[string]*stack{
		"dev": load(t, "dev"), "prod": load(t, "prod"), "linode": linodeStack(t),
		"existing": existingStack(t), "existing behind its own load balancer": existingStack(t).patch("existing", map[string]any{"serviceType": "NodePort"}),
	}
}

// On every platform the Service sends what reaches a node only to that node's GitLab pods and pins the port
// on which kube-proxy answers the load balancer's health check. On AWS the stack's NLB is that load
// balancer, and on an existing cluster the team's may be: the Service's class keeps any controller off it.
func TestEveryStacksServiceKeepsTrafficOnItsNodeAndPinsItsHealthCheckPort(t *testing.T) {
	class := map[string]string{"dev": gitlab.ExternalLoadBalancerClass, "prod": gitlab.ExternalLoadBalancerClass,
		"existing behind its own load balancer": gitlab.ExternalLoadBalancerClass}
	for name, s := range trafficStacks(t) {
		t.Run(name, func(t *testing.T) {
			result, _ := s.run(t)
			require.NoError(t, result.Err)
			service := gitlabService(t, result)
			assert.Equal(t, "LoadBalancer", service.InputString("spec.type"))
			assert.Equal(t, "Local", service.InputString("spec.externalTrafficPolicy"))
			assert.Equal(t, gitlab.DefaultHealthCheckNodePort, healthCheckPort(t, service))
			assert.Equal(t, class[name], service.InputString("spec.loadBalancerClass"))
		})
	}
	result, _ := load(t, "dev").patch("gitlab", map[string]any{"healthCheckNodePort": 30100}).run(t)
	require.NoError(t, result.Err)
	assert.Equal(t, 30100, healthCheckPort(t, gitlabService(t, result)), "gitlab.healthCheckNodePort")
}

// Every NLB target group asks each node's kube-proxy, over HTTP on the Service's own health-check port,
// whether the node holds a ready GitLab pod, and the nodes admit that check from the NLB alone.
func TestEveryNLBTargetGroupChecksTheServicesHealthCheckPortOverHTTP(t *testing.T) {
	for _, s := range []*stack{load(t, "dev"), load(t, "prod"), load(t, "prod").patch("gitlab", map[string]any{"healthCheckNodePort": 30100})} {
		result, _ := s.run(t)
		require.NoError(t, result.Err)
		port := strconv.Itoa(healthCheckPort(t, gitlabService(t, result)))
		groups := result.OfType("aws:lb/targetGroup:TargetGroup")
		require.NotEmpty(t, groups)
		for _, tg := range groups {
			assert.Equal(t, "HTTP", tg.InputString("healthCheck.protocol"), "%s %s", s.name, tg.Name)
			assert.Equal(t, port, tg.InputString("healthCheck.port"), "%s %s", s.name, tg.Name)
			assert.Equal(t, "/healthz", tg.InputString("healthCheck.path"), "%s %s", s.name, tg.Name)
			assert.Equal(t, "200", tg.InputString("healthCheck.matcher"), "%s %s", s.name, tg.Name)
		}
		admitted := false
		for _, rule := range result.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
			if strconv.Itoa(int(rule.Inputs["fromPort"].NumberValue())) == port {
				admitted = true
				_, open := rule.Input("cidrIpv4")
				assert.False(t, open, "%s: the health-check port is open to the load balancer's group alone", s.name)
			}
		}
		assert.True(t, admitted, "%s: the nodes admit the health checks", s.name)
	}
}

// On AWS the NLB's instance targets see the client's own address, on TCP and TLS listeners alike, so GitLab
// needs no proxy protocol and trusts no proxy: a forged X-Forwarded-For is never believed.
func TestOnAWSGitLabSeesTheClientsOwnAddressAndTrustsNoProxy(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		result, _ := deploy(t, name)
		config := gitlabRB(t, result)
		assert.Contains(t, config, "gitlab_rails['trusted_proxies'] = []\n", name)
		for _, key := range []string{"real_ip", "proxy_protocol", "gitlab_sshd"} {
			assert.NotContains(t, config, key, name)
		}
		for _, tg := range result.OfType("aws:lb/targetGroup:TargetGroup") {
			assert.Equal(t, "instance", tg.InputString("targetType"), "%s %s", name, tg.Name)
			_, proxied := tg.Input("proxyProtocolV2")
			assert.False(t, proxied, "%s %s sends no PROXY header", name, tg.Name)
		}
	}
}

// prod ends TLS at the NLB: its port 80 reaches GitLab's redirect to https, not GitLab itself, where no
// sign-in would work. dev serves plain HTTP on port 80.
func TestProdRedirectsPlainHTTPToHTTPSAndDevServesIt(t *testing.T) {
	forwarded := func(result *componenttest.Result) map[float64]float64 {
		out := map[float64]float64{}
		for _, l := range result.OfType("aws:lb/listener:Listener") {
			for _, tg := range result.OfType("aws:lb/targetGroup:TargetGroup") {
				if tg.ID == l.InputString("defaultActions[0].targetGroupArn") {
					out[l.Inputs["port"].NumberValue()] = tg.Inputs["port"].NumberValue()
				}
			}
		}
		return out
	}
	prod, _ := deploy(t, "prod")
	assert.Equal(t, map[float64]float64{80: 30081, 443: 30080, 22: 30022}, forwarded(prod))
	redirect := false
	for _, raw := range gitlabService(t, prod).MustInput(t, "spec.ports").([]any) {
		p := raw.(map[string]any)
		if p["name"] == "http-redirect" {
			redirect = true
			assert.Equal(t, float64(30081), p["nodePort"])
		}
	}
	assert.True(t, redirect, "the Service has the redirect port the NLB sends to")
	assert.Contains(t, gitlabRB(t, prod), "return 301 https://gitlab.example.com$request_uri;")

	dev, _ := deploy(t, "dev")
	assert.Equal(t, map[float64]float64{80: 30080, 22: 30022}, forwarded(dev))
	assert.NotContains(t, gitlabRB(t, dev), "return 301")
}

// A TCP-mode NodeBalancer connects from its own addresses, so it sends PROXY protocol v2 and GitLab reads it,
// believing it from the NodeBalancer's back-end range alone: NGINX on its PROXY listener, gitlab-sshd on SSH.
// Either side without the other breaks every connection, so the two are asserted together.
func TestTheNodeBalancerSendsPROXYProtocolAndGitLabReadsItFromTheNodeBalancerAlone(t *testing.T) {
	result, _ := linodeStack(t).run(t)
	require.NoError(t, result.Err)
	annotations := gitlabService(t, result).InputMap("metadata.annotations")
	config := gitlabRB(t, result)

	sends := annotations[nodebalancer.ProxyProtocolAnnotation]
	reads := strings.Contains(config, "proxy_protocol;") && strings.Contains(config, "gitlab_sshd['proxy_protocol'] = true")
	assert.Equal(t, "v2", sends, "the NodeBalancer sends PROXY protocol")
	assert.True(t, reads, "GitLab's NGINX and SSH read it")
	for _, trust := range []string{
		"gitlab_rails['trusted_proxies'] = ['192.168.255.0/24']", "nginx['real_ip_trusted_addresses'] = ['192.168.255.0/24']",
		"gitlab_sshd['proxy_allowed'] = ['192.168.255.0/24']",
	} {
		assert.Contains(t, config, trust+"\n")
	}
	// Every config checks its backends: a TCP connection to the node port, which a Local Service's
	// kube-proxy drops on a node without a ready GitLab pod (the controller has no check port).
	assert.Equal(t, "connection", annotations[nodebalancer.CheckTypeAnnotation])
	for _, key := range []string{nodebalancer.CheckIntervalAnnotation, nodebalancer.CheckTimeoutAnnotation, nodebalancer.CheckAttemptsAnnotation} {
		assert.NotEmpty(t, annotations[key], key)
	}
}

func TestBadTrafficConfigurationNamesTheKey(t *testing.T) {
	cases := []struct {
		name string
		s    *stack
		want string
	}{
		{"health-check port outside the node-port range", load(t, "dev").patch("gitlab", map[string]any{"healthCheckNodePort": 10256}),
			"gitlab-ha:gitlab.healthCheckNodePort: 10256 is outside the node port range 30000-32767"},
		{"health-check port that is a traffic port", load(t, "prod").patch("gitlab", map[string]any{"healthCheckNodePort": 30022}),
			"gitlab-ha:gitlab.healthCheckNodePort: 30022 is also nodePorts.ssh"},
		{"health-check port that is the redirect port", load(t, "prod").patch("gitlab", map[string]any{"healthCheckNodePort": 30081}),
			"gitlab-ha:gitlab.healthCheckNodePort: 30081 is also nodePorts.httpRedirect"},
		{"Linode health-check port outside the range", linodeStack(t).patch("gitlab", map[string]any{"healthCheckNodePort": 40000}),
			"gitlab-ha:gitlab.healthCheckNodePort: 40000 is outside the node port range"},
		{"health-check port without a load balancer", existingStack(t).patch("existing", map[string]any{"serviceType": "ClusterIP"}).
			patch("gitlab", map[string]any{"healthCheckNodePort": 30100}),
			"gitlab-ha:gitlab.healthCheckNodePort: 30100 is set, but the Service type is ClusterIP"},
		{"PROXY protocol from the cloud's load balancer", existingStack(t).patch("existing", map[string]any{"proxyProtocolFrom": []string{"10.0.0.0/24"}}),
			"gitlab-ha:existing.proxyProtocolFrom: [10.0.0.0/24] is set, but existing.serviceType is LoadBalancer: the cluster's own controller builds that load balancer"},
		{"PROXY protocol without a load balancer", existingStack(t).patch("existing", map[string]any{"serviceType": "ClusterIP", "proxyProtocolFrom": []string{"10.0.0.0/24"}}),
			"gitlab-ha:existing.proxyProtocolFrom: [10.0.0.0/24] is set, but existing.serviceType is ClusterIP: a ClusterIP Service has no load balancer to send it"},
		{"PROXY protocol from anyone", existingStack(t).patch("existing", map[string]any{"serviceType": "NodePort", "proxyProtocolFrom": []string{"0.0.0.0/0"}}),
			`gitlab-ha:existing.proxyProtocolFrom[0]: "0.0.0.0/0" would believe a client address from anyone`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			result, _ := tc.s.run(t)
			require.Error(t, result.Err)
			assert.Contains(t, result.Err.Error(), tc.want)
			assert.Empty(t, result.Resources, "a refused stack registers nothing")
		})
	}
}

// Behind a load balancer of the team's own that sends PROXY protocol, GitLab believes it from that load
// balancer's addresses.
func TestAnExistingClustersOwnLoadBalancerMaySendPROXYProtocol(t *testing.T) {
	result, _ := existingStack(t).patch("existing", map[string]any{"serviceType": "NodePort", "proxyProtocolFrom": []string{"10.0.5.0/24"}}).run(t)
	require.NoError(t, result.Err)
	config := gitlabRB(t, result)
	for _, line := range []string{"nginx['real_ip_trusted_addresses'] = ['10.0.5.0/24']", "gitlab_sshd['proxy_allowed'] = ['10.0.5.0/24']"} {
		assert.Contains(t, config, line+"\n")
	}
	assert.Equal(t, gitlab.ExternalLoadBalancerClass, gitlabService(t, result).InputString("spec.loadBalancerClass"))
	assert.Contains(t, fmt.Sprint(gitlabService(t, result).MustInput(t, "spec.ports")), "http-proxied")
}
