package work

import (
	"testing"
	"time"

	"golang.org/x/time/rate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
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

func TestProgressDelay(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const interval = 10 * time.Second
	unhealthy, healthy := workv1alpha1.ResourceUnhealthy, workv1alpha1.ResourceHealthy
	cases := []struct {
		name      string
		cur, next workv1alpha1.WorkStatus
		lastWrite time.Time
		want      time.Duration
	}{
		{"counters during a rollout wait for the rest of the interval", status(unhealthy, 1, "True"), status(unhealthy, 2, "True"), now.Add(-3 * time.Second), 7 * time.Second},
		{"counters during a rollout go once the interval has passed", status(unhealthy, 1, "True"), status(unhealthy, 2, "True"), now.Add(-11 * time.Second), 0},
		{"counters of a healthy object wait for the rest of the interval", status(healthy, 1, "True"), status(healthy, 2, "True"), now.Add(-1 * time.Second), 9 * time.Second},
		{"a manifest becoming Healthy goes at once", status(unhealthy, 0, "True"), status(healthy, 1, "True"), now.Add(-100 * time.Millisecond), 0},
		{"a manifest becoming Unhealthy goes at once", status(healthy, 1, "True"), status(unhealthy, 0, "True"), now, 0},
		{"a condition change goes at once", status(unhealthy, 1, "True"), status(unhealthy, 1, "False"), now, 0},
		{"never written by this process (a restart)", status(unhealthy, 1, "True"), status(unhealthy, 2, "True"), time.Time{}, 0},
	}
	for _, c := range cases {
		if got := progressDelay(c.cur, c.next, c.lastWrite, now, interval); got != c.want {
			t.Errorf("%s: delay %s, want %s", c.name, got, c.want)
		}
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
	if len(first) != 2 || first[0].err != nil || first[1].err == nil {
		t.Fatalf("headers = %+v", first)
	}
	if want := (manifest.Identity{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "x", Name: "d"}); first[0].id != want {
		t.Errorf("header identity = %+v, want %+v", first[0].id, want)
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

// TestProgressLeavesHalfTheBudgetToHealth: counter-only writes stop
// spending the cluster's write budget once half of its burst is gone, so
// that health and condition writes, which always may, find tokens left.
func TestProgressLeavesHalfTheBudgetToHealth(t *testing.T) {
	l := rate.NewLimiter(0, 10) // no refill
	spent := 0
	for progressMaySpend(l) && l.Allow() {
		spent++
	}
	if spent != 5 {
		t.Fatalf("progress writes spent %d of a burst of 10, want 5", spent)
	}
	for i := range 5 {
		if !l.Allow() {
			t.Fatalf("a health write found no token after %d", i)
		}
	}
}
