package work

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/workqueue"
)

// Retry schedule of failed status writes.
//
// A write the hub answered with an error of its own (a refused patch, a
// webhook, RBAC) is retried per Work with exponential backoff, 1s doubling
// to WorkBackoffMax, and forgotten on that Work's next successful write.
//
// A write that did not reach the hub, or that an overloaded or failing hub
// turned away (no response, 429, 5xx), says nothing about the Work: the hub
// is down. Then one write at a time probes the hub, 1s doubling to
// ProbeBackoffMax apart, and every other Work with a write due is parked.
// The first write the hub answers (success or not) proves it is back: the
// parked Works are released at once and the probe backoff is reset. So a
// hub outage costs one failed request every few seconds whatever the number
// of Works, and statuses catch up within ProbeBackoffMax plus the time to
// write them once the hub returns.
const (
	WorkBackoffBase  = time.Second
	WorkBackoffMax   = 2 * time.Minute
	ProbeBackoffBase = time.Second
	ProbeBackoffMax  = 5 * time.Second
	// FailureLogEvery spaces repeated log lines of one kind of failure; the
	// first failure of a kind is logged at once, with the count of those
	// not logged in between on the next line.
	FailureLogEvery = 5 * time.Minute
)

// hubKey is the probe backoff's single item.
const hubKey = "hub"

// hubDown reports whether err means the write did not get an answer from a
// working hub.
func hubDown(err error) bool {
	var s apierrors.APIStatus
	if !errors.As(err, &s) {
		return true
	}
	code := int(s.Status().Code)
	return (code == http.StatusTooManyRequests || code >= 500) && !tooLarge(err)
}

// gate holds back status writes while the hub is down, letting one probe
// through at a time.
type gate struct {
	mu      sync.Mutex
	backoff workqueue.TypedRateLimiter[string]
	down    bool
	probing bool
	probeAt time.Time
	parked  map[string]bool
	// wake queues a parked Work for a write.
	wake func(key string)
}

func newGate(wake func(string)) *gate {
	return &gate{
		backoff: workqueue.NewTypedItemExponentialFailureRateLimiter[string](ProbeBackoffBase, ProbeBackoffMax),
		parked:  map[string]bool{},
		wake:    wake,
	}
}

// admit reports whether key may write now; if not, key is parked until the
// hub is back or its turn to probe comes.
func (g *gate) admit(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.down {
		return true
	}
	if !g.probing && !time.Now().Before(g.probeAt) {
		g.probing = true
		delete(g.parked, key)
		return true
	}
	g.parked[key] = true
	return false
}

// reached records that the hub answered a write; it releases the parked
// Works and reports whether the hub was down until now.
func (g *gate) reached() bool {
	g.mu.Lock()
	if !g.down {
		g.mu.Unlock()
		return false
	}
	g.down, g.probing = false, false
	g.backoff.Forget(hubKey)
	parked := g.parked
	g.parked = map[string]bool{}
	g.mu.Unlock()
	for key := range parked {
		g.wake(key)
	}
	return true
}

// failed records that key's write did not reach the hub: key is parked and
// the next probe is due after the probe backoff.
func (g *gate) failed(key string) {
	g.mu.Lock()
	g.down, g.probing = true, false
	d := g.backoff.When(hubKey)
	g.probeAt = time.Now().Add(d)
	g.parked[key] = true
	g.mu.Unlock()
	time.AfterFunc(d, g.next)
}

// next wakes one parked Work to probe the hub, when a probe is due.
func (g *gate) next() {
	g.mu.Lock()
	var key string
	if g.down && !g.probing && !time.Now().Before(g.probeAt) {
		for k := range g.parked {
			key = k
			delete(g.parked, k)
			break
		}
	}
	g.mu.Unlock()
	if key != "" {
		g.wake(key)
	}
}

// forget drops a Work that is gone.
func (g *gate) forget(key string) {
	g.mu.Lock()
	delete(g.parked, key)
	g.mu.Unlock()
}

// isDown reports whether writes are being held back.
func (g *gate) isDown() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.down
}

// failureLog logs failed status writes without repeating itself: the
// first failure of each kind at once, then at most one line per kind every
// FailureLogEvery. The writer keeps one for the hub being down, which it
// resets with a line when the hub is back, and one for the errors the hub
// answers, which it never resets (a Work that keeps failing while others
// succeed would otherwise be logged on every retry).
type failureLog struct {
	mu     sync.Mutex
	every  time.Duration
	last   map[string]time.Time
	unsaid map[string]int
	streak int
	since  time.Time
}

func newFailureLog(every time.Duration) *failureLog {
	return &failureLog{every: every, last: map[string]time.Time{}, unsaid: map[string]int{}}
}

// failed logs err for key if its kind was not logged within every, and
// reports whether it did.
func (f *failureLog) failed(log logr.Logger, key string, err error, retryIn time.Duration) bool {
	kind := failureKind(err)
	now := time.Now()
	f.mu.Lock()
	if f.streak == 0 {
		f.since = now
	}
	f.streak++
	f.unsaid[kind]++
	if last, ok := f.last[kind]; ok && now.Sub(last) < f.every {
		f.mu.Unlock()
		return false
	}
	n := f.unsaid[kind]
	f.unsaid[kind], f.last[kind] = 0, now
	f.mu.Unlock()
	log.Error(err, "Writing Work status failed; retrying with backoff (repeats of this failure are logged at most every "+f.every.String()+")",
		"work", key, "failures", n, "retryIn", retryIn)
	return true
}

// recovered ends a failure streak, logging how long it lasted; the next
// failure of any kind is logged at once.
func (f *failureLog) recovered(log logr.Logger) {
	f.mu.Lock()
	if f.streak == 0 {
		f.mu.Unlock()
		return
	}
	n, since := f.streak, f.since
	f.streak = 0
	f.last, f.unsaid = map[string]time.Time{}, map[string]int{}
	f.mu.Unlock()
	log.Info("Writing Work status works again", "failedWrites", n, "after", time.Since(since).Round(time.Second))
}

// failureKind names the kind of a write error without what varies from one
// Work to the next (the URL, the object's name): the HTTP status and reason
// of an answer, or the transport error of a request that got none.
func failureKind(err error) string {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		return strconv.Itoa(int(s.Status().Code)) + " " + string(s.Status().Reason)
	}
	var u *url.Error
	if errors.As(err, &u) {
		return u.Err.Error()
	}
	return err.Error()
}
