package execution

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	worklisters "github.com/tether-io/tether/pkg/generated/listers/work/v1alpha1"
)

// TestStateCollectorCountsWorksAndManifests counts Works of a cache by
// Applied and their manifests by health (pure logic; the monitoring test
// scrapes it from a running agent).
func TestStateCollectorCountsWorksAndManifests(t *testing.T) {
	ns := workv1alpha1.ExecutionNamespace("m1")
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	work := func(name string, applied metav1.ConditionStatus, health ...workv1alpha1.ResourceHealth) {
		w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if applied != "" {
			w.Status.Conditions = []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: applied}}
		}
		for _, h := range health {
			w.Status.ManifestStatuses = append(w.Status.ManifestStatuses, workv1alpha1.ManifestStatus{Health: h})
		}
		if err := idx.Add(w); err != nil {
			t.Fatal(err)
		}
	}
	work("a", metav1.ConditionTrue, workv1alpha1.ResourceHealthy, workv1alpha1.ResourceHealthy)
	work("b", metav1.ConditionTrue, workv1alpha1.ResourceUnhealthy, "")
	work("c", metav1.ConditionFalse)
	work("d", "")
	c := newStateCollector(worklisters.NewWorkLister(idx).Works(ns))
	want := `
# HELP tether_works Works of this cluster on the hub, by the status of their Applied condition (True, False, Unknown when there is none).
# TYPE tether_works gauge
tether_works{applied="False"} 1
tether_works{applied="True"} 2
tether_works{applied="Unknown"} 1
# HELP tether_work_manifests Manifests of this cluster's Works, by the health the agent reported (Healthy, Unhealthy, Unknown; Unknown too while none is reported).
# TYPE tether_work_manifests gauge
tether_work_manifests{health="Healthy"} 2
tether_work_manifests{health="Unhealthy"} 1
tether_work_manifests{health="Unknown"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
