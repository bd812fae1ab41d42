package gitlab

import (
	"fmt"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/gitlab-ha/gitlab-ha/internal/validate"
)

// How traffic reaches GitLab's listeners, and whom GitLab believes about a client's address: the listeners a
// load balancer's PROXY protocol needs, the redirect a load balancer that ends TLS needs, and the trusted
// proxies. Read against Omnibus 18.11.11+ce.0 (files/gitlab-cookbooks/gitlab/): attributes/default.rb,
// templates/default/nginx-gitlab-rails.conf.erb, libraries/nginx.rb, libraries/gitlab_sshd_helper.rb and
// recipes/gitlab-shell.rb.

// Container ports beyond the image's own (80, 443, 22), free in Omnibus's defaults (Puma 8080, Sidekiq 8082,
// Puma's exporter 8083, gitlab-sshd's default listen address localhost:2222).
const (
	// proxiedHTTPPort is a second listener of GitLab's NGINX server, which requires a PROXY protocol
	// header. Port 80 stays plain: the probes and in-cluster clients reach it without a header.
	proxiedHTTPPort     = 8081
	proxiedHTTPPortName = "http-proxied"
	// redirectPortName is the NGINX server that redirects every request to the https ExternalURL.
	redirectPortName = "http-redirect"
	// gitlabSSHDPort is where gitlab-sshd listens: its runit service runs it as the git user (chpst -u
	// git:git, templates/default/sv-gitlab-sshd-run.erb), which cannot bind port 22; the Service's port 22
	// reaches it by the container port's name, so users still clone from port 22.
	gitlabSSHDPort = 2222
	// gitlabSSHDDir is gitlab-sshd's host-key directory (gitlab_sshd['host_keys_dir']'s default).
	gitlabSSHDDir = "/var/opt/gitlab/gitlab-sshd"
)

// containerPort is a named port of the GitLab container.
type containerPort struct {
	name string
	port int
}

// containerPorts are what the zones' GitLab containers listen on, and so what their NetworkPolicy admits, in
// the order earlier versions declared the first three: a running stack's pods do not roll for a reordering.
func containerPorts(args GitLabArgs) []containerPort {
	ssh := sshPort
	if args.Service.ProxyProtocol != nil {
		ssh = gitlabSSHDPort
	}
	ports := []containerPort{{"http", httpPort}, {"ssh", ssh}}
	if args.TLSSecretName != "" {
		ports = append(ports, containerPort{"https", httpsPort})
	}
	if args.Service.ProxyProtocol != nil {
		ports = append(ports, containerPort{proxiedHTTPPortName, proxiedHTTPPort})
	}
	if args.Service.HTTPRedirect {
		ports = append(ports, containerPort{redirectPortName, HTTPRedirectPort})
	}
	return ports
}

// zoneContainerPorts are containerPorts, then the metrics ports, as the Deployment's container declares them.
func zoneContainerPorts(args GitLabArgs) corev1.ContainerPortArray {
	var ports corev1.ContainerPortArray
	for _, p := range append(containerPorts(args), metricsPorts(args)...) {
		ports = append(ports, &corev1.ContainerPortArgs{Name: pulumi.String(p.name), ContainerPort: pulumi.Int(p.port), Protocol: pulumi.String("TCP")})
	}
	return ports
}

// sshdEnv turns OpenSSH off where gitlab-sshd serves SSH: the image starts OpenSSH unless told not to
// (docker/assets/init-container, GITLAB_DISABLE_OPENSSH).
func sshdEnv(args GitLabArgs) corev1.EnvVarArray {
	if args.Service.ProxyProtocol == nil {
		return nil
	}
	return corev1.EnvVarArray{&corev1.EnvVarArgs{Name: pulumi.String("GITLAB_DISABLE_OPENSSH"), Value: pulumi.String("true")}}
}

// gitlabSSHDHostKeyScript gives gitlab-sshd the host keys OpenSSH would have served, the shared ones that
// hostKeyScript has just installed in /etc/gitlab, so that clients see the same host whichever zone answers
// and whichever daemon serves it. gitlab-sshd reads them as the git user from its own directory, which is
// per pod (/var/opt/gitlab); reconfigure generates keys there only when it finds none, and is told not to.
func gitlabSSHDHostKeyScript() string {
	var b strings.Builder
	b.WriteString("install -d -o " + gitUser + " -g " + gitUser + " -m 0700 " + gitlabSSHDDir + "\n")
	for _, key := range sshHostKeys {
		b.WriteString("install -o " + gitUser + " -g " + gitUser + " -m 0600 /etc/gitlab/" + key.file() + " " + gitlabSSHDDir + "/" + key.file() + "\n")
	}
	return b.String()
}

// trafficSettings are what gitlab.rb says about the load balancer in front.
type trafficSettings struct {
	// proxyFrom are the load balancer's addresses when it sends PROXY protocol; empty when connections
	// arrive with the client's own address.
	proxyFrom []string
	// redirect serves the HTTP redirect to ExternalURL.
	redirect bool
}

func trafficSettingsFor(args GitLabArgs) trafficSettings {
	t := trafficSettings{redirect: args.Service.HTTPRedirect}
	if args.Service.ProxyProtocol != nil {
		t.proxyFrom = append([]string(nil), args.Service.ProxyProtocol.TrustedCIDRs...)
	}
	return t
}

// renderTraffic writes the trusted proxies, the PROXY protocol listeners and the redirect.
func renderTraffic(line func(string, ...any), t trafficSettings, externalURL string) {
	// Rails trusts 127.0.0.1 and ::1 and these alone (GitLab's config/initializers/trusted_proxies.rb):
	// the client address Rails and Rack::Attack see is the last one before a trusted proxy.
	line("gitlab_rails['trusted_proxies'] = [%s]", rubyStrings(t.proxyFrom))
	if len(t.proxyFrom) > 0 {
		line("# The load balancer sends PROXY protocol: NGINX takes the client's address from the header on its")
		line("# listener %d, and only from a connection from the load balancer; port 80 stays plain for the probes.", proxiedHTTPPort)
		line("nginx['real_ip_header'] = 'proxy_protocol'")
		line("nginx['real_ip_trusted_addresses'] = [%s]", rubyStrings(t.proxyFrom))
		line("nginx['custom_gitlab_server_config'] = %s", rubyString(fmt.Sprintf("listen *:%d proxy_protocol;\n", proxiedHTTPPort)))
		// proxy_allowed is gitlab-shell's (internal/config/config.go; internal/sshd/sshd.go turns it into a
		// strict allow-list: a header from another address is refused), not an Omnibus default: Omnibus passes
		// every gitlab_sshd key it is given into the sshd section of gitlab-shell's config.yml
		// (package/libraries/settings_dsl.rb sanitized_config, gitlab/libraries/gitlab_sshd_helper.rb).
		line("# gitlab-sshd, not OpenSSH, serves SSH: it reads the header, from the load balancer's addresses only.")
		line("gitlab_sshd['enable'] = true")
		line("gitlab_sshd['listen_address'] = %s", rubyString(fmt.Sprintf("0.0.0.0:%d", gitlabSSHDPort)))
		line("gitlab_sshd['proxy_protocol'] = true")
		line("gitlab_sshd['proxy_allowed'] = [%s]", rubyStrings(t.proxyFrom))
		line("gitlab_sshd['generate_host_keys'] = false")
	}
	if t.redirect {
		line("# TLS ends at the load balancer: its plain-HTTP listener reaches this server, which redirects to https.")
		line("nginx['custom_nginx_config'] = %s", rubyString(fmt.Sprintf(
			"server {\n  listen *:%d;\n  server_tokens off;\n  location / {\n    return 301 %s$request_uri;\n  }\n}\n",
			HTTPRedirectPort, strings.TrimSuffix(externalURL, "/"))))
	}
}

// validateTraffic checks the redirect and PROXY protocol against the Service and ExternalURL.
func validateTraffic(args GitLabArgs) error {
	s := args.Service
	if s.NodePorts.HTTPRedirect != 0 && !s.HTTPRedirect {
		return validate.Errorf("service.nodePorts.httpRedirect", s.NodePorts.HTTPRedirect, "is set, but service.httpRedirect is false")
	}
	if s.HTTPRedirect {
		const field = "service.httpRedirect"
		switch {
		case s.Type == "ClusterIP":
			return validate.Errorf(field, true, "is set, but a ClusterIP Service has no load balancer to redirect for")
		case args.TLSSecretName != "":
			return validate.Errorf(field, true, "is set, but tlsSecretName %q makes GitLab's NGINX serve HTTPS, and it redirects port 80 itself", args.TLSSecretName)
		}
		if raw, ok := validate.LiteralString(args.ExternalURL); ok && !strings.HasPrefix(raw, "https://") {
			return validate.Errorf(field, true, "is set, but externalURL %q is not https: there is nothing to redirect to", raw)
		}
	}
	if s.ProxyProtocol == nil {
		return nil
	}
	const field = "service.proxyProtocol"
	if s.Type == "ClusterIP" {
		return validate.Errorf(field, nil, "is set, but the Service type is ClusterIP: no load balancer sends PROXY protocol to it")
	}
	if args.TLSSecretName != "" {
		return validate.Errorf(field, nil, "is set with tlsSecretName %q: PROXY protocol is supported for GitLab's plain-HTTP and SSH listeners only", args.TLSSecretName)
	}
	if len(s.ProxyProtocol.TrustedCIDRs) == 0 {
		return validate.Errorf(field+".trustedCidrs", nil, "is empty: name the addresses the load balancer connects from")
	}
	for i, cidr := range s.ProxyProtocol.TrustedCIDRs {
		key := fmt.Sprintf("%s.trustedCidrs[%d]", field, i)
		prefix, err := validate.CIDR(key, cidr)
		if err != nil {
			return err
		}
		if prefix.Bits() == 0 {
			return validate.Errorf(key, cidr, "would believe a client address from anyone who connects; name the load balancer's addresses")
		}
	}
	return nil
}
