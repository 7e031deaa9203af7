// Package work writes Work.status on the hub. It is the only writer of that
// status: the sync controller hands it the outcome of each apply (the Applied
// and Dispatching conditions and per-manifest errors), member informers tell
// it when a member object changed, and it builds manifestStatuses (identifier,
// reflected status, health) for every manifest. Writes are coalesced per Work
// over a short window, rate-limited per cluster, and sent only when the
// status changed, so a restart rewrites nothing. A change of health or of a
// condition goes out within the window; a change of reflected counters
// alone (a rollout's progress) at most and at least every progress
// interval per Work, and only from the first half of the cluster's write
// budget, so that it never delays the former.
package work

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	workclient "github.com/tether-io/tether/pkg/generated/clientset/versioned/typed/work/v1alpha1"
	worklisters "github.com/tether-io/tether/pkg/generated/listers/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
)

// DefaultProgressInterval is Config.ProgressInterval's default.
const DefaultProgressInterval = 10 * time.Second

// DefaultWindow is Config.Window's default (--work-status-window).
const DefaultWindow = 200 * time.Millisecond

// pendingLimit bounds how long a write waits for member caches to sync.
const pendingLimit = 30 * time.Second

// Members is where the writer finds the member object of a manifest
// (member.Objects).
type Members interface {
	Live(id manifest.Identity) member.Answer
}

// LiveSource adapts a function to Members.
type LiveSource func(id manifest.Identity) member.Answer

// Live calls f.
func (f LiveSource) Live(id manifest.Identity) member.Answer { return f(id) }

// Config wires a Writer.
type Config struct {
	// Client writes the status; its REST client is used directly so that the
	// hub's response (the whole Work) is not decoded.
	Client workclient.WorkV1alpha1Interface
	Lister worklisters.WorkLister
	// Live answers what a manifest's member object is; a kind not served
	// leaves the manifest's health Unknown, and a kind whose informer is
	// still syncing holds the write (up to pendingLimit).
	Live Members
	// Reflect returns the status to report for a live object (nil for none).
	Reflect func(obj *unstructured.Unstructured) (*runtime.RawExtension, error)
	// Health judges a live object. An error (a customization's script
	// failed) is reported next to the status as healthError, with the
	// health it returns (Unknown).
	Health func(obj *unstructured.Unstructured) (workv1alpha1.ResourceHealth, error)
	// Window coalesces changes of one Work into one write (default 200ms).
	Window time.Duration
	// ProgressInterval spaces writes whose only change is a reflected
	// counter (health, conditions and identifiers unchanged) at least this
	// far apart per Work (default 10s), during a rollout as after it: a
	// rollout's intermediate counters reach the hub at least this often,
	// and those that change faster are folded into one write, or into the
	// write of the health change that ends the rollout. A change of
	// health, of a condition or of an identifier goes out within Window.
	ProgressInterval time.Duration
	// Limiter bounds status writes for the whole cluster (default 200/s, burst 400).
	Limiter *rate.Limiter
	// Observe, if set, is told the latency from a member change to the write that carried it.
	Observe func(d time.Duration)
	// Recorder, if set, receives an Event when a Work's Applied condition
	// turns False or recovers (transitions only).
	Recorder record.EventRecorder
	// UpdateStatus writes with an Update of works/status (the Work as the
	// cache holds it, with its resourceVersion) instead of a merge patch,
	// for a hub identity that may update the status but not patch it. A
	// conflict is retried like any other refused write, from the cache.
	UpdateStatus bool
}

// ApplyOutcome is what the sync controller reports after handling a Work.
type ApplyOutcome struct {
	Generation int64
	// Applied and Dispatching are the conditions to set (Applied nil: keep the current one).
	Applied, Dispatching *metav1.Condition
	// Results by manifest ordinal (none: every manifest applied, or none
	// was applied because dispatching is suspended).
	Results map[int]manifest.Result
}

// applyError is the error of the manifest at ordinal, "" when it applied.
func (o ApplyOutcome) applyError(ordinal int) string {
	if r := o.Results[ordinal]; r.Err != nil {
		return r.Err.Error()
	}
	return ""
}

// Writer coalesces and writes Work statuses.
type Writer struct {
	cfg     Config
	queue   workqueue.TypedDelayingInterface[string]
	backoff workqueue.TypedRateLimiter[string] // per Work, for errors the hub answers
	gate    *gate                              // while the hub is down
	hubLog  *failureLog
	workLog *failureLog

	mu       sync.Mutex
	outcomes map[string]ApplyOutcome
	since    map[string]time.Time // first unflushed change per Work
	written  map[string]time.Time // last write per Work
	decoded  map[string]headerCache
	reduced  map[string]reduction
	inflight int
	writes   atomic.Int64
	failures atomic.Int64
}

// New returns a Writer.
func New(cfg Config) *Writer {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = DefaultProgressInterval
	}
	if cfg.Limiter == nil {
		cfg.Limiter = rate.NewLimiter(200, 400)
	}
	w := &Writer{
		cfg:      cfg,
		queue:    workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{Name: "work-status"}),
		backoff:  workqueue.NewTypedItemExponentialFailureRateLimiter[string](WorkBackoffBase, WorkBackoffMax),
		hubLog:   newFailureLog(FailureLogEvery),
		workLog:  newFailureLog(FailureLogEvery),
		outcomes: map[string]ApplyOutcome{},
		since:    map[string]time.Time{},
		written:  map[string]time.Time{},
		decoded:  map[string]headerCache{},
		reduced:  map[string]reduction{},
	}
	w.gate = newGate(w.queue.Add)
	return w
}

// SetOutcome records the outcome of an apply and schedules a write.
func (w *Writer) SetOutcome(key string, o ApplyOutcome) {
	w.mu.Lock()
	w.outcomes[key] = o
	w.mu.Unlock()
	w.Touch(key)
}

// Forget drops what the writer holds for a Work that is gone.
func (w *Writer) Forget(key string) {
	w.mu.Lock()
	delete(w.outcomes, key)
	delete(w.since, key)
	delete(w.written, key)
	delete(w.decoded, key)
	delete(w.reduced, key)
	w.mu.Unlock()
	w.backoff.Forget(key)
	w.gate.forget(key)
}

// Touch schedules a status write for the Work key within the window; more
// touches before it runs are folded into it.
func (w *Writer) Touch(key string) {
	w.mu.Lock()
	if _, ok := w.since[key]; !ok {
		w.since[key] = time.Now()
	}
	w.mu.Unlock()
	w.queue.AddAfter(key, w.cfg.Window)
}

// Idle reports whether no write is pending or in flight.
func (w *Writer) Idle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.since) == 0 && w.inflight == 0 && w.queue.Len() == 0
}

// Pending is the number of Works with a change not yet written.
func (w *Writer) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.since) + w.inflight
}

// Writes is the number of status writes sent since the Writer was built.
func (w *Writer) Writes() int64 { return w.writes.Load() }

// FailedWrites is the number of status writes the hub did not accept
// (refused, or not reached) since the Writer was built.
func (w *Writer) FailedWrites() int64 { return w.failures.Load() }

// Reduced is the number of Works whose status is reduced because the hub
// refused the full one as too large.
func (w *Writer) Reduced() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.reduced)
}

// HubDown reports whether writes are held back because the last one did
// not reach the hub.
func (w *Writer) HubDown() bool { return w.gate.isDown() }

// Run writes statuses with the given number of workers until ctx ends.
func (w *Writer) Run(ctx context.Context, workers int) {
	go func() { <-ctx.Done(); w.queue.ShutDown() }()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				key, shutdown := w.queue.Get()
				if shutdown {
					return
				}
				if err := w.flush(ctx, key); err != nil && ctx.Err() == nil {
					d := w.backoff.When(key)
					w.workLog.failed(klog.FromContext(ctx), key, err, d)
					w.queue.AddAfter(key, d)
				}
				w.queue.Done(key)
			}
		}()
	}
	wg.Wait()
}

// flush writes the status of the Work key if it changed. Failed writes are
// retried here (see the retry schedule in retry.go); an error is returned
// only when the Work could not be read.
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
	w.mu.Lock()
	outcome, hasOutcome := w.outcomes[key]
	since := w.since[key]
	delete(w.since, key)
	w.inflight++
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.inflight--
		w.mu.Unlock()
	}()

	full, pending := w.build(work, outcome, hasOutcome)
	if pending && !since.IsZero() && time.Since(since) < pendingLimit {
		w.hold(key, since, w.cfg.Window)
		return nil
	}
	status, body, level := w.choose(ctx, key, work, full)
	if body == nil || sameStatus(status, work.Status) {
		w.gate.next() // in case this Work was woken to probe the hub
		return nil
	}
	if wait := w.progressWait(key, work.Status, status); wait > 0 {
		w.hold(key, since, wait)
		return nil
	}
	if onlyProgress(work.Status, status) && !progressMaySpend(w.cfg.Limiter) {
		w.hold(key, since, progressYield) // the budget's last half is for health and conditions
		return nil
	}
	if !w.gate.admit(key) {
		w.hold(key, since, -1) // parked until the hub is back
		return nil
	}
	if err := w.cfg.Limiter.Wait(ctx); err != nil {
		return nil // shutting down
	}
	err = w.write(ctx, work, status, body)
	w.settle(ctx, key, attempt{work: work, status: status, since: since, size: len(body), level: level}, err)
	return nil
}

// write sends the status: the merge patch body, or an Update of the Work
// with status when the identity may not patch it.
func (w *Writer) write(ctx context.Context, work *workv1alpha1.Work, status workv1alpha1.WorkStatus, body []byte) error {
	if !w.cfg.UpdateStatus {
		return w.cfg.Client.RESTClient().Patch(types.MergePatchType).Namespace(work.Namespace).Resource("works").Name(work.Name).
			SubResource("status").Body(body).Do(ctx).Error()
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
// full status (without StatusTruncated), or the reduced one while the hub
// refuses the full one as too large. A nil body means nothing may be written.
func (w *Writer) choose(ctx context.Context, key string, work *workv1alpha1.Work, full workv1alpha1.WorkStatus) (workv1alpha1.WorkStatus, []byte, int) {
	var truncated *metav1.Condition
	if c := meta.FindStatusCondition(full.Conditions, ConditionStatusTruncated); c != nil {
		c := *c
		truncated = &c
	}
	meta.RemoveStatusCondition(&full.Conditions, ConditionStatusTruncated)
	body, err := patchBody(full)
	if err != nil {
		klog.FromContext(ctx).Error(err, "Encoding Work status failed", "work", key)
		return full, nil, levelFull
	}
	w.mu.Lock()
	r, ok := w.reduced[key]
	w.mu.Unlock()
	if !ok || r.retryFull(work, len(body)) {
		return full, body, levelFull
	}
	if r.level >= levelNone {
		return full, nil, r.level
	}
	if truncated != nil { // keep its lastTransitionTime
		full.Conditions = append(full.Conditions, *truncated)
	}
	status := reduce(full, r.level, r.refused, r.cause, work.Generation)
	body, err = patchBody(status)
	if err != nil {
		return status, nil, r.level
	}
	return status, body, r.level
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

// attempt is one status write.
type attempt struct {
	work   *workv1alpha1.Work
	status workv1alpha1.WorkStatus
	since  time.Time
	size   int
	level  int
}

// settle handles the hub's answer to a status write.
func (w *Writer) settle(ctx context.Context, key string, a attempt, err error) {
	log := klog.FromContext(ctx)
	if err == nil || !hubDown(err) {
		if w.gate.reached() {
			w.hubLog.recovered(log)
		}
	}
	switch {
	case err == nil:
		w.recordWrite(ctx, key, a)
	case apierrors.IsNotFound(err) || ctx.Err() != nil:
	case tooLarge(err):
		w.failures.Add(1)
		w.escalate(ctx, key, a, err)
		w.hold(key, a.since, 0)
	case hubDown(err):
		w.failures.Add(1)
		w.gate.failed(key)
		w.hold(key, a.since, -1)
		w.hubLog.failed(log, key, fmt.Errorf("patch status of Work %s: %w", key, err), ProbeBackoffMax)
	default:
		w.failures.Add(1)
		d := w.backoff.When(key)
		w.hold(key, a.since, d)
		w.workLog.failed(log, key, fmt.Errorf("patch status of Work %s: %w", key, err), d)
	}
}

// escalate records that the hub refused a status of the given level as too
// large, so that the next write reduces it one level further.
func (w *Writer) escalate(ctx context.Context, key string, a attempt, err error) {
	w.mu.Lock()
	r := w.reduced[key]
	if a.level == levelFull {
		r = reduction{uid: a.work.UID, generation: a.work.Generation, refused: a.size, cause: safeText(err.Error(), summaryLimit)}
	}
	r.level = a.level + 1
	w.reduced[key] = r
	w.mu.Unlock()
	log := klog.FromContext(ctx)
	if r.level >= levelNone {
		log.Error(err, "The hub refused even a bare Work status as too large; the status is not written until the Work changes", "work", key, "bytes", a.size)
		return
	}
	log.Info("The hub refused the Work status as too large; writing a reduced status", "work", key, "bytes", a.size, "level", r.level, "reason", safeText(err.Error(), summaryLimit))
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
