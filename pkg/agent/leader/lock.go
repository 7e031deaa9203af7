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
type gatedLock struct {
	resourcelock.Interface
	gate  *Gate
	drain time.Duration

	mu     sync.Mutex
	holder string // holder in the last record read
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
	sent := time.Now()
	err := l.Interface.Create(ctx, rec)
	if err == nil && rec.HolderIdentity == l.Identity() {
		l.gate.Renewed(sent)
	}
	return err
}

func (l *gatedLock) Update(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	if rec.HolderIdentity == "" {
		return l.release(ctx, rec)
	}
	sent := time.Now()
	err := l.Interface.Update(ctx, rec)
	if err == nil && rec.HolderIdentity == l.Identity() {
		l.gate.Renewed(sent)
	}
	return err
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
