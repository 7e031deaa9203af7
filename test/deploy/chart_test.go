package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-io/tether/test/testenv"
)

// fullValues sets every knob of the agent chart away from its default.
func fullValues() map[string]any {
	v := bootstrapValues()
	v = with(v, "bootstrap.token", nil)
	v = with(v, "bootstrap.existingTokenSecret", "edge-token")
	for path, value := range map[string]any{
		"replicas":                         2,
		"resources":                        map[string]any{"requests": map[string]any{"cpu": "200m", "memory": "256Mi"}, "limits": map[string]any{"memory": "1Gi"}},
		"leaderElection.namespace":         "kube-system",
		"controllers":                      []any{"*", "-serviceExport", "certRotation"},
		"logFormat":                        "json",
		"extraArgs":                        []any{"--concurrent-work-syncs=10"},
		"cluster.provider":                 "aws",
		"cluster.region":                   "eu-west-1",
		"cluster.zones":                    []any{"eu-west-1a", "eu-west-1b"},
		"metrics.serviceMonitor.enabled":   true,
		"metrics.serviceMonitor.labels":    map[string]any{"release": "prometheus"},
		"podDisruptionBudget.enabled":      true,
		"podDisruptionBudget.minAvailable": 1,
		"priorityClassName":                "system-cluster-critical",
		"nodeSelector":                     map[string]any{"kubernetes.io/os": "linux"},
		"tolerations":                      []any{map[string]any{"key": "edge", "operator": "Exists", "effect": "NoSchedule"}},
		"podAnnotations":                   map[string]any{"example.com/team": "fleet"},
	} {
		v = with(v, path, value)
	}
	return v
}

// chartCase is one values set and what its rendering must hold.
type chartCase struct {
	name   string
	chart  string
	values map[string]any
	check  func(t *testing.T, objs []*unstructured.Unstructured)
}

func chartCases() []chartCase {
	return []chartCase{
		{"agent/bootstrap", agentChart, bootstrapValues(), func(t *testing.T, objs []*unstructured.Unstructured) {
			want(t, objs, "Job/karmada-agent-register-1", "Secret/karmada-agent-bootstrap-token", "ServiceAccount/karmada-agent-register",
				"Role/karmada-agent-register", "RoleBinding/karmada-agent-register", "Service/karmada-agent-metrics")
			wantNot(t, objs, "PodDisruptionBudget/karmada-agent", "ServiceMonitor/karmada-agent")
		}},
		{"agent/bootstrap-all-values", agentChart, fullValues(), func(t *testing.T, objs []*unstructured.Unstructured) {
			want(t, objs, "PodDisruptionBudget/karmada-agent", "ServiceMonitor/karmada-agent", "Job/karmada-agent-register-1")
			wantNot(t, objs, "Secret/karmada-agent-bootstrap-token")
			spec := podSpec(t, objs, "Deployment", "karmada-agent")
			for _, arg := range []string{"--leader-elect-resource-namespace=kube-system", "--controllers=*,-serviceExport,certRotation",
				"--log-format=json", "--concurrent-work-syncs=10", "--cluster-zones=eu-west-1a,eu-west-1b", "--cluster-provider=aws"} {
				if !slices.Contains(command(spec), arg) {
					t.Errorf("the agent's command lacks %s: %v", arg, command(spec))
				}
			}
			for _, path := range [][]string{{"priorityClassName"}, {"nodeSelector"}, {"tolerations"}} {
				if _, ok, _ := unstructured.NestedFieldNoCopy(spec, path...); !ok {
					t.Errorf("the agent's pod spec lacks %s", path[0])
				}
			}
			svc, sm := find(objs, "Service", "karmada-agent-metrics"), find(objs, "ServiceMonitor", "karmada-agent")
			selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
			for k, v := range selector {
				if svc.GetLabels()[k] != v {
					t.Errorf("the ServiceMonitor selects %s=%s, which the metrics Service lacks", k, v)
				}
			}
			if minAvailable, _, _ := unstructured.NestedFieldNoCopy(find(objs, "PodDisruptionBudget", "karmada-agent").Object, "spec", "minAvailable"); fmt.Sprint(minAvailable) != "1" {
				t.Errorf("PodDisruptionBudget minAvailable = %v, want 1", minAvailable)
			}
			if replicas, _, _ := unstructured.NestedFieldNoCopy(find(objs, "Deployment", "karmada-agent").Object, "spec", "replicas"); fmt.Sprint(replicas) != "2" {
				t.Errorf("replicas = %v, want 2", replicas)
			}
		}},
		{"agent/existing-secret", agentChart, map[string]any{"clusterName": "edge-2", "mode": "existingSecret",
			"existingSecret": map[string]any{"name": "hub-kubeconfig", "key": "config", "context": "edge"}}, func(t *testing.T, objs []*unstructured.Unstructured) {
			wantNot(t, objs, "Job/karmada-agent-register-1", "ServiceAccount/karmada-agent-register", "Secret/karmada-agent-bootstrap-token")
			spec := podSpec(t, objs, "Deployment", "karmada-agent")
			if cmd := command(spec); !slices.Contains(cmd, "--karmada-kubeconfig=/etc/kubeconfig/config") || !slices.Contains(cmd, "--karmada-context=edge") {
				t.Errorf("the agent does not read the existing Secret's key and context: %v", cmd)
			}
			if name, _, _ := unstructured.NestedString(spec["volumes"].([]any)[0].(map[string]any), "secret", "secretName"); name != "hub-kubeconfig" {
				t.Errorf("the agent mounts Secret %q, want hub-kubeconfig", name)
			}
		}},
		{"hub/default", hubChart, nil, func(t *testing.T, objs []*unstructured.Unstructured) {
			want(t, objs, "Deployment/tether-csr-approver", "ClusterRole/tether-csr-approver", "ConfigMap/tether-hub-info")
			wantNot(t, objs, "ConfigMap/cluster-info")
		}},
		{"hub/cluster-info-no-approver", hubChart, map[string]any{"approver": map[string]any{"enabled": false},
			"clusterInfo": map[string]any{"create": true, "server": "https://hub.example.com:6443", "caData": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}},
			func(t *testing.T, objs []*unstructured.Unstructured) {
				want(t, objs, "ConfigMap/cluster-info")
				wantNot(t, objs, "Deployment/tether-csr-approver")
			}},
	}
}

// TestChartsApply renders each chart with several values sets and
// server-side-applies the result with dry run: the agent chart to the
// member, the hub chart (its CRDs first) to the hub.
func TestChartsApply(t *testing.T) {
	env := testenv.Require(t)
	member, hubCfg := env.Members[0].Config, env.Hub.Config
	ensureNamespace(t, member, namespace)
	ensureNamespace(t, hubCfg, namespace)
	installServiceMonitorCRD(t, member)
	appliers := map[string]*applier{agentChart: newApplier(t, member), hubChart: newApplier(t, hubCfg)}
	for _, c := range chartCases() {
		t.Run(c.name, func(t *testing.T) {
			r, err := render(c.chart, c.values)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, r.objects)
			if !strings.Contains(r.notes, "tether-agent ") {
				t.Errorf("NOTES.txt does not render: %q", r.notes)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := appliers[c.chart].apply(ctx, append(r.crds, r.objects...), true); err != nil {
				t.Fatalf("dry-run apply: %v", err)
			}
		})
	}
}

func want(t *testing.T, objs []*unstructured.Unstructured, refs ...string) {
	t.Helper()
	for _, ref := range refs {
		kind, name, _ := strings.Cut(ref, "/")
		if find(objs, kind, name) == nil {
			t.Errorf("%s is not rendered", ref)
		}
	}
}

func wantNot(t *testing.T, objs []*unstructured.Unstructured, refs ...string) {
	t.Helper()
	for _, ref := range refs {
		kind, name, _ := strings.Cut(ref, "/")
		if find(objs, kind, name) != nil {
			t.Errorf("%s is rendered and must not be", ref)
		}
	}
}

// podSpec is the pod spec of a Deployment or Job.
func podSpec(t *testing.T, objs []*unstructured.Unstructured, kind, name string) map[string]any {
	t.Helper()
	obj := find(objs, kind, name)
	if obj == nil {
		t.Fatalf("%s/%s is not rendered (%s)", kind, name, refs(objs))
	}
	spec, _, _ := unstructured.NestedMap(obj.Object, "spec", "template", "spec")
	return spec
}

// command is the first container's command.
func command(spec map[string]any) []string {
	c := spec["containers"].([]any)[0].(map[string]any)
	var out []string
	for _, s := range c["command"].([]any) {
		out = append(out, s.(string))
	}
	return out
}
