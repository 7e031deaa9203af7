package hubconn

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// DefaultMaxProbe is the default bound of the wait between probes.
const DefaultMaxProbe = 8 * time.Second

// Config tunes a Gate; zero values take the defaults.
type Config struct {
	// FirstProbe and MaxProbe bound the wait before each probe: it is drawn
	// from [0, d) with d doubling from FirstProbe (default 500ms) up to
	// MaxProbe (default DefaultMaxProbe).
	FirstProbe, MaxProbe time.Duration
	// Base is the hub's URL (rest.DefaultServerUrlFor), with the path
	// prefix of a hub served behind one; nil: the scheme and host of the
	// request that found the hub unreachable.
	Base *url.URL
	// Patience is how long the Gate waits for /readyz to say ready while the
	// hub answers it with errors; after that any answer opens the Gate, so a
	// hub that serves requests but keeps failing one readiness check does
	// not hold the agent back for good (default 1m).
	Patience time.Duration
	// Observe, if set, is told when the hub becomes unreachable (false) and
	// reachable again (true), and of each probe's outcome.
	Observe Observer
}

// Observer is told what the Gate sees; pkg/agent turns it into metrics.
type Observer interface {
	Reachable(bool)
	Probed(ready bool)
}

// Gate is the hub's reachability, shared by every client of one hub. The
// zero value is not usable; build one with New.
type Gate struct {
	cfg Config

	mu      sync.Mutex
	down    bool          // the hub is unreachable: requests wait
	since   time.Time     // when it became unreachable
	outages uint64        // how many times it became unreachable
	probing bool          // one waiting request is probing
	changed chan struct{} // closed when down or probing changes
}

// New returns an open Gate.
func New(cfg Config) *Gate {
	if cfg.FirstProbe <= 0 {
		cfg.FirstProbe = 500 * time.Millisecond
	}
	if cfg.MaxProbe < cfg.FirstProbe {
		cfg.MaxProbe = max(DefaultMaxProbe, cfg.FirstProbe)
	}
	if cfg.Patience <= 0 {
		cfg.Patience = time.Minute
	}
	return &Gate{cfg: cfg, changed: make(chan struct{})}
}

// Wrap sends rt's requests through the Gate; use it as a rest.Config's
// WrapTransport. rt must carry the hub's credentials: the probes use it.
func (g *Gate) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper{g: g, rt: rt}
}

// Down reports whether the hub is unreachable now.
func (g *Gate) Down() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.down
}

// Outages counts the times the hub became unreachable since the Gate was
// built. A reader that must not resume across an outage (the deletion
// guard's Work informer, which relists instead) compares it with the count
// at its last list.
func (g *Gate) Outages() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.outages
}

type roundTripper struct {
	g  *Gate
	rt http.RoundTripper
}

// RoundTrip waits while the hub is unreachable, then sends req. A read
// (GET, which includes lists and watches) that fails because the hub is
// unreachable waits and is sent again; any other request, and one made
// WithoutResend, returns its error.
func (r roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	once := ctx.Value(withoutResendKey{}) != nil
	for {
		waited, err := r.g.wait(ctx, r.rt, req.URL)
		if err != nil {
			return nil, err
		}
		if waited && once {
			return nil, ErrWaitedOut
		}
		resp, err := r.rt.RoundTrip(req)
		if err == nil || ctx.Err() != nil || !unreachable(err) {
			return resp, err
		}
		r.g.markDown()
		if once || req.Method != http.MethodGet || req.Body != nil && req.Body != http.NoBody {
			return resp, err
		}
	}
}

// ErrWaitedOut is the error of a request made WithoutResend that waited
// for the hub to be reachable again: it was not sent.
var ErrWaitedOut = errors.New("the hub was unreachable while the request waited; it was not sent")

type withoutResendKey struct{}

// WithoutResend marks the requests made with ctx as ones whose caller must
// hear of an outage: such a request is never sent after waiting one out
// (it waits, then fails with ErrWaitedOut) nor sent again after failing.
// The deletion guard's Work watch is one: after an outage it lists instead
// of resuming, and a watch request sent only to be abandoned would cost
// the hub a request.
func WithoutResend(ctx context.Context) context.Context {
	return context.WithValue(ctx, withoutResendKey{}, true)
}

// markDown closes the Gate: the hub could not be reached.
func (g *Gate) markDown() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.down {
		return
	}
	g.down, g.since = true, time.Now()
	g.outages++
	g.notify()
	if g.cfg.Observe != nil {
		g.cfg.Observe.Reachable(false)
	}
}

// notify wakes the waiters; g.mu is held.
func (g *Gate) notify() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// wait returns once the hub is reachable, or ctx's error. While the hub is
// down, one waiter probes it (with its own ctx); the others wait for the
// outcome, and one of them takes over if the prober's ctx ends;
// waited is whether it found the hub unreachable at all.
func (g *Gate) wait(ctx context.Context, rt http.RoundTripper, u *url.URL) (waited bool, err error) {
	for {
		g.mu.Lock()
		if !g.down {
			g.mu.Unlock()
			return waited, nil
		}
		waited = true
		if !g.probing {
			g.probing = true
			g.mu.Unlock()
			g.probeUntilReady(ctx, rt, u)
			continue
		}
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return waited, ctx.Err()
		}
	}
}

// probeUntilReady probes the hub until it is ready (and opens the Gate) or
// ctx ends (and hands the probing to another waiter).
func (g *Gate) probeUntilReady(ctx context.Context, rt http.RoundTripper, u *url.URL) {
	defer func() {
		g.mu.Lock()
		g.probing = false
		g.notify()
		g.mu.Unlock()
	}()
	target := readyzURL(g.cfg.Base, u)
	g.mu.Lock()
	since := g.since
	g.mu.Unlock()
	d := g.cfg.FirstProbe
	for {
		t := time.NewTimer(rand.N(d) + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		answered, ready := probe(ctx, rt, target)
		if g.cfg.Observe != nil {
			g.cfg.Observe.Probed(ready)
		}
		if ready || answered && time.Since(since) > g.cfg.Patience {
			g.mu.Lock()
			g.down = false
			g.mu.Unlock()
			if g.cfg.Observe != nil {
				g.cfg.Observe.Reachable(true)
			}
			return
		}
		d = min(2*d, g.cfg.MaxProbe)
	}
}

// unreachable reports whether err says the hub could not be reached (no
// connection, or one that broke before a response), as opposed to an
// answer or the caller giving up.
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, e := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
		syscall.ECONNABORTED, syscall.EPIPE, io.EOF, io.ErrUnexpectedEOF} {
		if errors.Is(err, e) {
			return true
		}
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
