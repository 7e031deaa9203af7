package leader

import (
	"context"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// memLock is a resourcelock.Interface over one record in memory.
type memLock struct {
	id      string
	rec     resourcelock.LeaderElectionRecord
	updates []resourcelock.LeaderElectionRecord
}

func (m *memLock) Get(context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	r := m.rec
	return &r, []byte(r.HolderIdentity), nil
}
func (m *memLock) Create(_ context.Context, r resourcelock.LeaderElectionRecord) error {
	m.rec = r
	return nil
}
func (m *memLock) Update(_ context.Context, r resourcelock.LeaderElectionRecord) error {
	m.rec = r
	m.updates = append(m.updates, r)
	return nil
}
func (m *memLock) RecordEvent(string) {}
func (m *memLock) Identity() string   { return m.id }
func (m *memLock) Describe() string   { return "mem/lock" }

func TestRenewalExtendsTheGateAndReleaseRevokesIt(t *testing.T) {
	inner := &memLock{id: "a"}
	g := NewGate(time.Minute)
	l := &gatedLock{Interface: inner, gate: g, drain: time.Second}
	ctx := context.Background()
	if err := l.Create(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: "a"}); err != nil {
		t.Fatal(err)
	}
	g.Open()
	if !g.Allowed() {
		t.Fatal("an acquired Lease did not open the gate")
	}
	if _, _, err := l.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(ctx, resourcelock.LeaderElectionRecord{}); err != nil {
		t.Fatalf("release: %v", err)
	}
	if g.Allowed() || len(inner.updates) != 1 || inner.updates[0].HolderIdentity != "" {
		t.Fatalf("after the release: gate allowed=%v, updates %+v", g.Allowed(), inner.updates)
	}
}

// client-go's release checks the holder it observed last; after renewals
// that could not even read the Lease, that is stale, and another replica
// may hold the Lease by the time the release reads it.
func TestReleaseDoesNotClearAnotherLeadersLease(t *testing.T) {
	inner := &memLock{id: "a", rec: resourcelock.LeaderElectionRecord{HolderIdentity: "b"}}
	l := &gatedLock{Interface: inner, gate: NewGate(time.Minute), drain: time.Second}
	ctx := context.Background()
	if _, _, err := l.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(ctx, resourcelock.LeaderElectionRecord{}); err == nil {
		t.Error("the release of a Lease held by b returned no error")
	}
	if inner.rec.HolderIdentity != "b" {
		t.Errorf("the release cleared b's Lease (holder now %q)", inner.rec.HolderIdentity)
	}
}

// A write in flight holds the release back; if it does not finish within
// the drain bound, the Lease is left to expire rather than released.
func TestReleaseWaitsForWritesInFlight(t *testing.T) {
	inner := &memLock{id: "a", rec: resourcelock.LeaderElectionRecord{HolderIdentity: "a"}}
	g := NewGate(time.Minute)
	g.Renewed(time.Now())
	g.Open()
	if _, ok := g.enter(); !ok {
		t.Fatal("the gate refused a write in the term")
	}
	l := &gatedLock{Interface: inner, gate: g, drain: 100 * time.Millisecond}
	ctx := context.Background()
	if _, _, err := l.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(ctx, resourcelock.LeaderElectionRecord{}); err == nil || len(inner.updates) != 0 {
		t.Fatalf("released with a write in flight: err=%v updates=%+v", err, inner.updates)
	}
	g.leave()
	if err := l.Update(ctx, resourcelock.LeaderElectionRecord{}); err != nil || len(inner.updates) != 1 {
		t.Fatalf("release after the write finished: err=%v updates=%+v", err, inner.updates)
	}
}

// failingLock is a memLock whose updates fail while fail is set.
type failingLock struct {
	memLock
	fail bool
}

func (f *failingLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	if f.fail {
		return errors.New("the member apiserver is away")
	}
	return f.memLock.Update(ctx, r)
}

// Renewals are written every renewEvery, not at each of the elector's
// calls; the Gate's validity counts from the last write that succeeded,
// never from a renewal answered without a write; a failed write makes the
// next renewal a write.
func TestRenewalsAreWrittenEveryRenewEvery(t *testing.T) {
	inner := &failingLock{memLock: memLock{id: "a"}}
	now := time.Unix(1000, 0)
	g := NewGate(10 * time.Second)
	g.now = func() time.Time { return now }
	l := &gatedLock{Interface: inner, gate: g, drain: time.Second, renewEvery: 5 * time.Second, now: func() time.Time { return now }}
	ctx := context.Background()
	acquired := metav1.NewTime(now)
	rec := resourcelock.LeaderElectionRecord{HolderIdentity: "a", LeaseDurationSeconds: 15, AcquireTime: acquired}
	if err := l.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	g.Open()
	// The elector renews every 2 s for 20 s.
	for range 10 {
		now = now.Add(2 * time.Second)
		rec.RenewTime = metav1.NewTime(now)
		if err := l.Update(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if !g.Allowed() {
			t.Fatalf("the gate closed at %s while every renewal succeeded", now)
		}
	}
	if n := len(inner.updates); n < 3 || n > 4 {
		t.Fatalf("%d renewals written in 20 s with renewEvery 5 s, want 3 or 4", n)
	}
	last := inner.updates[len(inner.updates)-1].RenewTime.Time
	// The member goes away: every renewal is a write now, and the gate
	// closes 10 s after the last write that succeeded, whatever the
	// elector was told in between.
	inner.fail = true
	written := len(inner.updates)
	for now.Before(last.Add(10 * time.Second)) {
		now = now.Add(2 * time.Second)
		rec.RenewTime = metav1.NewTime(now)
		_ = l.Update(ctx, rec)
	}
	if g.Allowed() {
		t.Errorf("the gate is open %s after the last write that reached the Lease (validity 10 s)", now.Sub(last))
	}
	inner.fail = false
	now = now.Add(2 * time.Second)
	rec.RenewTime = metav1.NewTime(now)
	if err := l.Update(ctx, rec); err != nil || len(inner.updates) != written+1 {
		t.Fatalf("the first renewal after failures: err=%v, %d writes (want %d)", err, len(inner.updates), written+1)
	}
	if !g.Allowed() {
		t.Error("a renewal that reached the Lease did not reopen the gate")
	}
	// A record that is not a plain renewal (another holder's transition) is written at once.
	other := rec
	other.LeaderTransitions++
	if err := l.Update(ctx, other); err != nil || len(inner.updates) != written+2 {
		t.Errorf("a changed record right after a renewal: err=%v, %d writes (want %d)", err, len(inner.updates), written+2)
	}
}
