package leader

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// gatedLock is the Lease lock as the elector uses it, with the Gate kept
// in step: a successful acquisition or renewal extends the Gate's lease,
// and a release revokes the Gate and waits for the writes in flight before
// it gives the Lease up, so no write of this replica can overlap the next
// leader's.
//
// The elector renews every RetryPeriod (2 s by default: 30 member writes a
// minute). The lock writes a renewal only when its last successful write
// is renewEvery old (RenewDeadline/2), and answers the renewals in between
// as done without a request. That is safe because the Gate's validity
// counts from the writes that reached the Lease, never from the renewals
// skipped: a replica whose writes fail stops writing RenewDeadline after
// the last one that succeeded, as before, and another replica still waits
// LeaseDuration from the last change it saw. A renewal that fails, and any
// record that is not a plain renewal of the last one written (an
// acquisition, a release), is written at once.
type gatedLock struct {
	resourcelock.Interface
	gate       *Gate
	drain      time.Duration
	renewEvery time.Duration    // 0: every renewal is written
	now        func() time.Time // default time.Now

	mu      sync.Mutex
	holder  string // holder in the last record read
	written *resourcelock.LeaderElectionRecord
	sent    time.Time // when written was sent
}

func (l *gatedLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	rec, raw, err := l.Interface.Get(ctx)
	if err == nil {
		l.mu.Lock()
		l.holder = rec.HolderIdentity
		l.mu.Unlock()
	}
	return rec, raw, err
}

func (l *gatedLock) Create(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	sent := l.clock()
	err := l.Interface.Create(ctx, rec)
	l.wrote(rec, sent, err)
	return err
}

func (l *gatedLock) Update(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	if rec.HolderIdentity == "" {
		l.forget()
		return l.release(ctx, rec)
	}
	sent := l.clock()
	if l.recent(rec, sent) {
		return nil
	}
	err := l.Interface.Update(ctx, rec)
	l.wrote(rec, sent, err)
	return err
}

func (l *gatedLock) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

// wrote records the outcome of a write of rec sent at sent: a success of
// this replica's record extends the Gate and is the base of the next
// renewals; a failure makes the next renewal a write.
func (l *gatedLock) wrote(rec resourcelock.LeaderElectionRecord, sent time.Time, err error) {
	if err != nil || rec.HolderIdentity != l.Identity() {
		l.forget()
		return
	}
	l.gate.Renewed(sent)
	l.mu.Lock()
	l.written, l.sent = &rec, sent
	l.mu.Unlock()
}

func (l *gatedLock) forget() {
	l.mu.Lock()
	l.written = nil
	l.mu.Unlock()
}

// recent reports whether rec renews the record this replica last wrote,
// which succeeded less than renewEvery before now: that renewal is not
// written.
func (l *gatedLock) recent(rec resourcelock.LeaderElectionRecord, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.written
	return w != nil && l.renewEvery > 0 && now.Sub(l.sent) < l.renewEvery &&
		rec.HolderIdentity == w.HolderIdentity && rec.LeaseDurationSeconds == w.LeaseDurationSeconds &&
		rec.LeaderTransitions == w.LeaderTransitions && rec.AcquireTime.Equal(&w.AcquireTime)
}

// release gives the Lease up (client-go writes a record without a holder)
// once no write of this replica is in flight. It refuses when the Lease
// read just before names another holder: the elector's own check uses the
// record it last observed, which after a failed renewal may be stale, and
// the update would then clear the new leader's Lease.
func (l *gatedLock) release(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	l.gate.Revoke()
	dctx, cancel := context.WithTimeout(ctx, l.drain)
	defer cancel()
	if err := l.gate.Drain(dctx); err != nil {
		return fmt.Errorf("not releasing the Lease, it will expire instead: %w", err)
	}
	l.mu.Lock()
	holder := l.holder
	l.mu.Unlock()
	if holder != l.Identity() {
		return fmt.Errorf("not releasing the Lease: it is held by %q, not by this replica", holder)
	}
	return l.Interface.Update(ctx, rec)
}
