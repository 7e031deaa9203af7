package leader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// ErrNotLeader is the error of a write the Gate refused.
var ErrNotLeader = errors.New("write refused: this agent replica does not hold the leader Lease")

// defaultWriteTimeout bounds a write the caller gave up on (see RoundTrip)
// when the caller set no deadline.
const defaultWriteTimeout = time.Minute

// Gate fences writes to the leader's term. Clients that write on the
// leader's behalf send through Wrap; a mutating request passes only while
// the Gate is open and the last renewal of the Lease is younger than the
// validity (RenewDeadline, shorter than the LeaseDuration another replica
// waits before it takes over). So a replica whose renewals stop writes
// nothing once its lease may have lapsed, whatever its goroutines do, and a
// release waits for the writes already sent (Drain).
//
// The zero value is not usable; build one with NewGate.
type Gate struct {
	validity time.Duration
	now      func() time.Time

	mu       sync.Mutex
	open     bool
	until    time.Time
	inflight int
}

// NewGate returns a closed Gate whose renewals are trusted for validity.
func NewGate(validity time.Duration) *Gate {
	return &Gate{validity: validity, now: time.Now}
}

// Renewed records a successful acquisition or renewal of the Lease whose
// request was sent at sent.
func (g *Gate) Renewed(sent time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until := sent.Add(g.validity); until.After(g.until) {
		g.until = until
	}
}

// Open lets writes through while the lease is valid.
func (g *Gate) Open() { g.mu.Lock(); g.open = true; g.mu.Unlock() }

// Close refuses writes from now on (until Open).
func (g *Gate) Close() { g.mu.Lock(); g.open = false; g.mu.Unlock() }

// Revoke closes the Gate and forgets the lease: no later Open lets a write
// through until the Lease is renewed again.
func (g *Gate) Revoke() { g.mu.Lock(); g.open, g.until = false, time.Time{}; g.mu.Unlock() }

// Allowed reports whether a write may start now.
func (g *Gate) Allowed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.allowed()
}

func (g *Gate) allowed() bool { return g.open && g.now().Before(g.until) }

// enter admits a write; until is when the lease it was admitted under may
// lapse. ok is false when the Gate refuses it.
func (g *Gate) enter() (until time.Time, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.allowed() {
		return time.Time{}, false
	}
	g.inflight++
	return g.until, true
}

func (g *Gate) leave() { g.mu.Lock(); g.inflight--; g.mu.Unlock() }

// InFlight is the number of writes sent and not yet answered.
func (g *Gate) InFlight() int { g.mu.Lock(); defer g.mu.Unlock(); return g.inflight }

// Drain waits until every write that passed the Gate has its answer, or
// ctx ends.
func (g *Gate) Drain(ctx context.Context) error {
	err := wait.PollUntilContextCancel(ctx, 10*time.Millisecond, true, func(context.Context) (bool, error) {
		return g.InFlight() == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%d writes still in flight: %w", g.InFlight(), err)
	}
	return nil
}

// Wrap returns rt behind the Gate; use it as a rest.Config's WrapTransport.
func (g *Gate) Wrap(rt http.RoundTripper) http.RoundTripper {
	return &gatedTransport{gate: g, next: rt}
}

type gatedTransport struct {
	gate *Gate
	next http.RoundTripper
}

// RoundTrip sends reads, watches and dry runs as they are. A write passes
// only while the Gate allows it, is abandoned if it is not written out
// before the lease it passed under may lapse, and once sent it is seen through to its
// answer even if its caller's context ends (bounded by the caller's
// deadline, or a minute), so that Drain knows when the server is done with
// it.
func (t *gatedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !mutating(req) {
		return t.next.RoundTrip(req)
	}
	until, ok := t.gate.enter()
	if !ok {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, ErrNotLeader)
	}
	ctx, cancel := detach(req.Context())
	// A write not yet on the wire when its lease may have lapsed (the process
	// was frozen between the Gate and the socket) is abandoned, not sent late.
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) }})
	lapse := time.AfterFunc(time.Until(until), func() {
		if !wrote.Load() {
			cancel()
		}
	})
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	lapse.Stop()
	t.gate.leave()
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// detach keeps ctx's values and deadline but not its cancellation.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultWriteTimeout)
	}
	return context.WithDeadline(context.WithoutCancel(ctx), deadline)
}

// mutating reports whether req may change state on the server: anything
// but GET, HEAD and OPTIONS (reads, lists and watches), except dry runs.
func mutating(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return len(req.URL.Query()["dryRun"]) == 0
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
