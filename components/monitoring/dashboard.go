package monitoring

import (
	"fmt"
	"regexp"
)

// Dashboard is the Grafana dashboard's JSON model: a row per zone, each with the zone's available replicas,
// request rate, 5xx ratio, Puma queue, Sidekiq latency and Gitaly latency. Its datasource is the
// "datasource" variable, so it works with whatever the Prometheus data source is called.
func Dashboard(args *MonitoringArgs) map[string]any {
	a := args.defaulted()
	ns := a.NamespaceName
	datasource := map[string]any{"type": "prometheus", "uid": "${datasource}"}
	panels := []any{}
	id := 0
	panel := func(title, expr, unit string, x, y int) map[string]any {
		id++
		return map[string]any{
			"id": id, "type": "timeseries", "title": title, "datasource": datasource,
			"gridPos":     map[string]any{"h": 8, "w": 4, "x": x, "y": y},
			"fieldConfig": map[string]any{"defaults": map[string]any{"unit": unit}, "overrides": []any{}},
			"targets":     []any{map[string]any{"refId": "A", "expr": expr, "datasource": datasource}},
		}
	}
	for i, zone := range a.Zones {
		y := i * 9
		id++
		panels = append(panels, map[string]any{
			"id": id, "type": "row", "title": "Zone " + zone, "collapsed": false,
			"gridPos": map[string]any{"h": 1, "w": 24, "x": 0, "y": y}, "panels": []any{},
		})
		z := fmt.Sprintf(`namespace=%q,zone=%q`, ns, zone)
		workhorse := fmt.Sprintf(`gitlab_workhorse_http_requests_total{%s,job=%q`, z, a.job(workhorseExporter))
		gitaly := fmt.Sprintf(`grpc_server_handling_seconds_bucket{zone=%q,job=%q,grpc_type="unary"}`, zone, a.job(gitalyExporter))
		for col, p := range []struct{ title, expr, unit string }{
			{"Replicas available", fmt.Sprintf(`kube_deployment_status_replicas_available{namespace=%q,deployment=%q}`, ns, a.Instance+"-"+zone), "short"},
			{"Requests", fmt.Sprintf(`sum(rate(%s}[5m]))`, workhorse), "reqps"},
			{"5xx ratio", fmt.Sprintf(`sum(rate(%s,code=~"5.."}[5m])) / sum(rate(%s}[5m]))`, workhorse, workhorse), "percentunit"},
			{"Puma queued connections", fmt.Sprintf(`sum(puma_queued_connections{%s,job=%q})`, z, a.job(pumaExporter)), "short"},
			{"Sidekiq queue latency", fmt.Sprintf(`max by (name) (sidekiq_queue_latency_seconds{%s,job=%q})`, z, a.job(gitLabExporter)), "s"},
			{"Gitaly p99 (unary)", fmt.Sprintf(`histogram_quantile(0.99, sum by (le) (rate(%s[5m])))`, gitaly), "s"},
		} {
			panels = append(panels, panel(p.title, p.expr, p.unit, col*4, y+1))
		}
	}
	return map[string]any{
		"title": "GitLab (" + a.Instance + ")", "uid": dashboardUID(a.Instance), "schemaVersion": 39, "version": 1,
		"editable": false, "tags": []any{"gitlab", "gitlab-ha"}, "timezone": "utc", "refresh": "1m",
		"time":   map[string]any{"from": "now-6h", "to": "now"},
		"panels": panels,
		"templating": map[string]any{"list": []any{map[string]any{
			"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source",
		}}},
	}
}

var notUID = regexp.MustCompile(`[^a-zA-Z0-9-_]`)

// dashboardUID is stable per instance (at most 40 characters, Grafana's limit).
func dashboardUID(instance string) string {
	uid := notUID.ReplaceAllString("gitlab-ha-"+instance, "-")
	if len(uid) > 40 {
		uid = uid[:40]
	}
	return uid
}
