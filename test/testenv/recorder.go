package testenv

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// Request is one request a Recorder saw leave a client.
type Request struct {
	Method string
	Path   string
	Query  string
	// DryRun is true for dryRun=All requests, which change nothing.
	DryRun bool
	// Body is the request body (empty for GET and DELETE without options).
	Body []byte
	// Code is the response's status code, 0 when the request failed
	// before a response (a cut link, a refused connection).
	Code int
	// At is when the response (or the failure) came back.
	At time.Time
}

// Write reports whether r changes state: a POST, PUT, PATCH or DELETE that
// is not a dry run.
func (r Request) Write() bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return !r.DryRun
	}
	return false
}

// Recorder is a request-recording transport: wrap a client's rest.Config
// with Wrap, then read what went out with Requests, Count or Writes. It
// sees every request that leaves the client, also those that never reach
// the apiserver, which an audit log cannot. Safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Wrap makes cfg's clients send their requests through r and returns cfg.
func (r *Recorder) Wrap(cfg *rest.Config) *rest.Config {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &recording{r: r, next: rt}
	})
	return cfg
}

type recording struct {
	r    *Recorder
	next http.RoundTripper
}

func (t *recording) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery,
		DryRun: strings.Contains(req.URL.RawQuery, "dryRun=All")}
	if req.Body != nil && req.Body != http.NoBody {
		raw, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(raw))
		rec.Body = raw
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		rec.Code = resp.StatusCode
	}
	rec.At = time.Now()
	t.r.mu.Lock()
	t.r.reqs = append(t.r.reqs, rec)
	t.r.mu.Unlock()
	return resp, err
}

// Requests returns a copy of the requests recorded so far that match, in
// the order their responses came back; a nil match returns all.
func (r *Recorder) Requests(match func(Request) bool) []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Request
	for _, q := range r.reqs {
		if match == nil || match(q) {
			out = append(out, q)
		}
	}
	return out
}

// Count returns how many recorded requests match.
func (r *Recorder) Count(match func(Request) bool) int { return len(r.Requests(match)) }

// Writes returns the recorded requests that change state (Request.Write).
func (r *Recorder) Writes() []Request { return r.Requests(Request.Write) }

// Reset forgets what was recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}
