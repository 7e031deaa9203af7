// Package monitoring holds Tether's observability assets: a Grafana
// dashboard (grafana-dashboard.json) and prometheus-operator alerts
// (prometheusrule.yaml) for the agent's /metrics, embedded for installers.
// Its tests check every PromQL expression of both against the metric names
// a running agent exports.
package monitoring

import _ "embed"

// Dashboard is the Grafana dashboard, JSON.
//
//go:embed grafana-dashboard.json
var Dashboard []byte

// PrometheusRule is the alerting rules, a PrometheusRule manifest.
//
//go:embed prometheusrule.yaml
var PrometheusRule []byte
