package agent

import (
	"net/http"
	"sort"
	"sync"
)

// health answers the probes.
//
// /healthz (liveness) fails before the clients are built, and when a
// liveness check fails: a controller that has finished no reconcile for
// --liveness-stall-timeout while it had work under way, a wedge that a
// restart clears. A leader still waiting for an unreachable hub is live:
// it retries on its own, and a restart would only wait again.
//
// /readyz (readiness) fails until the process is live and every readiness
// check passes: for the leader, joined to the hub and the hub caches
// synced. A standby replica registers no checks and is ready.
//
// A failing probe answers 503 with the failing check and its reason.
type health struct {
	mu       sync.Mutex
	live     bool
	ready    map[string]func() error
	liveness map[string]func() error
}

func newHealth() *health {
	return &health{ready: map[string]func() error{}, liveness: map[string]func() error{}}
}

func (h *health) setLive() { h.mu.Lock(); h.live = true; h.mu.Unlock() }

// addReady adds a readiness check; nil means ready.
func (h *health) addReady(name string, f func() error) { h.mu.Lock(); h.ready[name] = f; h.mu.Unlock() }

// addLive adds a liveness check; nil means live.
func (h *health) addLive(name string, f func() error) {
	h.mu.Lock()
	h.liveness[name] = f
	h.mu.Unlock()
}

func (h *health) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { h.answer(w, h.liveness) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { h.answer(w, h.ready) })
	return mux
}

// answer runs checks (in name order, so the answer is stable) and writes
// ok or the first failure.
func (h *health) answer(w http.ResponseWriter, checks map[string]func() error) {
	h.mu.Lock()
	live := h.live
	names := make([]string, 0, len(checks))
	for name := range checks {
		names = append(names, name)
	}
	fs := make([]func() error, 0, len(names))
	sort.Strings(names)
	for _, name := range names {
		fs = append(fs, checks[name])
	}
	h.mu.Unlock()
	if !live {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	for i, f := range fs {
		if err := f(); err != nil {
			http.Error(w, names[i]+": "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ok"))
}
