package monitoring

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1}) }

// exportedNames are the series names of families, as PromQL sees them:
// a histogram's _bucket, _sum and _count, a summary's _sum and _count.
func exportedNames(families map[string]*dto.MetricFamily) map[string]bool {
	names := map[string]bool{}
	for name, f := range families {
		names[name] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name+"_sum"], names[name+"_count"] = true, true
		}
	}
	return names
}

// value is the value of the series of family name whose labels include
// want; -1 when there is none.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
	for _, m := range f.Metric {
		match := 0
		for _, l := range m.Label {
			if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
				match++
			}
		}
		if match != len(want) {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		}
	}
	return -1
}

// TestExpressionsUseExportedMetrics runs an agent against the testenv hub
// and member, applies one Work through it, scrapes its /metrics and checks
// every expression of the dashboard and the alerts against what it exports.
// It also checks the series the agent adds for them: leader, heartbeat,
// Works by Applied and manifests by health.
func TestExpressionsUseExportedMetrics(t *testing.T) {
	env := testenv.Require(t)
	a := testenv.StartAgent(t, env, testenv.AgentOptions{})
	a.WaitReady(t, 3*time.Minute)
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	hubKube := kubernetes.NewForConfigOrDie(env.Hub.Config)
	createWork(t, hub, hubKube, a.Cluster, "monitoring", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"namespace":"default","name":"monitoring"},"data":{"k":"v"}}`)
	createWork(t, hub, hubKube, a.Cluster, "unknown-kind", `{"apiVersion":"example.com/v1","kind":"Nope","metadata":{"namespace":"default","name":"nope"}}`)

	var families map[string]*dto.MetricFamily
	scrape := func() error {
		var err error
		families, err = a.Metrics()
		return err
	}
	// Both Works' statuses written: every controller has run.
	testenv.Eventually(t, 3*time.Minute, "the agent writes both Works' statuses", func() (bool, error) {
		err := scrape()
		return value(families, "tether_work_status_writes_total", nil) >= 2, err
	})
	exported := exportedNames(families)
	t.Logf("the agent exports %d series names", len(exported))
	checkExpressions(t, append(ruleExpressions(t), dashboardExpressions(t)...), exported)
	if t.Failed() {
		t.Fatalf("exported: %v", sortedKeys(exported))
	}
	testenv.Eventually(t, 2*time.Minute, "the agent leads, renewed its heartbeat, applied one Work (Healthy) and not the other", func() (bool, error) {
		err := scrape()
		return value(families, "tether_agent_leader", nil) == 1 &&
			value(families, "tether_agent_heartbeat_renewals_total", map[string]string{"result": "success"}) >= 1 &&
			value(families, "tether_agent_heartbeat_last_success_timestamp_seconds", nil) > 0 &&
			value(families, "tether_works", map[string]string{"applied": "True"}) == 1 &&
			value(families, "tether_works", map[string]string{"applied": "False"}) == 1 &&
			value(families, "tether_work_manifests", map[string]string{"health": "Healthy"}) == 1, err
	})
}

// createWork creates Work name for cluster with one manifest, and deletes
// it when the test ends.
func createWork(t *testing.T, hub versioned.Interface, hubKube kubernetes.Interface, cluster, name, manifest string) {
	t.Helper()
	ctx := context.Background()
	ns := workv1alpha1.ExecutionNamespace(cluster)
	if _, err := hubKube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: []byte(manifest)}}}}}}
	if _, err := hub.WorkV1alpha1().Works(ns).Create(ctx, w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.WorkV1alpha1().Works(ns).Delete(context.Background(), w.Name, metav1.DeleteOptions{}) })
}
