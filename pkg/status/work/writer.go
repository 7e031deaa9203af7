package work

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/drift"
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
	// Client writes the status: a merge patch of works/status, or an
	// Update of it (UpdateStatus).
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
	// OnDriftEpisode, if set, is told of each drift episode that begins
	// (the kind of the drifted object and its record), once per episode.
	OnDriftEpisode func(kind string, rec *drift.Record)
	// UpdateStatus writes with an Update of works/status (the Work as the
	// cache holds it, with its resourceVersion) instead of a merge patch,
	// for a hub identity that may update the status but not patch it. A
	// conflict is retried like any other refused write, from the cache.
	UpdateStatus bool
}

// ApplyOutcome is what the Work controller (pkg/execution) reports after handling a Work.
type ApplyOutcome struct {
	Generation int64
	// Applied and Dispatching are the conditions to set (Applied nil: keep the current one).
	Applied, Dispatching *metav1.Condition
	// Results by manifest ordinal (none: every manifest applied, or none
	// was applied because dispatching is suspended).
	Results map[int]manifest.Result
	// Drift is what the sync saw of each member object it applied without
	// error, by scoped identity (see Writer's drift records).
	Drift map[manifest.Key]drift.Observation
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
	drift    map[string]*workDrift
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
		drift:    map[string]*workDrift{},
	}
	w.gate = newGate(w.queue.Add)
	return w
}

// SetOutcome records the outcome of an apply and schedules a write.
func (w *Writer) SetOutcome(key string, o ApplyOutcome) {
	w.observeDrift(key, o.Drift)
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
	delete(w.drift, key)
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
