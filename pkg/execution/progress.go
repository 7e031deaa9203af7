package execution

import (
	"sync"
	"time"
)

// reconcileTimeout bounds one reconcile (worker).
const reconcileTimeout = 2 * time.Minute

// progress tracks whether the workers move: a reconcile that finishes is
// progress, and so is the first one to start after the workers were idle
// (an idle controller is not stuck, however long it has been idle). The
// zero value is ready to use.
type progress struct {
	mu       sync.Mutex
	inflight int
	last     time.Time
}

// begin records that a reconcile started at now.
func (p *progress) begin(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight == 0 {
		p.last = now
	}
	p.inflight++
}

// end records that a reconcile finished at now, whatever its outcome.
func (p *progress) end(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	p.last = now
}

// stalled reports whether reconciles are under way and none has finished
// (nor started from idle) for longer than limit.
func (p *progress) stalled(now time.Time, limit time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inflight > 0 && now.Sub(p.last) > limit
}

// Stalled reports whether the controller is wedged at now: Works are being
// reconciled and no reconcile has finished for longer than limit. A
// reconcile is bounded by reconcileTimeout, so a limit above it flags only
// workers that ignore their context (a deadlock, a call without a
// deadline), which a restart clears. An idle controller, or one still
// waiting for its caches, is never stalled. A limit of 0 or less disables
// the check.
func (c *Controller) Stalled(now time.Time, limit time.Duration) bool {
	return limit > 0 && c.progress.stalled(now, limit)
}
