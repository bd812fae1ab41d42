//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// monitoringKinds are the Prometheus Operator's kinds the monitoring component registers, by their CRD files
// in the operator's module (example/prometheus-operator-crd).
var monitoringKinds = map[string]string{
	"PodMonitor": "monitoring.coreos.com_podmonitors.yaml", "PrometheusRule": "monitoring.coreos.com_prometheusrules.yaml",
	"Probe": "monitoring.coreos.com_probes.yaml",
}

// TestThePrometheusOperatorsCRDsAcceptTheStacksMonitorsAndRules applies the Prometheus Operator's own CRDs
// (the version `make e2e` pins, E2E_PROMETHEUS_OPERATOR_CRDS) to the API server, then prod's monitors, probe,
// rule and dashboard from plan/prod-monitoring: each is accepted by the CRD's schema and comes back as sent,
// with nothing pruned. A rule the schema forbids is refused, so the check can fail.
func TestThePrometheusOperatorsCRDsAcceptTheStacksMonitorsAndRules(t *testing.T) {
	crds := os.Getenv("E2E_PROMETHEUS_OPERATOR_CRDS")
	if crds == "" {
		t.Fatal("E2E_PROMETHEUS_OPERATOR_CRDS is not set: run `make e2e`")
	}
	plan := readPlan(t, filepath.Join(os.Getenv("E2E_PLANS"), "prod-monitoring"))
	var namespaces, monitoring []map[string]any
	for _, object := range objectsOf(plan) {
		kind, _ := object["kind"].(string)
		switch {
		case kind == "Namespace":
			namespaces = append(namespaces, object)
		case monitoringKinds[kind] != "":
			monitoring = append(monitoring, object)
		case kind == "ConfigMap" && labelsOf(object)["grafana_dashboard"] == "1":
			monitoring = append(monitoring, object)
		}
	}
	counts := map[string]int{}
	for _, o := range monitoring {
		counts[o["kind"].(string)]++
	}
	require.Equal(t, map[string]int{"PodMonitor": 1, "PrometheusRule": 1, "Probe": 1, "ConfigMap": 1}, counts,
		"prod with the Prometheus Operator: the zones' PodMonitor, the certificate Probe, the rule, the dashboard")

	cp := startControlPlane(t)
	for kind, file := range monitoringKinds {
		body, err := os.ReadFile(filepath.Join(crds, file))
		require.NoError(t, err)
		var crd map[string]any
		require.NoError(t, yaml.Unmarshal(body, &crd))
		require.NoError(t, cp.api.apply(crd), kind)
	}
	for kind, file := range monitoringKinds {
		name := strings.TrimSuffix(strings.SplitN(file, "_", 2)[1], ".yaml") + ".monitoring.coreos.com"
		require.NoError(t, cp.api.awaitEstablished(name, time.Minute), kind)
	}
	for _, ns := range namespaces {
		require.NoError(t, cp.api.apply(ns))
	}
	for _, object := range monitoring {
		require.NoError(t, applyWhenServed(cp.api, object, time.Minute), "%s %s", object["kind"], nameOf(object))
		var stored map[string]any
		require.NoError(t, cp.api.get(objectPath(object), &stored))
		field := "spec"
		if object["kind"] == "ConfigMap" {
			field = "data"
		}
		assert.NoError(t, within(roundTrip(t, object[field]), stored[field], field),
			"%s %s is stored as sent (the CRD's defaults aside): the schema pruned nothing", object["kind"], nameOf(object))
	}

	// A rule whose for is no duration is refused by the CRD's own pattern.
	var rule map[string]any
	for _, o := range monitoring {
		if o["kind"] == "PrometheusRule" {
			rule = roundTrip(t, o).(map[string]any)
		}
	}
	first := rule["spec"].(map[string]any)["groups"].([]any)[0].(map[string]any)["rules"].([]any)[0].(map[string]any)
	first["for"] = "five minutes"
	err := cp.api.apply(rule)
	require.Error(t, err, "the CRD's schema refuses a rule whose for is not a duration")
	assert.Contains(t, err.Error(), "422")
}

func labelsOf(object map[string]any) map[string]any {
	metadata, _ := object["metadata"].(map[string]any)
	labels, _ := metadata["labels"].(map[string]any)
	return labels
}

func nameOf(object map[string]any) string {
	metadata, _ := object["metadata"].(map[string]any)
	name, _ := metadata["name"].(string)
	return name
}

// roundTrip is a value as JSON decodes it, to compare with what the API server returns.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	body, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(body, &out))
	return out
}

// within reports the first field of sent that stored lacks or holds otherwise: what the API server pruned or
// changed. Fields stored beside them (a CRD's defaults) are allowed.
func within(sent, stored any, path string) error {
	switch s := sent.(type) {
	case map[string]any:
		m, ok := stored.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: stored as %T, sent an object", path, stored)
		}
		for key, value := range s {
			if err := within(value, m[key], path+"."+key); err != nil {
				return err
			}
		}
	case []any:
		list, ok := stored.([]any)
		if !ok || len(list) != len(s) {
			return fmt.Errorf("%s: stored %v, sent %d items", path, stored, len(s))
		}
		for i := range s {
			if err := within(s[i], list[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	default:
		if fmt.Sprint(sent) != fmt.Sprint(stored) {
			return fmt.Errorf("%s: stored %v, sent %v", path, stored, sent)
		}
	}
	return nil
}

// awaitEstablished waits for a CustomResourceDefinition's Established condition.
func (c *client) awaitEstablished(name string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		var crd struct {
			Status struct {
				Conditions []struct{ Type, Status string } `json:"conditions"`
			} `json:"status"`
		}
		err := c.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, &crd)
		if err == nil {
			for _, condition := range crd.Status.Conditions {
				if condition.Type == "Established" && condition.Status == "True" {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CRD %s not established within %s (%v)", name, within, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// applyWhenServed applies an object, retrying while a new CRD's endpoint answers 404 (discovery catches up
// shortly after Established).
func applyWhenServed(c *client, object map[string]any, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		err := c.apply(object)
		if err == nil || !strings.Contains(err.Error(), ": 404 ") || time.Now().After(deadline) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}
