package hubconn

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tether-io/tether/test/testenv"
)

// hub is a stand-in for the hub's transport: down refuses connections,
// starting answers everything with 403 (an apiserver whose authorizer is
// not ready, /readyz included), up answers 200.
type hub struct {
	mu       sync.Mutex
	state    string
	requests map[string]int // by method and path, answered or refused
	probing  atomic.Int32   // probes in flight
	overlap  atomic.Bool    // two probes were in flight at once
}

func newHub() *hub { return &hub{state: "up", requests: map[string]int{}} }

func (h *hub) set(state string) { h.mu.Lock(); h.state = state; h.mu.Unlock() }

func (h *hub) count(key string) int { h.mu.Lock(); defer h.mu.Unlock(); return h.requests[key] }

func (h *hub) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	state := h.state
	h.requests[req.Method+" "+req.URL.Path]++
	h.mu.Unlock()
	if req.URL.Path == "/readyz" {
		if h.probing.Add(1) > 1 {
			h.overlap.Store(true)
		}
		defer h.probing.Add(-1)
		runtime.Gosched() // let another probe start while this one is in flight, were the gate to send one
	}
	code := 200
	switch {
	case state == "down":
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	case state == "starting":
		code = 403
	}
	return &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

// downHub is a hub that is down, behind g.
func downHub(g *Gate) (*hub, *Gate, http.RoundTripper) {
	h := newHub()
	h.set("down")
	return h, g, g.Wrap(h)
}

func fastGate() *Gate {
	return New(Config{FirstProbe: time.Millisecond, MaxProbe: 5 * time.Millisecond})
}

// send makes one request through rt and returns its status code.
func send(ctx context.Context, rt http.RoundTripper, method, path string, body io.Reader) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, method, "https://hub.example:6443"+path, body)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func get(ctx context.Context, rt http.RoundTripper, path string) (int, error) {
	return send(ctx, rt, http.MethodGet, path, nil)
}

func TestRequestsPassWhileTheHubIsReachable(t *testing.T) {
	h := newHub()
	rt := fastGate().Wrap(h)
	for range 3 {
		if code, err := get(context.Background(), rt, "/api/v1/pods"); err != nil || code != 200 {
			t.Fatalf("GET: %d %v", code, err)
		}
	}
	if n := h.count("GET /readyz"); n != 0 {
		t.Errorf("%d probes while the hub answered, want 0", n)
	}
}

// TestReadsWaitForTheHubAndResume: reads that find the hub down wait; no
// request but one probe at a time reaches the hub until /readyz says
// ready (the 403s of a starting apiserver never reach a caller), then each
// read is sent once more and succeeds.
func TestReadsWaitForTheHubAndResume(t *testing.T) {
	h, g, rt := downHub(fastGate())
	const readers = 8
	codes := make(chan int, readers)
	for range readers {
		go func() {
			code, err := get(context.Background(), rt, "/apis/work.karmada.io/v1alpha1/works")
			if err != nil {
				t.Errorf("a held read returned %v, want it sent again once the hub is ready", err)
			}
			codes <- code
		}()
	}
	waitFor(t, "the gate down and probing", func() bool { return g.Down() && h.count("GET /readyz") >= 3 })
	h.set("starting")
	before := h.count("GET /apis/work.karmada.io/v1alpha1/works")
	waitFor(t, "ten probes of a starting hub", func() bool { return h.count("GET /readyz") >= 10 })
	if n := h.count("GET /apis/work.karmada.io/v1alpha1/works") - before; n != 0 {
		t.Errorf("%d reads reached a hub that was not ready, want 0", n)
	}
	h.set("up")
	for range readers {
		if code := <-codes; code != 200 {
			t.Errorf("a held read got %d, want 200", code)
		}
	}
	if g.Down() {
		t.Error("the gate is still down after the hub became ready")
	}
	if h.overlap.Load() {
		t.Error("two probes were in flight at once, want one per gate")
	}
}

// TestWritesAreNotSentTwice: a write that finds the hub down returns its
// error; a write made while the hub is down waits and is sent once.
func TestWritesAreNotSentTwice(t *testing.T) {
	h, _, rt := downHub(fastGate())
	post := func(ctx context.Context) (int, error) {
		return send(ctx, rt, http.MethodPost, "/api/v1/events", strings.NewReader("{}"))
	}
	if _, err := post(context.Background()); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("a write to a down hub returned %v, want its connection error", err)
	}
	if n := h.count("POST /api/v1/events"); n != 1 {
		t.Fatalf("the write was sent %d times, want 1", n)
	}
	done := make(chan int, 1)
	go func() { code, _ := post(context.Background()); done <- code }()
	waitFor(t, "two probes", func() bool { return h.count("GET /readyz") >= 2 })
	if n := h.count("POST /api/v1/events"); n != 1 {
		t.Errorf("a write was sent while the hub was down (%d sent), want it held", n)
	}
	h.set("up")
	if code := <-done; code != 200 {
		t.Errorf("the held write got %d, want 200", code)
	}
	if n := h.count("POST /api/v1/events"); n != 2 {
		t.Errorf("%d writes sent, want 2 (each once)", n)
	}
}

// TestAHeldRequestEndsWithItsContext: a held request returns when its
// caller gives up, and another waiter takes over the probing.
func TestAHeldRequestEndsWithItsContext(t *testing.T) {
	h, _, rt := downHub(fastGate())
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := get(ctx, rt, "/a"); first <- err }()
	waitFor(t, "two probes", func() bool { return h.count("GET /readyz") >= 2 })
	second := make(chan int, 1)
	go func() { code, _ := get(context.Background(), rt, "/b"); second <- code }()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled request returned %v, want context.Canceled", err)
	}
	n := h.count("GET /readyz")
	waitFor(t, "another waiter probing", func() bool { return h.count("GET /readyz") > n+2 })
	h.set("up")
	if code := <-second; code != 200 {
		t.Errorf("the second request got %d, want 200", code)
	}
}

// TestPatienceWithAHubThatIsNeverReady: a hub that answers but keeps
// failing /readyz opens the gate after the patience.
func TestPatienceWithAHubThatIsNeverReady(t *testing.T) {
	h, g, rt := downHub(New(Config{FirstProbe: time.Millisecond, MaxProbe: 5 * time.Millisecond, Patience: 50 * time.Millisecond}))
	done := make(chan int, 1)
	go func() { code, _ := get(context.Background(), rt, "/a"); done <- code }()
	waitFor(t, "the gate down", func() bool { return g.Down() })
	h.set("starting")
	select {
	case code := <-done:
		if code != 403 {
			t.Errorf("got %d, want the hub's own answer (403)", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the gate stayed down for 30 s with a hub that answers")
	}
}

func TestUnreachable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: errors.New("no route")}, true},
		{syscall.ECONNRESET, true},
		{io.ErrUnexpectedEOF, true},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{errors.New("x509: certificate signed by unknown authority"), false},
	} {
		if got := unreachable(c.err); got != c.want {
			t.Errorf("unreachable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestReadyzURL(t *testing.T) {
	u := mustURL(t, "https://hub.example:6443/apis/x?watch=true")
	if got := readyzURL(nil, u); got != "https://hub.example:6443/readyz" {
		t.Errorf("readyzURL(nil) = %s", got)
	}
	if got := readyzURL(mustURL(t, "https://proxy.example/k8s/clusters/c-1/"), u); got != "https://proxy.example/k8s/clusters/c-1/readyz" {
		t.Errorf("readyzURL(prefix) = %s", got)
	}
}

// waitFor polls cond with a deadline (testenv.Eventually, without an
// apiserver: this package's tests need none).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, what, func() (bool, error) { return cond(), nil })
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestWithoutResendIsNeverSentAfterAnOutage: a read made WithoutResend
// that finds the hub down returns its error at once, and one made while
// the hub is down waits and then fails with ErrWaitedOut, unsent.
func TestWithoutResendIsNeverSentAfterAnOutage(t *testing.T) {
	h, _, rt := downHub(fastGate())
	ctx := WithoutResend(context.Background())
	if _, err := get(ctx, rt, "/watch"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("first read: %v, want its connection error", err)
	}
	done := make(chan error, 1)
	go func() { _, err := get(ctx, rt, "/watch"); done <- err }()
	waitFor(t, "two probes", func() bool { return h.count("GET /readyz") >= 2 })
	h.set("up")
	if err := <-done; !errors.Is(err, ErrWaitedOut) {
		t.Errorf("a read that waited out the outage returned %v, want ErrWaitedOut", err)
	}
	if n := h.count("GET /watch"); n != 1 {
		t.Errorf("the reads reached the hub %d times, want 1 (the first, refused)", n)
	}
	if code, err := get(ctx, rt, "/watch"); err != nil || code != 200 {
		t.Errorf("a read once the hub is back: %d %v", code, err)
	}
}
