package work

import (
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// statusOf is a Work status of one Deployment manifest with the given
// health and reflected status, and an Applied condition.
func statusOf(health workv1alpha1.ResourceHealth, reflected string, applied metav1.ConditionStatus) workv1alpha1.WorkStatus {
	return workv1alpha1.WorkStatus{
		Conditions: []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: applied, Reason: "r", ObservedGeneration: 1}},
		ManifestStatuses: []workv1alpha1.ManifestStatus{{
			Identifier: workv1alpha1.ResourceIdentifier{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: "web"},
			Status:     &runtime.RawExtension{Raw: []byte(reflected)},
			Health:     health,
		}},
	}
}

// TestDecide is the writer's decision table: every rule of decide, and
// what takes precedence when several apply.
func TestDecide(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := pacing{window: 200 * time.Millisecond, progressInterval: 10 * time.Second}
	const h, u = workv1alpha1.ResourceHealthy, workv1alpha1.ResourceUnhealthy
	one, two := `{"readyReplicas":1,"replicas":2}`, `{"readyReplicas":2,"replicas":2}`
	rollout := statusOf(u, one, "True")  // on the hub, mid-rollout
	counters := statusOf(u, two, "True") // only the counters moved
	healthy := statusOf(h, two, "True")  // the rollout ended
	failed := statusOf(u, one, "False")  // the Applied condition turned
	reordered := statusOf(u, `{"replicas":2,"readyReplicas":1}`, "True")
	noGeneration := statusOf(u, one, "True") // as karmada-agent writes it
	noGeneration.Conditions[0].ObservedGeneration = 0
	moved := statusOf(u, one, "True")
	moved.ManifestStatuses[0].Identifier.Namespace = "other"
	drifted := statusOf(u, `{"readyReplicas":1,"replicas":2,"drift":{"mode":"correct","state":"Corrected","fields":[{"path":"/spec/replicas"}],"repairs":1}}`, "True")

	// base: a change seen 50ms ago, last written 3s ago, budget to spare.
	base := view{now: now, since: now.Add(-50 * time.Millisecond), lastWrite: now.Add(-3 * time.Second),
		cur: rollout, next: counters, writable: true, budgetHalfLeft: true}
	with := func(f func(*view)) view { v := base; f(&v); return v }
	cases := []struct {
		name  string
		v     view
		want  verdict
		after time.Duration
	}{
		// Member caches still syncing.
		{"a member cache syncing holds for a window", with(func(v *view) { v.pending, v.next = true, healthy }), verdictHold, p.window},
		{"... up to pendingLimit after the change", with(func(v *view) { v.pending, v.next, v.since = true, healthy, now.Add(-pendingLimit) }), verdictWrite, 0},
		{"... and not when woken without a change (a retry)", with(func(v *view) { v.pending, v.next, v.since = true, healthy, time.Time{} }), verdictWrite, 0},
		{"... before anything else, even an unwritable status", with(func(v *view) { v.pending, v.writable = true, false }), verdictHold, p.window},
		// Change-only writes.
		{"a status the hub has is not written", with(func(v *view) { v.next = rollout }), verdictSkip, 0},
		{"reflected statuses compare as JSON values", with(func(v *view) { v.next = reordered }), verdictSkip, 0},
		{"observedGeneration alone is not worth a write", with(func(v *view) { v.cur, v.next = noGeneration, rollout }), verdictSkip, 0},
		{"a status that may not be written is skipped", with(func(v *view) { v.next, v.writable = healthy, false }), verdictSkip, 0},
		// Held progress: counter-only writes.
		{"counters wait for the rest of the progress interval", base, verdictHold, 7 * time.Second},
		{"counters go once the interval has passed", with(func(v *view) { v.lastWrite = now.Add(-10 * time.Second) }), verdictWrite, 0},
		{"counters go at once after a restart (no write by this process)", with(func(v *view) { v.lastWrite = time.Time{} }), verdictWrite, 0},
		{"counters yield when half the budget is spent", with(func(v *view) { v.lastWrite, v.budgetHalfLeft = now.Add(-time.Minute), false }), verdictHold, progressYield},
		{"... also after a restart", with(func(v *view) { v.lastWrite, v.budgetHalfLeft = time.Time{}, false }), verdictHold, progressYield},
		{"the interval is checked before the budget", with(func(v *view) { v.budgetHalfLeft = false }), verdictHold, 7 * time.Second},
		// Anything else goes now, whatever the interval and the budget.
		{"a health change goes at once", with(func(v *view) { v.next, v.lastWrite, v.budgetHalfLeft = healthy, now, false }), verdictWrite, 0},
		{"a condition change goes at once", with(func(v *view) { v.next, v.lastWrite, v.budgetHalfLeft = failed, now, false }), verdictWrite, 0},
		{"a new drift record goes at once", with(func(v *view) { v.next, v.lastWrite, v.budgetHalfLeft = drifted, now, false }), verdictWrite, 0},
		{"... and so does its end", with(func(v *view) { v.cur, v.next, v.lastWrite, v.budgetHalfLeft = drifted, rollout, now, false }), verdictWrite, 0},
		{"an identifier change goes at once", with(func(v *view) { v.next, v.lastWrite, v.budgetHalfLeft = moved, now, false }), verdictWrite, 0},
		{"the first status goes at once", with(func(v *view) { v.cur, v.lastWrite, v.budgetHalfLeft = workv1alpha1.WorkStatus{}, now, false }), verdictWrite, 0},
	}
	for _, c := range cases {
		d := decide(c.v, p)
		if d.verdict != c.want || d.after != c.after {
			t.Errorf("%s: %s after %s (%s), want %s after %s", c.name, d.verdict, d.after, d.why, c.want, c.after)
		}
		if d.why == "" {
			t.Errorf("%s: the decision does not say why", c.name)
		}
	}
}

// TestDecideWithDefaults: with the defaults, the counters of a manifest
// still rolling out are held no longer than DefaultProgressInterval after
// the Work's last write, not folded into a minutes-long interval.
func TestDecideWithDefaults(t *testing.T) {
	w := New(Config{})
	now := time.Now()
	v := view{now: now, lastWrite: now, writable: true, budgetHalfLeft: progressMaySpend(w.cfg.Limiter),
		cur: statusOf(workv1alpha1.ResourceUnhealthy, `{"readyReplicas":0}`, "True"), next: statusOf(workv1alpha1.ResourceUnhealthy, `{"readyReplicas":1}`, "True")}
	d := decide(v, pacing{window: w.cfg.Window, progressInterval: w.cfg.ProgressInterval})
	if d.verdict != verdictHold || d.after <= 0 || d.after > 10*time.Second {
		t.Fatalf("counter-only progress of a rollout: %s after %s, want held within (0, 10s]", d.verdict, d.after)
	}
	if !v.budgetHalfLeft {
		t.Error("a fresh writer's budget is spent")
	}
}

// TestAnswerOf is the retry table: what the writer does after each kind
// of answer, and which answers prove the hub is up.
func TestAnswerOf(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		canceled bool
		want     answer
		reached  bool
	}{
		{"success", nil, false, answerWritten, true},
		{"the Work is gone", apierrors.NewNotFound(workGR, "w"), false, answerDropped, true},
		{"shutting down mid-write", refused(), true, answerDropped, false},
		{"shutting down, a hub that answered", apierrors.NewConflict(workGR, "w", errors.New("x")), true, answerDropped, true},
		{"413", apierrors.NewRequestEntityTooLargeError("limit is 3145728"), false, answerTooLarge, true},
		{"etcd's size limit (a 500)", apierrors.NewInternalError(errors.New("etcdserver: request is too large")), false, answerTooLarge, true},
		{"connection refused", refused(), false, answerHubDown, false},
		{"503", apierrors.NewServiceUnavailable("x"), false, answerHubDown, false},
		{"429", apierrors.NewTooManyRequests("slow down", 1), false, answerHubDown, false},
		{"409", apierrors.NewConflict(workGR, "w", errors.New("x")), false, answerRefused, true},
		{"403", apierrors.NewForbidden(workGR, "w", errors.New("x")), false, answerRefused, true},
	}
	for _, c := range cases {
		got, reached := answerOf(c.err, c.canceled)
		if got != c.want || reached != c.reached {
			t.Errorf("%s: %s (hub reached %v), want %s (%v)", c.name, got, reached, c.want, c.reached)
		}
	}
}

// TestEscalated: a refused full status starts a reduction that remembers
// the Work's generation and the refused size; each refused reduced status
// goes one level further, keeping them.
func TestEscalated(t *testing.T) {
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{UID: "u", Generation: 3}}
	r := escalated(reduction{}, work, levelFull, 2_000_000, "too large")
	if want := (reduction{uid: "u", generation: 3, level: levelSummary, refused: 2_000_000, cause: "too large"}); r != want {
		t.Fatalf("after the full status: %+v, want %+v", r, want)
	}
	work.Generation = 4 // a reduced status refused keeps what the full one was refused for
	if r = escalated(r, work, levelSummary, 300_000, "again"); r.level != levelBare || r.refused != 2_000_000 || r.generation != 3 || r.cause != "too large" {
		t.Fatalf("after the summary: %+v", r)
	}
	if r = escalated(r, work, levelBare, 100_000, "again"); r.level != levelNone {
		t.Fatalf("after the bare status: %+v", r)
	}
	// An old reduction met by a refused full status starts afresh.
	if r = escalated(r, work, levelFull, 1_900_000, "new"); r.level != levelSummary || r.refused != 1_900_000 || r.generation != 4 {
		t.Fatalf("a full status refused again: %+v", r)
	}
}
