package monitoring

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"
)

// expression is one PromQL expression of the assets and where it is.
type expression struct{ where, expr string }

// rule is the part of a PrometheusRule the checks read; unknown fields are
// an error (strict decoding), so a misspelt key fails.
type prometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// ruleExpressions validates the PrometheusRule and returns its expressions.
func ruleExpressions(t *testing.T) []expression {
	t.Helper()
	var pr prometheusRule
	if err := yaml.UnmarshalStrict(PrometheusRule, &pr); err != nil {
		t.Fatalf("prometheusrule.yaml: %v", err)
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" || pr.Metadata.Name == "" {
		t.Errorf("prometheusrule.yaml: %s %s %q, want a named monitoring.coreos.com/v1 PrometheusRule", pr.APIVersion, pr.Kind, pr.Metadata.Name)
	}
	if len(pr.Spec.Groups) == 0 {
		t.Fatal("prometheusrule.yaml has no rule group")
	}
	var out []expression
	seen := map[string]bool{}
	for _, g := range pr.Spec.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("rule group %q: a name and rules are required", g.Name)
		}
		for _, r := range g.Rules {
			where := "alert " + r.Alert
			switch {
			case r.Alert == "" || seen[r.Alert]:
				t.Errorf("rule %q: every alert needs a unique name", r.Alert)
			case r.Expr == "":
				t.Errorf("%s: no expr", where)
			case r.Labels["severity"] != "critical" && r.Labels["severity"] != "warning":
				t.Errorf("%s: severity %q, want critical or warning", where, r.Labels["severity"])
			case r.Annotations["summary"] == "" || r.Annotations["description"] == "":
				t.Errorf("%s: a summary and a description are required", where)
			}
			if _, err := model.ParseDuration(r.For); err != nil {
				t.Errorf("%s: for %q: %v", where, r.For, err)
			}
			seen[r.Alert] = true
			out = append(out, expression{where, r.Expr})
		}
	}
	return out
}

// dashboard is the part of the Grafana dashboard the checks read.
type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int                      `json:"id"`
	Type    string                   `json:"type"`
	Title   string                   `json:"title"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// dashboardExpressions validates the dashboard and returns its
// expressions: the panels' targets and the variables' label_values.
func dashboardExpressions(t *testing.T) []expression {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(Dashboard, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard: title %q, uid %q: both are required", d.Title, d.UID)
	}
	var out []expression
	ids := map[int]bool{}
	for _, p := range d.Panels {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if ids[p.ID] || p.Title == "" {
			t.Errorf("%s: panels need a unique id and a title", where)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: grid position %+v is outside the 24 columns", where, p.GridPos)
		}
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("%s: no query", where)
		}
		for _, tg := range p.Targets {
			out = append(out, expression{where, tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		var q struct{ Query string }
		if json.Unmarshal(v.Query, &q) == nil && strings.HasPrefix(q.Query, "label_values(") {
			metric := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(q.Query, "label_values("), ",", 2)[0])
			out = append(out, expression{"variable " + v.Name, metric})
		}
	}
	return out
}

// synthetic are series Prometheus itself makes for each target.
var synthetic = map[string]bool{"up": true}

// checkExpressions reports each expression that does not parse or uses a
// metric that exported does not have.
func checkExpressions(t *testing.T, exprs []expression, exported map[string]bool) {
	t.Helper()
	for _, e := range exprs {
		names, err := metricNames(e.expr)
		if err != nil {
			t.Errorf("%s: %v", e.where, err)
			continue
		}
		if len(names) == 0 {
			t.Errorf("%s: %q uses no metric", e.where, e.expr)
		}
		for _, n := range names {
			if !exported[n] && !synthetic[n] {
				t.Errorf("%s: metric %s is not in the agent's /metrics (expression %q)", e.where, n, e.expr)
			}
		}
	}
}

// sortedKeys is for messages.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestAssetsAreWellFormed(t *testing.T) {
	rules, panels := ruleExpressions(t), dashboardExpressions(t)
	for _, e := range append(rules, panels...) {
		if _, err := metricNames(e.expr); err != nil {
			t.Errorf("%s: %v", e.where, err)
		}
	}
	wantAlerts := []string{"TetherAgentDown", "TetherAgentNotLeading", "TetherHeartbeatFailing", "TetherApplyFailuresRising",
		"TetherDeletesHeld", "TetherHubCertificateExpiringSoon", "TetherStatusWriteBacklog"}
	var names []string
	for _, e := range rules {
		names = append(names, strings.TrimPrefix(e.where, "alert "))
	}
	for _, a := range wantAlerts {
		if !strings.Contains(strings.Join(names, ","), a) {
			t.Errorf("no alert %s (alerts: %v)", a, names)
		}
	}
}
