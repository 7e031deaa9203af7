package leader

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// backend answers every request 200 after release is closed (or at once
// when release is nil), counting what reached it.
type backend struct {
	reached atomic.Int32
	release chan struct{}
	sawDone atomic.Bool // a request's context ended before it was answered
}

func (b *backend) RoundTrip(req *http.Request) (*http.Response, error) {
	b.reached.Add(1)
	if b.release != nil {
		<-b.release
	}
	if req.Context().Err() != nil {
		b.sawDone.Store(true)
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

func request(t *testing.T, ctx context.Context, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestGateRefusesWritesOutsideTheTerm(t *testing.T) {
	now := time.Now()
	g := NewGate(10 * time.Second)
	g.now = func() time.Time { return now }
	b := &backend{}
	rt := g.Wrap(b)
	send := func(method, url string) error {
		resp, err := rt.RoundTrip(request(t, context.Background(), method, url))
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	const lease = "https://member/apis/apps/v1/namespaces/default/deployments/web"
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
		if err := send(m, lease+"?watch=true"); err != nil {
			t.Errorf("%s through a closed gate: %v, want it sent", m, err)
		}
	}
	if err := send(http.MethodPatch, lease+"?dryRun=All&fieldManager=tether"); err != nil {
		t.Errorf("a dry run through a closed gate: %v, want it sent", err)
	}
	steps := []struct {
		what  string
		step  func()
		allow bool
	}{
		{"closed, never renewed", func() {}, false},
		{"renewed but not opened", func() { g.Renewed(now) }, false},
		{"renewed and opened", g.Open, true},
		{"9s after the renewal", func() { now = now.Add(9 * time.Second) }, true},
		{"11s after the renewal (validity 10s)", func() { now = now.Add(2 * time.Second) }, false},
		{"renewed again", func() { g.Renewed(now) }, true},
		{"an older renewal does not shorten it", func() { g.Renewed(now.Add(-time.Hour)) }, true},
		{"closed", g.Close, false},
		{"reopened", g.Open, true},
		{"revoked", g.Revoke, false},
		{"opened after the revoke", g.Open, false},
	}
	for _, s := range steps {
		s.step()
		before := b.reached.Load()
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			err := send(m, lease)
			switch {
			case s.allow && err != nil:
				t.Errorf("%s: %s refused: %v", s.what, m, err)
			case !s.allow && !errors.Is(err, ErrNotLeader):
				t.Errorf("%s: %s got %v, want ErrNotLeader", s.what, m, err)
			}
		}
		if got := b.reached.Load() - before; (got == 4) != s.allow || (got == 0) == s.allow {
			t.Errorf("%s: %d of 4 writes reached the server", s.what, got)
		}
	}
}

// A write already sent is seen through when its caller gives up, and Drain
// waits for its answer: the release of the Lease must not overtake it.
func TestGateDrainWaitsForWritesInFlight(t *testing.T) {
	g := NewGate(time.Minute)
	g.Renewed(time.Now())
	g.Open()
	b := &backend{release: make(chan struct{})}
	rt := g.Wrap(b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, err := rt.RoundTrip(request(t, ctx, http.MethodPost, "https://hub/apis/work.karmada.io/v1alpha1/works"))
		if err != nil {
			t.Errorf("write: %v", err)
			return
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}()
	if err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return b.reached.Load() > 0, nil
	}); err != nil {
		t.Fatalf("the write never reached the server: %v", err)
	}
	cancel()
	g.Revoke()
	short, stop := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer stop()
	if err := g.Drain(short); err == nil {
		t.Fatal("Drain returned while a write was at the server")
	}
	close(b.release)
	if err := g.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if b.sawDone.Load() {
		t.Error("the write's context ended at the server when its caller gave up; a sent write must be seen through")
	}
}

// frozenBeforeTheWire holds a request, as a process frozen between the Gate
// and the socket would, then sends it with the context it was given.
type frozenBeforeTheWire struct {
	hold time.Duration
	next http.RoundTripper
}

func (f frozenBeforeTheWire) RoundTrip(r *http.Request) (*http.Response, error) {
	timer := time.NewTimer(f.hold)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-r.Context().Done():
	}
	return f.next.RoundTrip(r)
}

// TestWriteNotSentBeforeTheLeaseLapsesIsAbandoned: a write admitted just
// before the lease may lapse, and not written out until after, never
// reaches the server; one written in time is seen through.
func TestWriteNotSentBeforeTheLeaseLapsesIsAbandoned(t *testing.T) {
	var received atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	g := NewGate(200 * time.Millisecond)
	g.Renewed(time.Now())
	g.Open()
	late := &http.Client{Transport: g.Wrap(frozenBeforeTheWire{hold: time.Second, next: http.DefaultTransport})}
	req, _ := http.NewRequest(http.MethodPatch, srv.URL, strings.NewReader("{}"))
	if resp, err := late.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a write held past its lease was sent")
	}
	if n := received.Load(); n != 0 {
		t.Fatalf("the server received %d writes sent after the lease lapsed", n)
	}
	g.Renewed(time.Now())
	prompt := &http.Client{Transport: g.Wrap(http.DefaultTransport)}
	req, _ = http.NewRequest(http.MethodPatch, srv.URL, strings.NewReader("{}"))
	resp, err := prompt.Do(req)
	if err != nil {
		t.Fatalf("a write within the lease failed: %v", err)
	}
	resp.Body.Close()
	if n := received.Load(); n != 1 {
		t.Fatalf("the server received %d writes, want 1", n)
	}
}
