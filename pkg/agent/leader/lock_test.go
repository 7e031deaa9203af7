package leader

import (
	"context"
	"testing"
	"time"

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
