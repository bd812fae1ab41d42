package linodedb_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitlab-ha/gitlab-ha/components/componenttest"
	"github.com/gitlab-ha/gitlab-ha/components/database/linodedb"
	"github.com/gitlab-ha/gitlab-ha/internal/linodetest"
)

func buildAllowList(t *testing.T, args *linodedb.NodeAllowListArgs) *componenttest.Result {
	t.Helper()
	result := linodetest.Run(func(ctx *pulumi.Context, linode pulumi.ProviderResource) error {
		cluster, err := kubernetes.NewProvider(ctx, "cluster", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		_, err = linodedb.NewNodeAllowList(ctx, "gitlab-db-allow-list", args, pulumi.Providers(linode, cluster))
		return err
	})
	require.NoError(t, result.Err)
	return result
}

func TestTheReconcilerMayListNodesAndNothingElse(t *testing.T) {
	result := buildAllowList(t, &linodedb.NodeAllowListArgs{DatabaseID: pulumi.Int(4242)})
	roles := result.OfType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
	require.Len(t, roles, 1)
	assert.Equal(t, []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"nodes"}, "verbs": []any{"list"}}},
		roles[0].MustInput(t, "rules"))
	assert.Empty(t, result.OfType("kubernetes:rbac.authorization.k8s.io/v1:Role"))
	binding := result.OfType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")[0]
	assert.Equal(t, "database-allow-list", binding.InputString("subjects[0].name"))
	assert.Equal(t, "kube-system", binding.InputString("subjects[0].namespace"))

	token := result.OfType("linode:index/token:Token")[0]
	assert.Equal(t, linodedb.TokenScopes, token.InputString("scopes"))
	assert.Equal(t, "databases:read_write", token.InputString("scopes"), "the narrowest scope that can write an allow-list")
	assert.False(t, token.Inputs.HasValue("expiry"), "it never expires: a reconciler that stops would shut new nodes out")
	secret := result.OfType("kubernetes:core/v1:Secret")[0]
	assert.True(t, secret.InputIsSecret("stringData.token"))
	assert.Empty(t, result.PlaintextLeaks(token.Outputs["token"].SecretValue().Element.StringValue()), "the token travels as a secret")
}

func TestTheReconcilerRunsPinnedUnprivilegedAndReachesOnlyDNSAndHTTPS(t *testing.T) {
	result := buildAllowList(t, &linodedb.NodeAllowListArgs{DatabaseID: pulumi.Int(4242), ClientCIDRs: []string{"203.0.113.0/24"}})
	deployment := result.OfType("kubernetes:apps/v1:Deployment")[0]
	container := deployment.MustInput(t, "spec.template.spec.containers[0]").(map[string]any)
	assert.Equal(t, linodedb.DefaultReconcilerImage, container["image"])
	assert.Regexp(t, `@sha256:[0-9a-f]{64}$`, container["image"], "by digest")
	assert.Equal(t, "IfNotPresent", container["imagePullPolicy"])
	assert.Equal(t, float64(1), deployment.MustInput(t, "spec.replicas"), "one writer")
	security := container["securityContext"].(map[string]any)
	assert.Equal(t, true, security["readOnlyRootFilesystem"])
	assert.Equal(t, false, security["allowPrivilegeEscalation"])
	assert.Equal(t, []any{"ALL"}, security["capabilities"].(map[string]any)["drop"])
	assert.Equal(t, true, security["runAsNonRoot"])
	env := map[string]any{}
	for _, e := range container["env"].([]any) {
		v := e.(map[string]any)
		env[v["name"].(string)] = v["value"]
		if v["name"] == "LINODE_TOKEN" {
			assert.Equal(t, "database-allow-list", v["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any)["name"])
		}
	}
	assert.Equal(t, "4242", env["DATABASE_ID"])
	assert.Equal(t, "203.0.113.0/24", env["CLIENT_CIDRS"])
	assert.Contains(t, container, "livenessProbe")

	policy := result.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy")[0]
	assert.Equal(t, deployment.InputMap("spec.template.metadata.labels"), policy.InputMap("spec.podSelector.matchLabels"))
	assert.Equal(t, []any{"Ingress", "Egress"}, policy.MustInput(t, "spec.policyTypes"))
	_, admits := policy.Input("spec.ingress")
	assert.False(t, admits, "nothing may connect to it")
	var ports []float64
	for _, rule := range policy.MustInput(t, "spec.egress").([]any) {
		for _, port := range rule.(map[string]any)["ports"].([]any) {
			ports = append(ports, port.(map[string]any)["port"].(float64))
		}
	}
	assert.ElementsMatch(t, []float64{53, 53, 443, 6443}, ports)

	script := result.OfType("kubernetes:core/v1:ConfigMap")[0]
	assert.Equal(t, linodedb.ReconcilerScript, script.InputString(`data["allowlist.py"]`))
	for _, r := range result.Resources {
		if strings.HasPrefix(r.Type, "kubernetes:") && !strings.HasPrefix(r.Type, "pulumi:") {
			labels := r.InputMap("metadata.labels")
			assert.Equal(t, "database-allow-list", labels["app.kubernetes.io/name"], r.Type)
			assert.Equal(t, "gitlab-ha", labels["app.kubernetes.io/part-of"], r.Type)
		}
	}
}

// The script is Python's standard library and writes only what differs; what it does is proved in `make
// e2e` against the real API server. Here: it reads only ExternalIP addresses, and never empties the list.
func TestTheScriptAdmitsExternalAddressesAndNeverEmptiesTheList(t *testing.T) {
	assert.Contains(t, linodedb.ReconcilerScript, `address.get("type") != "ExternalIP"`)
	assert.Contains(t, linodedb.ReconcilerScript, "if not nodes:")
	assert.Contains(t, linodedb.ReconcilerScript, `"/databases/postgresql/instances/"`)
	assert.NotContains(t, linodedb.ReconcilerScript, "import requests", "nothing installed at run time")
}

func TestNodeAllowListBadArgs(t *testing.T) {
	for want, args := range map[string]*linodedb.NodeAllowListArgs{
		"databaseId: is required":                             {},
		`clientCidrs[0]: "10.0.0.0/8" overlaps 10.0.0.0/8`:    {DatabaseID: pulumi.Int(1), ClientCIDRs: []string{"10.0.0.0/8"}},
		"intervalSeconds: 5 is outside 10-300":                {DatabaseID: pulumi.Int(1), IntervalSeconds: 5},
		`namespace: "Kube_System" is not a valid DNS label`:   {DatabaseID: pulumi.Int(1), Namespace: "Kube_System"},
		`image: "python 3" is not an image reference`:         {DatabaseID: pulumi.Int(1), Image: "python 3"},
		`clientCidrs[0]: "0.0.0.0/0" opens the service to th`: {DatabaseID: pulumi.Int(1), ClientCIDRs: []string{"0.0.0.0/0"}},
	} {
		componenttest.Rejects(t, func(ctx *pulumi.Context) error {
			_, err := linodedb.NewNodeAllowList(ctx, "gitlab-db-allow-list", args)
			return err
		}, want)
	}
}
