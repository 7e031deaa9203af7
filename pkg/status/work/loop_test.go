package work

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned/fake"
	worklisters "github.com/tether-io/tether/pkg/generated/listers/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
	"github.com/tether-io/tether/test/testenv"
)

// The writer's loop with the hub replaced by a seam: the generated
// client's fake, whose status patches a reactor records and stores in the
// Work cache the writer reads, as the informer would. Only the writer's
// own logic is under test here (coalescing, change-only writes, Events,
// retries); the requests a real hub sees are counted in hub_test.go.

// fakeHub is the seam: the status patches the writer sent, and the Work
// cache they land in.
type fakeHub struct {
	t       *testing.T
	cache   cache.Indexer
	mu      sync.Mutex
	patches []workv1alpha1.WorkStatus
	// refuse, while above zero, answers that many patches with a conflict.
	refuse atomic.Int32
}

func (h *fakeHub) patch(action clienttesting.Action) (bool, runtime.Object, error) {
	p := action.(clienttesting.PatchActionImpl)
	if p.GetSubresource() != "status" {
		h.t.Errorf("a patch of %q, want status", p.GetSubresource())
	}
	if h.refuse.Load() > 0 {
		h.refuse.Add(-1)
		return true, nil, apierrors.NewConflict(workGR, p.GetName(), errors.New("the test refuses it"))
	}
	var body struct{ Status workv1alpha1.WorkStatus }
	if err := json.Unmarshal(p.GetPatch(), &body); err != nil {
		h.t.Errorf("patch body: %v", err)
	}
	obj, _, _ := h.cache.GetByKey(p.GetNamespace() + "/" + p.GetName())
	work := obj.(*workv1alpha1.Work).DeepCopy()
	work.Status = body.Status
	_ = h.cache.Update(work)
	h.mu.Lock()
	h.patches = append(h.patches, body.Status)
	h.mu.Unlock()
	return true, work, nil
}

func (h *fakeHub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.patches)
}

// liveObject is the live object of the test Work's manifest.
type liveObject struct {
	mu     sync.Mutex
	ready  int64
	health workv1alpha1.ResourceHealth
}

func (m *liveObject) set(ready int64, health workv1alpha1.ResourceHealth) {
	m.mu.Lock()
	m.ready, m.health = ready, health
	m.mu.Unlock()
}

func (m *liveObject) live(id manifest.Identity) member.Answer {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := objectOf(id)
	out.Object["status"] = map[string]any{"readyReplicas": m.ready}
	return member.Answer{State: member.Present, ID: id, Object: out}
}

func (m *liveObject) healthOf(*unstructured.Unstructured) (workv1alpha1.ResourceHealth, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.health, nil
}

const loopKey = "ns/w"

// startLoop runs a Writer for one Work of one Deployment on a fake hub.
func startLoop(t *testing.T, cfg Config) (*Writer, *fakeHub, *liveObject) {
	t.Helper()
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: "w", Namespace: "ns", UID: "u", Generation: 1},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{
			Raw: []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"apps"}}`)}}}}}}
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	if err := indexer.Add(work); err != nil {
		t.Fatal(err)
	}
	hub := &fakeHub{t: t, cache: indexer}
	client := fake.NewSimpleClientset(work)
	client.PrependReactor("patch", "works", hub.patch)
	m := &liveObject{health: workv1alpha1.ResourceUnhealthy}
	cfg.Client, cfg.Lister, cfg.Health = client.WorkV1alpha1(), worklisters.NewWorkLister(indexer), m.healthOf
	cfg.Live = LiveSource(m.live)
	cfg.Reflect = func(obj *unstructured.Unstructured) (*runtime.RawExtension, error) {
		raw, err := json.Marshal(obj.Object["status"])
		return &runtime.RawExtension{Raw: raw}, err
	}
	w := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx, 2) }()
	t.Cleanup(func() { cancel(); <-done })
	return w, hub, m
}

// settled waits until the writer has nothing pending or in flight.
func settled(t *testing.T, w *Writer, what string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, what, func() (bool, error) { return w.Idle(), nil })
}

func applied(status metav1.ConditionStatus) ApplyOutcome {
	return ApplyOutcome{Generation: 1, Applied: &metav1.Condition{Type: workv1alpha1.WorkApplied, Status: status,
		Reason: "r", Message: "m", ObservedGeneration: 1, LastTransitionTime: metav1.Now()}}
}

// Touches within the window are folded into one write; a touch with
// nothing new writes nothing; a change goes out once, however often it is
// touched.
func TestLoopCoalescesAndWritesOnlyChanges(t *testing.T) {
	w, hub, m := startLoop(t, Config{Window: 100 * time.Millisecond})
	w.SetOutcome(loopKey, applied(metav1.ConditionTrue))
	for range 20 {
		w.Touch(loopKey)
	}
	settled(t, w, "the first status written")
	if n := hub.count(); n != 1 {
		t.Fatalf("%d writes for 20 touches within the window, want 1", n)
	}
	for range 5 {
		w.Touch(loopKey)
		settled(t, w, "the writer idle after an idle touch")
	}
	w.SetOutcome(loopKey, applied(metav1.ConditionTrue))
	settled(t, w, "the writer idle after the same outcome")
	if n := hub.count(); n != 1 {
		t.Fatalf("%d writes after touches and an outcome that change nothing, want 1", n)
	}
	m.set(1, workv1alpha1.ResourceHealthy)
	for range 20 {
		w.Touch(loopKey)
	}
	settled(t, w, "the health change written")
	if n := hub.count(); n != 2 || hub.patches[1].ManifestStatuses[0].Health != workv1alpha1.ResourceHealthy {
		t.Fatalf("%d writes, want 2, the last Healthy: %+v", n, hub.patches)
	}
	if w.Writes() != 2 || w.FailedWrites() != 0 {
		t.Errorf("the writer counts %d writes, %d failed; want 2, 0", w.Writes(), w.FailedWrites())
	}
}

// A counter-only change within the progress interval is held, not
// dropped: it goes out when the interval has passed, in one write.
func TestLoopHoldsProgressThenWritesIt(t *testing.T) {
	w, hub, m := startLoop(t, Config{Window: 50 * time.Millisecond, ProgressInterval: 2 * time.Second})
	w.SetOutcome(loopKey, applied(metav1.ConditionTrue))
	settled(t, w, "the first status written")
	for ready := range int64(3) {
		m.set(ready+1, workv1alpha1.ResourceUnhealthy)
		w.Touch(loopKey)
	}
	if w.Pending() == 0 {
		t.Fatal("the counter-only change is not pending")
	}
	settled(t, w, "the held progress written")
	if n := hub.count(); n != 2 {
		t.Fatalf("%d writes, want 2 (the first status, then the counters folded into one)", n)
	}
	if got := string(hub.patches[1].ManifestStatuses[0].Status.Raw); got != `{"readyReplicas":3}` {
		t.Errorf("the held write carries %s, want the latest counters", got)
	}
}

// Events on the loop: a Warning when Applied turns False, none while it
// stays False, a Normal one when it recovers; a refused write is retried
// and announces nothing until it is written.
func TestLoopEventsAndRetries(t *testing.T) {
	rec := record.NewFakeRecorder(10)
	w, hub, _ := startLoop(t, Config{Window: 50 * time.Millisecond, Recorder: rec})
	hub.refuse.Store(1)
	w.SetOutcome(loopKey, applied(metav1.ConditionFalse))
	settled(t, w, "the failed status written after a refused write")
	if n, failed := hub.count(), w.FailedWrites(); n != 1 || failed != 1 {
		t.Fatalf("%d writes stored, %d refused; want 1 and 1", n, failed)
	}
	expectEvents(t, rec, "Warning ApplyFailed m")
	w.SetOutcome(loopKey, ApplyOutcome{Generation: 1, Applied: &metav1.Condition{Type: workv1alpha1.WorkApplied, Status: "False", Reason: "r", Message: "m2", ObservedGeneration: 1}})
	settled(t, w, "the second failure written")
	expectEvents(t, rec)
	w.SetOutcome(loopKey, applied(metav1.ConditionTrue))
	settled(t, w, "the recovery written")
	expectEvents(t, rec, "Normal Applied m")
	if n := hub.count(); n != 3 {
		t.Errorf("%d writes stored, want 3", n)
	}
}

// expectEvents checks the Events posted since the last call.
func expectEvents(t *testing.T, rec *record.FakeRecorder, want ...string) {
	t.Helper()
	var got []string
	for len(rec.Events) > 0 {
		got = append(got, <-rec.Events)
	}
	if len(got) != len(want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("event %d: %q, want %q", i, got[i], want[i])
		}
	}
}
