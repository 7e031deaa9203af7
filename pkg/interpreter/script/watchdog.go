package script

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// heapMetric is the bytes of heap objects, live or not yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

// sampleEvery is how often the watchdog reads the heap while calls run.
const sampleEvery = time.Millisecond

// watchdog stops calls when the Go heap grows by more than budget bytes
// over its lowest size since the call started (a collection that frees
// the garbage made before the call lowers the mark). It cannot tell which goroutine
// allocated, so a sample over the budget is only a suspicion: garbage the
// rest of the agent made counts too. A suspicion is confirmed by a
// collection; only when the heap is still over the budget afterwards are
// the calls running at that moment stopped, and otherwise the next
// collection waits for another budget of growth, measured from the live
// heap it found. It samples only while calls run.
type watchdog struct {
	budget uint64

	mu      sync.Mutex
	calls   map[*tracked]struct{}
	running bool
}

type tracked struct {
	base   uint64 // lowest heap seen since the call started
	gate   uint64 // heap after which a collection confirms; base at first
	cancel func()
	fired  bool
}

func newWatchdog(budget uint64) *watchdog {
	return &watchdog{budget: budget, calls: map[*tracked]struct{}{}}
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// track watches a call until the returned stop, which reports whether the
// watchdog cancelled it.
func (w *watchdog) track(cancel func()) (stop func() bool) {
	base := heapBytes()
	t := &tracked{base: base, gate: base, cancel: cancel}
	w.mu.Lock()
	w.calls[t] = struct{}{}
	if !w.running {
		w.running = true
		go w.loop()
	}
	w.mu.Unlock()
	return func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.calls, t)
		return t.fired
	}
}

// loop samples the heap until no call is tracked.
func (w *watchdog) loop() {
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for range tick.C {
		if !w.sample(heapBytes()) {
			return
		}
	}
}

// sample checks the calls against the heap now; false when none is left.
func (w *watchdog) sample(now uint64) bool {
	w.mu.Lock()
	if len(w.calls) == 0 {
		w.running = false
		w.mu.Unlock()
		return false
	}
	suspect := false
	for t := range w.calls {
		t.base, t.gate = min(t.base, now), min(t.gate, now)
		suspect = suspect || !t.fired && now-t.gate > w.budget
	}
	w.mu.Unlock()
	if !suspect {
		return true
	}
	runtime.GC() // sweeps too: what is left is live
	after := heapBytes()
	w.mu.Lock()
	defer w.mu.Unlock()
	for t := range w.calls {
		switch {
		case t.fired:
		case after > t.base && after-t.base > w.budget:
			t.fired = true
			t.cancel()
		default: // from here on, growth is measured from a live heap
			t.base = min(t.base, after)
			t.gate = max(t.gate, after)
		}
	}
	return true
}
