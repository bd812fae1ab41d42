package cluster

import (
	"encoding/json"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// kubeconfig writes a kubeconfig that asks `aws eks get-token` for a short-lived token at every use, so it
// carries no credential: whoever uses it needs their own AWS identity with access to the cluster.
func kubeconfig(clusterName, endpoint, certificateAuthority pulumi.StringInput, region string) pulumi.StringOutput {
	config := pulumi.All(clusterName, endpoint, certificateAuthority).ApplyT(func(v []any) (string, error) {
		name := v[0].(string)
		body, err := json.Marshal(map[string]any{
			"apiVersion":      "v1",
			"kind":            "Config",
			"current-context": name,
			"clusters": []map[string]any{{"name": name, "cluster": map[string]any{
				"server": v[1].(string), "certificate-authority-data": v[2].(string),
			}}},
			"contexts": []map[string]any{{"name": name, "context": map[string]any{"cluster": name, "user": name}}},
			"users": []map[string]any{{"name": name, "user": map[string]any{"exec": map[string]any{
				"apiVersion": "client.authentication.k8s.io/v1beta1",
				"command":    "aws",
				"args":       []string{"eks", "get-token", "--cluster-name", name, "--region", region, "--output", "json"},
			}}}},
		})
		return string(body), err
	}).(pulumi.StringOutput)
	return pulumi.ToSecret(config).(pulumi.StringOutput)
}
