package work

import (
	"context"
	"fmt"
	"time"

	"k8s.io/klog/v2"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// attempt is one status write.
type attempt struct {
	work   *workv1alpha1.Work
	status workv1alpha1.WorkStatus
	body   []byte
	since  time.Time
	level  int
}

// settle acts on the hub's answer to a status write, as answerOf
// classifies it.
func (w *Writer) settle(ctx context.Context, key string, a attempt, err error) {
	log := klog.FromContext(ctx)
	class, reached := answerOf(err, ctx.Err() != nil)
	if reached && w.gate.reached() {
		w.hubLog.recovered(log)
	}
	switch class {
	case answerWritten:
		w.recordWrite(ctx, key, a)
	case answerDropped:
	case answerTooLarge:
		w.failures.Add(1)
		w.escalate(ctx, key, a, err)
		w.hold(key, a.since, 0)
	case answerHubDown:
		w.failures.Add(1)
		w.gate.failed(key)
		w.hold(key, a.since, -1)
		w.hubLog.failed(log, key, fmt.Errorf("patch status of Work %s: %w", key, err), ProbeBackoffMax)
	case answerRefused:
		w.failures.Add(1)
		d := w.backoff.When(key)
		w.hold(key, a.since, d)
		w.workLog.failed(log, key, fmt.Errorf("patch status of Work %s: %w", key, err), d)
	}
}

// escalate records that the hub refused a status of the given level as too
// large, so that the next write reduces it one level further.
func (w *Writer) escalate(ctx context.Context, key string, a attempt, err error) {
	cause := safeText(err.Error(), summaryLimit)
	w.mu.Lock()
	r := escalated(w.reduced[key], a.work, a.level, len(a.body), cause)
	w.reduced[key] = r
	w.mu.Unlock()
	log := klog.FromContext(ctx)
	if r.level >= levelNone {
		log.Error(err, "The hub refused even a bare Work status as too large; the status is not written until the Work changes", "work", key, "bytes", len(a.body))
		return
	}
	log.Info("The hub refused the Work status as too large; writing a reduced status", "work", key, "bytes", len(a.body), "level", r.level, "reason", cause)
}

// recordWrite records a successful write.
func (w *Writer) recordWrite(ctx context.Context, key string, a attempt) {
	w.backoff.Forget(key)
	w.writes.Add(1)
	if log := klog.FromContext(ctx).V(4); log.Enabled() {
		log.Info("Wrote Work status", "work", key, "change", changeOf(a.work.Status, a.status))
	}
	announce(w.cfg.Recorder, a.work, a.status)
	w.mu.Lock()
	w.written[key] = time.Now()
	if a.level == levelFull {
		delete(w.reduced, key)
	}
	w.mu.Unlock()
	if w.cfg.Observe != nil && !a.since.IsZero() {
		w.cfg.Observe(time.Since(a.since))
	}
}
