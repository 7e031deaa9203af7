package work

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

func status(health workv1alpha1.ResourceHealth, ready int, applied metav1.ConditionStatus) workv1alpha1.WorkStatus {
	return workv1alpha1.WorkStatus{
		Conditions: []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: applied, Reason: "r"}},
		ManifestStatuses: []workv1alpha1.ManifestStatus{{
			Identifier: workv1alpha1.ResourceIdentifier{Kind: "Deployment", Name: "d"},
			Status:     &runtime.RawExtension{Raw: []byte(`{"readyReplicas":` + string(rune('0'+ready)) + `}`)},
			Health:     health,
		}},
	}
}

func TestProgressWaitHoldsOnlyCounterChanges(t *testing.T) {
	w := New(Config{ProgressInterval: 5 * time.Second, RolloutInterval: 30 * time.Second})
	w.written["ns/w"] = time.Now()
	cases := []struct {
		name      string
		cur, next workv1alpha1.WorkStatus
		min, max  time.Duration
	}{
		{"counters during a rollout wait for the rollout interval", status(workv1alpha1.ResourceUnhealthy, 1, "True"), status(workv1alpha1.ResourceUnhealthy, 2, "True"), 29 * time.Second, 30 * time.Second},
		{"counters of a healthy object wait for the progress interval", status(workv1alpha1.ResourceHealthy, 1, "True"), status(workv1alpha1.ResourceHealthy, 2, "True"), 4 * time.Second, 5 * time.Second},
		{"a health change goes at once", status(workv1alpha1.ResourceUnhealthy, 2, "True"), status(workv1alpha1.ResourceHealthy, 3, "True"), 0, 0},
		{"a condition change goes at once", status(workv1alpha1.ResourceUnhealthy, 1, "True"), status(workv1alpha1.ResourceUnhealthy, 1, "False"), 0, 0},
	}
	for _, c := range cases {
		got := max(w.progressWait("ns/w", c.cur, c.next), 0)
		if got < c.min || got > c.max {
			t.Errorf("%s: wait %s, want within [%s, %s]", c.name, got, c.min, c.max)
		}
	}
	// Never written by this process (a restart): nothing to space from.
	if got := w.progressWait("ns/other", status(workv1alpha1.ResourceUnhealthy, 1, "True"), status(workv1alpha1.ResourceUnhealthy, 2, "True")); got > 0 {
		t.Errorf("first write held for %s", got)
	}
}

func TestHeadersAreDecodedOncePerGeneration(t *testing.T) {
	w := New(Config{})
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: "w", Namespace: "ns", UID: "u1", Generation: 1},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
			{RawExtension: runtime.RawExtension{Raw: []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"x","labels":{"a":"b"}},"spec":{"replicas":1}}`)}},
			{RawExtension: runtime.RawExtension{Raw: []byte(`{not json`)}},
		}}}}
	first := w.headers(work)
	if len(first) != 2 || first[0].obj == nil || first[1].err == nil {
		t.Fatalf("headers = %+v", first)
	}
	h := first[0].obj
	if h.GetKind() != "Deployment" || h.GetAPIVersion() != "apps/v1" || h.GetName() != "d" || h.GetNamespace() != "x" || h.GetLabels() != nil || h.Object["spec"] != nil {
		t.Errorf("header keeps more or less than identity: %v", h.Object)
	}
	if again := w.headers(work); &again[0] != &first[0] {
		t.Error("the same generation was decoded again")
	}
	work.Generation = 2
	if again := w.headers(work); &again[0] == &first[0] {
		t.Error("a new generation was not decoded")
	}
	w.Forget("ns/w")
	if _, ok := w.decoded["ns/w"]; ok {
		t.Error("Forget kept the decoded headers")
	}
}
