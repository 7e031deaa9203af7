package deletion

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Defaults of Config.
const (
	// DefaultThreshold is --bulk-delete-threshold: a batch must hold more
	// Works than this to be held.
	DefaultThreshold = 10
	// DefaultFraction: a batch must also hold more than this fraction of the
	// cluster's Works.
	DefaultFraction = 0.10
	// DefaultGrace is --held-delete-grace: held deletes proceed after it
	// unless confirmed earlier. The README explains the choice.
	DefaultGrace = 24 * time.Hour
)

// EventReasonHeld is the reason of the Warning Event posted on a held Work.
const EventReasonHeld = "BulkDeletionHeld"

// Config wires a Guard.
type Config struct {
	// ClusterName names the cluster in messages.
	ClusterName string
	// Threshold: a batch is held only when it has more Works than this
	// (--bulk-delete-threshold). A negative value turns the guard off.
	Threshold int
	// Fraction: and only when it has more than this fraction of the listed
	// Works (default 0.10).
	Fraction float64
	// Grace after which held deletes proceed without a confirmation
	// (--held-delete-grace); 0 waits for a confirmation however long.
	Grace time.Duration
	// Registerer receives the guard's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Recorder posts one Warning Event per held Work per hold (optional).
	// Its scheme must know Work (the generated clientset's scheme does).
	Recorder record.EventRecorder
	// Release is called, outside any lock, with the keys (namespace/name) of
	// the Works released, so that the caller requeues them (optional).
	Release func(workKeys []string)
	// Clock measures the grace (default real).
	Clock clock.Clock
}

// Guard holds the member deletes of Works found terminating in bulk after
// the agent was away. All methods are safe for concurrent use.
type Guard struct {
	cfg     Config
	metrics *metrics
	changed chan struct{} // Changed: a status write is due
	wake    chan struct{} // Run: a new hold may expire earlier

	mu       sync.Mutex
	held     map[string]*hold     // by Work key
	allowed  map[string]types.UID // terminating Works whose deletes proceed
	lastHeld time.Time            // when the held set last went from or to empty
	confirm  *string              // the confirmation value last seen; nil before the first Cluster
}

// hold is one held Work.
type hold struct {
	uid     types.UID
	episode *episode
	warned  bool // its Warning Event was posted
}

// episode is one batch held from one list.
type episode struct {
	at            time.Time
	batch, listed int
	initial       bool
}

// New builds a Guard; Run releases its holds after the grace.
func New(cfg Config) *Guard {
	if cfg.Fraction <= 0 {
		cfg.Fraction = DefaultFraction
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	return &Guard{
		cfg: cfg, metrics: newMetrics(cfg.Registerer),
		changed: make(chan struct{}, 1), wake: make(chan struct{}, 1),
		held: map[string]*hold{}, allowed: map[string]types.UID{}, lastHeld: cfg.Clock.Now(),
	}
}

// ObserveList records one complete list of this cluster's Works from the
// hub: the first list after a start (initial) or a relist. The Works found
// terminating in it that the guard had not seen before form a batch; when
// the batch has more than Threshold Works and more than Fraction of the
// listed Works, all of them are held. It also forgets Works the list no
// longer has.
func (g *Guard) ObserveList(works []*workv1alpha1.Work, initial bool) {
	g.mu.Lock()
	listed := map[string]types.UID{}
	var batch []*workv1alpha1.Work
	for _, w := range works {
		key := keyOf(w)
		listed[key] = w.UID
		if !deletesMembers(w) || g.knownLocked(key, w.UID) {
			continue
		}
		batch = append(batch, w)
	}
	g.pruneLocked(listed)
	bulk := g.cfg.Threshold >= 0 && len(batch) > g.cfg.Threshold && float64(len(batch)) > g.cfg.Fraction*float64(len(works))
	if !bulk {
		for _, w := range batch {
			g.allowed[keyOf(w)] = w.UID
		}
		g.mu.Unlock()
		return
	}
	ep := &episode{at: g.cfg.Clock.Now(), batch: len(batch), listed: len(works), initial: initial}
	wasEmpty := len(g.held) == 0
	for _, w := range batch {
		g.held[keyOf(w)] = &hold{uid: w.UID, episode: ep}
	}
	if wasEmpty {
		g.lastHeld = ep.at
	}
	g.metrics.held.Set(float64(len(g.held)))
	g.mu.Unlock()
	klog.Background().Info("Holding the member deletes of Works found terminating in bulk",
		"cluster", g.cfg.ClusterName, "held", len(batch), "listed", len(works), "afterStart", initial, "grace", g.cfg.Grace)
	g.signal(g.changed)
	g.signal(g.wake)
}

// ObserveWatched records a terminating Work that a watch event brought:
// its deletes were seen while connected and proceed, even if a list finds
// it still terminating before the agent got to it (a relist in the middle
// of a mass delete must not hold what was already seen one by one). A held
// Work stays held.
func (g *Guard) ObserveWatched(w *workv1alpha1.Work) {
	if !deletesMembers(w) {
		return
	}
	key := keyOf(w)
	g.mu.Lock()
	defer g.mu.Unlock()
	if h, ok := g.held[key]; ok && h.uid == w.UID {
		return
	}
	g.allowed[key] = w.UID
}

// knownLocked reports whether the guard already decided about this Work:
// it is held, or its deletes were allowed.
func (g *Guard) knownLocked(key string, uid types.UID) bool {
	if h, ok := g.held[key]; ok && h.uid == uid {
		return true
	}
	u, ok := g.allowed[key]
	return ok && u == uid
}

// pruneLocked forgets Works a complete list no longer has (or has with
// another UID).
func (g *Guard) pruneLocked(listed map[string]types.UID) {
	for key, u := range g.allowed {
		if listed[key] != u {
			delete(g.allowed, key)
		}
	}
	var gone []string
	for key, h := range g.held {
		if listed[key] != h.uid {
			gone = append(gone, key)
		}
	}
	g.dropLocked(gone)
}

// Allow reports whether the member deletes of a terminating Work may
// proceed now. When they may not, why says why and how to release them;
// the first refusal of each hold posts a Warning Event on the Work.
// A Work that is not terminating is always allowed.
func (g *Guard) Allow(work *workv1alpha1.Work) (ok bool, why string) {
	if work.DeletionTimestamp == nil {
		return true, ""
	}
	key := keyOf(work)
	g.mu.Lock()
	h, held := g.held[key]
	if held && h.uid != work.UID { // a new Work of the same name
		g.dropLocked([]string{key})
		held = false
	}
	if !held {
		g.allowed[key] = work.UID
		g.mu.Unlock()
		return true, ""
	}
	why = g.heldMessage(h.episode)
	warn := !h.warned
	h.warned = true
	g.mu.Unlock()
	if warn && g.cfg.Recorder != nil {
		g.cfg.Recorder.Event(work, corev1.EventTypeWarning, EventReasonHeld, why)
	}
	return false, why
}

// Forget drops what the guard knows of a Work that is gone.
func (g *Guard) Forget(workKey string) {
	g.mu.Lock()
	delete(g.allowed, workKey)
	g.dropLocked([]string{workKey})
	g.mu.Unlock()
}

// dropLocked removes held Works without releasing them (they are gone).
func (g *Guard) dropLocked(keys []string) {
	n := len(g.held)
	for _, k := range keys {
		delete(g.held, k)
	}
	if len(g.held) == n {
		return
	}
	if len(g.held) == 0 {
		g.lastHeld = g.cfg.Clock.Now()
	}
	g.metrics.held.Set(float64(len(g.held)))
	g.signal(g.changed)
}

// Held returns the keys of the held Works, sorted.
func (g *Guard) Held() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	keys := make([]string, 0, len(g.held))
	for k := range g.held {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Changed receives a value when the guard's condition may have changed, so
// that the Cluster status is written promptly. It has one receiver.
func (g *Guard) Changed() <-chan struct{} { return g.changed }

func (g *Guard) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// heldMessage says why an episode's Works are held and how to release them.
func (g *Guard) heldMessage(ep *episode) string {
	when := "after the agent started"
	if !ep.initial {
		when = "after the agent reconnected"
	}
	return fmt.Sprintf("The bulk-deletion guard holds this Work's member deletes: %d of the %d Works of cluster %s were found already terminating when the agent listed the hub %s "+
		"(more than --bulk-delete-threshold=%d and %.0f%% of its Works). %s",
		ep.batch, ep.listed, g.cfg.ClusterName, when, g.cfg.Threshold, g.cfg.Fraction*100, g.releaseHint(ep.at))
}

// releaseHint says how held deletes are released.
func (g *Guard) releaseHint(heldAt time.Time) string {
	confirm := fmt.Sprintf("To delete, run 'tether-agent deletes confirm %s' (it sets annotation %s on Cluster %s)",
		g.cfg.ClusterName, confirmAnnotation, g.cfg.ClusterName)
	if g.cfg.Grace <= 0 {
		return confirm + "; nothing is deleted until then (--held-delete-grace=0)."
	}
	return fmt.Sprintf("%s; otherwise they proceed at %s (--held-delete-grace=%s).",
		confirm, heldAt.Add(g.cfg.Grace).UTC().Format(time.RFC3339), g.cfg.Grace)
}

func keyOf(w *workv1alpha1.Work) string { return w.Namespace + "/" + w.Name }

// deletesMembers reports whether a Work is terminating with member deletes
// waiting for the agent: it carries the execution-controller finalizer and
// does not preserve its resources.
func deletesMembers(w *workv1alpha1.Work) bool {
	if w.DeletionTimestamp == nil || !slices.Contains(w.Finalizers, workv1alpha1.ExecutionControllerFinalizer) {
		return false
	}
	return w.Spec.PreserveResourcesOnDeletion == nil || !*w.Spec.PreserveResourcesOnDeletion
}
