package deletion

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"

	"github.com/tether-io/tether/test/testenv"
)

const testCluster = "member1"

var t0 = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)

// fixture is a Guard with a fake clock, recorder and release log.
type fixture struct {
	*Guard
	clock    *clocktesting.FakeClock
	events   *record.FakeRecorder
	reg      *prometheus.Registry
	mu       sync.Mutex
	released []string
}

func newFixture(t *testing.T, mutate ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{clock: clocktesting.NewFakeClock(t0), events: record.NewFakeRecorder(1000), reg: prometheus.NewRegistry()}
	cfg := Config{ClusterName: testCluster, Threshold: DefaultThreshold, Grace: time.Hour, Registerer: f.reg, Recorder: f.events, Clock: f.clock,
		Release: func(keys []string) { f.mu.Lock(); f.released = append(f.released, keys...); f.mu.Unlock() }}
	for _, m := range mutate {
		m(&cfg)
	}
	f.Guard = New(cfg)
	return f
}

func (f *fixture) releasedKeys() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.released) }

// works returns n Works of the cluster, the first terminating of them
// deleted on the hub (with Karmada's finalizer).
func works(n, terminating int) []*workv1alpha1.Work {
	out := make([]*workv1alpha1.Work, n)
	for i := range out {
		w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: workv1alpha1.ExecutionNamespace(testCluster),
			Name: fmt.Sprintf("w%03d", i), UID: types.UID(fmt.Sprintf("uid-%03d", i)), Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}}}
		if i < terminating {
			w.DeletionTimestamp = ptr.To(metav1.NewTime(t0.Add(-time.Hour)))
		}
		out[i] = w
	}
	return out
}

func heldCount(t *testing.T, f *fixture) float64 {
	t.Helper()
	return testutil.ToFloat64(f.metrics.held)
}

// TestBatchThresholds: a batch is held only when it has more than
// Threshold Works and more than 10% of the listed Works.
func TestBatchThresholds(t *testing.T) {
	for _, tc := range []struct {
		listed, terminating int
		held                bool
	}{
		{listed: 100, terminating: 1, held: false},    // one Work deleted while away proceeds
		{listed: 20, terminating: 10, held: false},    // not more than the threshold
		{listed: 20, terminating: 11, held: true},     // more than 10 and 55%
		{listed: 200, terminating: 11, held: false},   // more than 10 but 5.5%
		{listed: 110, terminating: 11, held: false},   // exactly 10%
		{listed: 110, terminating: 12, held: true},    // more than 10%
		{listed: 2000, terminating: 2000, held: true}, // Karmada evicted everything
	} {
		t.Run(fmt.Sprintf("%d_of_%d", tc.terminating, tc.listed), func(t *testing.T) {
			f := newFixture(t)
			ws := works(tc.listed, tc.terminating)
			f.ObserveList(ws, true)
			want := 0
			if tc.held {
				want = tc.terminating
			}
			if got := len(f.Held()); got != want {
				t.Fatalf("held %d Works, want %d", got, want)
			}
			if got := heldCount(t, f); got != float64(want) {
				t.Errorf("tether_deletion_held_works %v, want %d", got, want)
			}
			ok, why := f.Allow(ws[0])
			if ok == tc.held {
				t.Errorf("Allow(a terminating Work) = %v (%q), want %v", ok, why, !tc.held)
			}
		})
	}
}

// TestHeldIsVisibleAndSaysHowToRelease checks the refusal, the condition and
// the single Warning Event per held Work.
func TestHeldIsVisibleAndSaysHowToRelease(t *testing.T) {
	f := newFixture(t)
	ws := works(50, 40)
	f.ObserveList(ws, true)
	if ok, _ := f.Allow(ws[45]); !ok {
		t.Error("a Work that is not terminating was refused")
	}
	for range 3 { // retries
		ok, why := f.Allow(ws[0])
		if ok {
			t.Fatal("a held Work was allowed")
		}
		for _, want := range []string{"40 of the 50 Works", "tether-agent deletes confirm member1", clusterv1alpha1.ConfirmDeletesAnnotation,
			"2026-12-07T02:00:00Z", "--held-delete-grace=1h0m0s", "after the agent started"} {
			if !strings.Contains(why, want) {
				t.Errorf("why %q lacks %q", why, want)
			}
		}
	}
	f.Allow(ws[1])
	if got := len(f.events.Events); got != 2 {
		t.Fatalf("%d Events for 2 held Works refused 4 times, want 2", got)
	}
	if ev := <-f.events.Events; !strings.HasPrefix(ev, "Warning "+EventReasonHeld+" ") {
		t.Errorf("event %q", ev)
	}
	cond := f.Condition()
	if cond.Type != clusterv1alpha1.ClusterConditionDeletesHeld || cond.Status != metav1.ConditionTrue || cond.Reason != clusterv1alpha1.ReasonBulkDeletionHeld {
		t.Errorf("condition %+v", cond)
	}
	if !strings.Contains(cond.Message, "of 40 Works are held") || !strings.Contains(cond.Message, "tether-agent deletes confirm member1") {
		t.Errorf("condition message %q", cond.Message)
	}
	if !cond.LastTransitionTime.Time.Equal(t0) {
		t.Errorf("lastTransitionTime %s, want %s", cond.LastTransitionTime, t0)
	}
	select {
	case <-f.Changed():
	default:
		t.Error("holding did not signal Changed")
	}
}

// TestDeletesSeenWhileConnectedAreNeverHeld: Works observed going into
// deletion by watch events proceed, however many, and a later relist that
// still finds them terminating does not hold them.
func TestDeletesSeenWhileConnectedAreNeverHeld(t *testing.T) {
	f := newFixture(t)
	ws := works(200, 0)
	f.ObserveList(ws, true)
	deleted := works(200, 200)
	for _, w := range deleted {
		if ok, why := f.Allow(w); !ok {
			t.Fatalf("a Work deleted while connected was held: %s", why)
		}
	}
	f.ObserveList(deleted, false)
	if held := f.Held(); len(held) != 0 {
		t.Fatalf("a relist held %d Works already seen terminating", len(held))
	}
	if cond := f.Condition(); cond.Status != metav1.ConditionFalse || cond.Reason != clusterv1alpha1.ReasonNoDeletesHeld {
		t.Errorf("condition %+v", cond)
	}
}

// TestRelistAfterReconnectHolds: Works that went terminating while the
// agent was cut off are found on the relist and held.
func TestRelistAfterReconnectHolds(t *testing.T) {
	f := newFixture(t)
	f.ObserveList(works(100, 0), true)
	ws := works(100, 30)
	f.ObserveList(ws, false)
	if got := len(f.Held()); got != 30 {
		t.Fatalf("held %d, want 30", got)
	}
	if _, why := f.Allow(ws[0]); !strings.Contains(why, "after the agent reconnected") {
		t.Errorf("why %q", why)
	}
	// A relist with the same Works and a few new ones keeps the held ones
	// held and lets the small new batch proceed.
	more := works(100, 33)
	f.ObserveList(more, false)
	if got := len(f.Held()); got != 30 {
		t.Fatalf("held %d after a second relist, want 30", got)
	}
	if ok, _ := f.Allow(more[31]); !ok {
		t.Error("a Work of a small second batch was held")
	}
}

// TestOnlyDeletesCount: Works without Karmada's finalizer or that preserve
// their resources delete nothing in the member; they neither count nor are held.
func TestOnlyDeletesCount(t *testing.T) {
	f := newFixture(t)
	ws := works(40, 20)
	for _, w := range ws[:10] {
		w.Finalizers = nil
	}
	for _, w := range ws[10:15] {
		w.Spec.PreserveResourcesOnDeletion = ptr.To(true)
	}
	f.ObserveList(ws, true)
	if got := len(f.Held()); got != 0 {
		t.Fatalf("held %d: only 5 Works delete member objects", got)
	}
}

func TestNegativeThresholdTurnsTheGuardOff(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Threshold = -1 })
	f.ObserveList(works(100, 100), true)
	if got := len(f.Held()); got != 0 {
		t.Fatalf("held %d with the guard off", got)
	}
}

// TestConfirmReleases: the first Cluster sets the baseline; a new value of
// the annotation releases what is held, once.
func TestConfirmReleases(t *testing.T) {
	f := newFixture(t)
	cluster := &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: testCluster,
		Annotations: map[string]string{clusterv1alpha1.ConfirmDeletesAnnotation: "2026-12-01T00:00:00Z"}}}
	f.ObserveCluster(cluster)
	ws := works(30, 20)
	f.ObserveList(ws, true)
	f.ObserveCluster(cluster)
	if got := len(f.Held()); got != 20 {
		t.Fatalf("an old confirmation released Works: %d held, want 20", got)
	}
	f.Allow(ws[0])
	<-f.Changed()
	f.clock.Step(time.Minute)
	confirmed := cluster.DeepCopy()
	confirmed.Annotations[clusterv1alpha1.ConfirmDeletesAnnotation] = "2026-12-07T01:01:00Z"
	f.ObserveCluster(confirmed)
	if got := len(f.Held()); got != 0 {
		t.Fatalf("%d still held after the confirmation", got)
	}
	if got := f.releasedKeys(); got != 20 {
		t.Errorf("Release got %d keys, want 20", got)
	}
	if ok, why := f.Allow(ws[0]); !ok {
		t.Errorf("a released Work is refused: %s", why)
	}
	if got := testutil.ToFloat64(f.metrics.released.WithLabelValues("confirm")); got != 20 {
		t.Errorf("released{by=confirm} %v, want 20", got)
	}
	if got := heldCount(t, f); got != 0 {
		t.Errorf("held gauge %v, want 0", got)
	}
	cond := f.Condition()
	if cond.Status != metav1.ConditionFalse || !cond.LastTransitionTime.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("condition after release %+v", cond)
	}
	select {
	case <-f.Changed():
	default:
		t.Error("the release did not signal Changed")
	}
	// A relist while the released Works are still finishing holds nothing.
	f.ObserveList(ws, false)
	if got := len(f.Held()); got != 0 {
		t.Errorf("a relist re-held %d released Works", got)
	}
}

// TestGraceReleases: held Works proceed when the grace has passed, not before.
func TestGraceReleases(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f.ObserveList(works(30, 20), true)
	testenv.Eventually(t, 30*time.Second, "Run to wait on the grace timer", holds(f.clock.HasWaiters))
	f.clock.Step(time.Hour - time.Second)
	if got := len(f.Held()); got != 20 {
		t.Fatalf("%d held a second before the grace ends, want 20", got)
	}
	f.clock.Step(time.Second)
	testenv.Eventually(t, 30*time.Second, "the grace to release the held Works", holds(func() bool { return f.releasedKeys() == 20 }))
	if got := len(f.Held()); got != 0 {
		t.Errorf("%d still held after the release", got)
	}
	if got := testutil.ToFloat64(f.metrics.released.WithLabelValues("grace")); got != 20 {
		t.Errorf("released{by=grace} %v, want 20", got)
	}
}

// TestNoGraceWaitsForConfirmation: with --held-delete-grace=0 time releases nothing.
func TestNoGraceWaitsForConfirmation(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Grace = 0 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	ws := works(30, 20)
	f.ObserveList(ws, true)
	f.clock.Step(365 * 24 * time.Hour)
	cancel()
	<-done
	if got := len(f.Held()); got != 20 {
		t.Fatalf("%d held after a year without grace, want 20", got)
	}
	if _, why := f.Allow(ws[0]); !strings.Contains(why, "nothing is deleted until then") {
		t.Errorf("why %q", why)
	}
}

// TestGoneWorksAreForgotten: Forget, a new Work of the same name and a
// relist without the Work all drop a hold.
func TestGoneWorksAreForgotten(t *testing.T) {
	f := newFixture(t)
	ws := works(30, 20)
	f.ObserveList(ws, true)
	f.Forget(keyOf(ws[0]))
	again := ws[1].DeepCopy()
	again.UID = "another"
	if ok, _ := f.Allow(again); !ok {
		t.Error("a new Work of a held Work's name was refused")
	}
	f.ObserveList(ws[3:], false)
	if got := len(f.Held()); got != 17 {
		t.Fatalf("held %d, want 17", got)
	}
	if got := heldCount(t, f); got != 17 {
		t.Errorf("held gauge %v, want 17", got)
	}
	if got := f.releasedKeys(); got != 0 {
		t.Errorf("gone Works were reported released: %d", got)
	}
}

// TestMetricsAreRegistered checks the exported names.
func TestMetricsAreRegistered(t *testing.T) {
	f := newFixture(t)
	f.ObserveList(works(30, 20), true)
	n, err := testutil.GatherAndCount(f.reg, "tether_deletion_held_works", "tether_deletion_released_works_total")
	if err != nil || n != 3 {
		t.Fatalf("gathered %d series (%v), want the gauge and two counters", n, err)
	}
}

// holds is cond as a condition of testenv.Eventually.
func holds(cond func() bool) func() (bool, error) {
	return func() (bool, error) { return cond(), nil }
}
