package work

import (
	"context"
	"encoding/json"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// flush writes the status of the Work key if it changed: it gathers what
// the writer knows of the Work, decides (decide) and acts. Failed writes
// are retried here (see the retry schedule in retry.go); an error is
// returned only when the Work could not be read.
func (w *Writer) flush(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	work, err := w.cfg.Lister.Works(ns).Get(name)
	if apierrors.IsNotFound(err) {
		w.Forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	if !work.DeletionTimestamp.IsZero() {
		return nil
	}
	s := w.take(key)
	defer w.done()
	full, pending := w.build(work, s.outcome, s.hasOutcome)
	next, body, level, err := choose(work, full, s.reduction, s.reduced)
	if err != nil {
		klog.FromContext(ctx).Error(err, "Encoding Work status failed", "work", key)
	}
	v := view{now: time.Now(), since: s.since, lastWrite: s.lastWrite, pending: pending,
		cur: work.Status, next: next, writable: body != nil, budgetHalfLeft: progressMaySpend(w.cfg.Limiter)}
	d := decide(v, pacing{window: w.cfg.Window, progressInterval: w.cfg.ProgressInterval})
	if d.verdict == verdictWrite && w.refreshDrift(key, &full) {
		next, body, level, err = choose(work, full, s.reduction, s.reduced)
		if err != nil {
			klog.FromContext(ctx).Error(err, "Encoding Work status failed", "work", key)
		}
	}
	w.act(ctx, key, d, attempt{work: work, status: next, body: body, since: s.since, level: level})
	return nil
}

// snapshot is what the writer holds for one Work when flush starts.
type snapshot struct {
	outcome    ApplyOutcome
	hasOutcome bool
	since      time.Time
	lastWrite  time.Time
	reduction  reduction
	reduced    bool
}

// take reads what the writer holds for key and marks its change as being
// flushed (in flight, no longer pending), under one lock.
func (w *Writer) take(key string) snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := snapshot{since: w.since[key], lastWrite: w.written[key]}
	s.outcome, s.hasOutcome = w.outcomes[key]
	s.reduction, s.reduced = w.reduced[key]
	delete(w.since, key)
	w.inflight++
	return s
}

// done ends a flush that take started.
func (w *Writer) done() {
	w.mu.Lock()
	w.inflight--
	w.mu.Unlock()
}

// act carries a decision out: a skip may let the hub-down gate wake the
// next Work to probe the hub; a hold puts the change back; a write goes
// through the gate (parked while the hub is down) and the cluster's
// limiter, and its answer is settled.
func (w *Writer) act(ctx context.Context, key string, d decision, a attempt) {
	if log := klog.FromContext(ctx).V(5); log.Enabled() {
		log.Info("Decided on a Work status", "work", key, "verdict", d.verdict, "after", d.after, "why", d.why)
	}
	switch d.verdict {
	case verdictSkip:
		w.gate.next() // in case this Work was woken to probe the hub
		return
	case verdictHold:
		w.hold(key, a.since, d.after)
		return
	}
	if !w.gate.admit(key) {
		w.hold(key, a.since, -1) // parked until the hub is back
		return
	}
	if err := w.cfg.Limiter.Wait(ctx); err != nil {
		return // shutting down
	}
	w.settle(ctx, key, a, w.write(ctx, a.work, a.status, a.body))
}

// write sends the status: a merge patch of works/status through the
// generated client, or an Update of the Work with status when the identity
// may not patch it.
func (w *Writer) write(ctx context.Context, work *workv1alpha1.Work, status workv1alpha1.WorkStatus, body []byte) error {
	if !w.cfg.UpdateStatus {
		_, err := w.cfg.Client.Works(work.Namespace).Patch(ctx, work.Name, types.MergePatchType, body, metav1.PatchOptions{}, "status")
		return err
	}
	next := work.DeepCopy()
	next.Status = status
	_, err := w.cfg.Client.Works(work.Namespace).UpdateStatus(ctx, next, metav1.UpdateOptions{})
	return err
}

// hold puts a change back for a later write: after d, or, with d < 0,
// when the gate wakes it.
func (w *Writer) hold(key string, since time.Time, d time.Duration) {
	w.mu.Lock()
	if _, ok := w.since[key]; !ok {
		w.since[key] = since
	}
	w.mu.Unlock()
	if d >= 0 {
		w.queue.AddAfter(key, d)
	}
}

// choose returns the status to write for a Work and its patch body: the
// full status (without StatusTruncated), or, when the Work has a reduction
// r (reduced), the reduced one while the hub refuses the full one as too
// large. A nil body means nothing may be written; err says why when the
// status did not encode.
func choose(work *workv1alpha1.Work, full workv1alpha1.WorkStatus, r reduction, reduced bool) (workv1alpha1.WorkStatus, []byte, int, error) {
	var truncated *metav1.Condition
	if c := meta.FindStatusCondition(full.Conditions, ConditionStatusTruncated); c != nil {
		c := *c
		truncated = &c
	}
	meta.RemoveStatusCondition(&full.Conditions, ConditionStatusTruncated)
	body, err := patchBody(full)
	if err != nil {
		return full, nil, levelFull, err
	}
	if !reduced || r.retryFull(work, len(body)) {
		return full, body, levelFull, nil
	}
	if r.level >= levelNone {
		return full, nil, r.level, nil
	}
	if truncated != nil { // keep its lastTransitionTime
		full.Conditions = append(full.Conditions, *truncated)
	}
	status := reduce(full, r.level, r.refused, r.cause, work.Generation)
	body, err = patchBody(status)
	if err != nil {
		return status, nil, r.level, err
	}
	return status, body, r.level, nil
}

// patchBody is the merge patch that sets status. Lists left empty are sent
// as null, which removes them: omitted, they would keep the hub's (the
// StatusTruncated condition of a reduced status, for one).
func patchBody(status workv1alpha1.WorkStatus) ([]byte, error) {
	raw, err := json.Marshal(status)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	for _, list := range []string{"conditions", "manifestStatuses"} {
		if _, ok := m[list]; !ok {
			m[list] = json.RawMessage("null")
		}
	}
	return json.Marshal(map[string]any{"status": m})
}
