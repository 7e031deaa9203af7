package deploy

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
)

// bootstrapValues are valid bootstrap-mode values.
func bootstrapValues() map[string]any {
	return map[string]any{
		"clusterName": "edge-1",
		"bootstrap": map[string]any{
			"hubAddress":   "10.0.0.58:6443",
			"token":        "abcdef.0123456789abcdef",
			"caCertHashes": []any{"sha256:" + strings.Repeat("ab", 32)},
		},
	}
}

// with returns a deep copy of base with the value at the dotted path set
// (nil deletes it).
func with(base map[string]any, path string, value any) map[string]any {
	out := deepCopy(base).(map[string]any)
	keys := strings.Split(path, ".")
	m := out
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	if value == nil {
		delete(m, keys[len(keys)-1])
	} else {
		m[keys[len(keys)-1]] = value
	}
	return out
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// TestSchemaRejectsBadValues: each bad value is refused by the chart's
// values.schema.json (or its required checks), with the field named.
func TestSchemaRejectsBadValues(t *testing.T) {
	if _, err := render(agentChart, bootstrapValues()); err != nil {
		t.Fatalf("the valid base values must render: %v", err)
	}
	base := bootstrapValues()
	cases := []struct {
		name   string
		values map[string]any
		want   string // in the error
	}{
		{"no cluster name", with(base, "clusterName", nil), "clusterName"},
		{"cluster name not a label", with(base, "clusterName", "Edge_1"), "clusterName"},
		{"cluster name too long", with(base, "clusterName", strings.Repeat("a", 49)), "clusterName"},
		{"unknown mode", with(base, "mode", "kubeconfig"), "mode"},
		{"bootstrap without hub address", with(base, "bootstrap.hubAddress", nil), "hubAddress"},
		{"hub address without port", with(base, "bootstrap.hubAddress", "hub.example.com"), "hubAddress"},
		{"bootstrap without token", with(base, "bootstrap.token", nil), "token"},
		{"malformed token", with(base, "bootstrap.token", "not-a-token"), "token"},
		{"bootstrap without CA pin", with(base, "bootstrap.caCertHashes", nil), "caCertHashes"},
		{"malformed CA pin", with(base, "bootstrap.caCertHashes", []any{"md5:00"}), "caCertHashes"},
		{"certificate too short", with(base, "bootstrap.certExpirationSeconds", 60), "certExpirationSeconds"},
		{"zero replicas", with(base, "replicas", 0), "replicas"},
		{"replicas as a string", with(base, "replicas", "2"), "replicas"},
		{"bad memory limit", with(base, "resources.limits.memory", "lots"), "memory"},
		{"unknown resources key", with(base, "resources.limit", map[string]any{"memory": "1Gi"}), "limit"},
		{"bad log format", with(base, "logFormat", "xml"), "logFormat"},
		{"bad controller", with(base, "controllers", []any{"*", "cert rotation"}), "controllers"},
		{"no controllers", with(base, "controllers", []any{}), "controllers"},
		{"leader-election namespace not a name", with(base, "leaderElection.namespace", "Kube System"), "namespace"},
		{"both PDB bounds", with(with(base, "podDisruptionBudget.minAvailable", 1), "podDisruptionBudget.maxUnavailable", 1), "podDisruptionBudget"},
		{"bad PDB bound", with(base, "podDisruptionBudget.maxUnavailable", "half"), "maxUnavailable"},
		{"node selector value not a string", with(base, "nodeSelector", map[string]any{"zone": 1}), "nodeSelector"},
		{"toleration with a bad effect", with(base, "tolerations", []any{map[string]any{"key": "k", "effect": "Sometimes"}}), "tolerations"},
		{"priority class not a string", with(base, "priorityClassName", 7), "priorityClassName"},
		{"service monitor with a bad interval", with(base, "metrics.serviceMonitor.interval", "often"), "interval"},
		{"unknown top-level value", with(base, "replicaCount", 2), "replicaCount"},
		{"existingSecret without a name", with(with(base, "mode", "existingSecret"), "existingSecret.name", ""), "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := render(agentChart, c.values)
			if err == nil {
				t.Fatalf("rendered; the schema must reject it")
			}
			t.Logf("%v", err)
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("the error does not name %q: %v", c.want, err)
			}
		})
	}
	hubCases := map[string]map[string]any{
		"cluster-info without server": {"clusterInfo": map[string]any{"create": true, "caData": "-----BEGIN CERTIFICATE-----"}},
		"bad certificate lifetime":    {"approver": map[string]any{"maxCertificateLifetime": "a year"}},
		"unknown value":               {"replicas": 2},
	}
	for name, values := range hubCases {
		t.Run("hub/"+name, func(t *testing.T) {
			if _, err := render(hubChart, values); err == nil {
				t.Fatalf("rendered; the schema must reject it")
			}
		})
	}
}

// TestChartsLint: both charts pass 'helm lint --strict' (Chart.yaml, the
// templates, the values against the schema).
func TestChartsLint(t *testing.T) {
	for chart, values := range map[string]map[string]any{agentChart: bootstrapValues(), hubChart: nil} {
		lint := action.NewLint()
		lint.Strict, lint.Namespace = true, namespace
		res := lint.Run([]string{chartDir(chart)}, values)
		for _, m := range res.Messages {
			t.Logf("%s: %s", chart, m)
		}
		if len(res.Errors) > 0 {
			t.Errorf("helm lint --strict %s: %v", chart, res.Errors)
		}
	}
}
