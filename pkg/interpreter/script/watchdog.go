package script

import (
	"runtime/metrics"
	"sync"
	"time"
)

// heapMetric is the bytes of heap objects, live or not yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

// sampleEvery is how often the watchdog reads the heap while calls run.
const sampleEvery = time.Millisecond

// watchdog stops calls when the Go heap grows by more than budget bytes
// over its size when the oldest running call started. It cannot tell
// which call allocated, so it stops every call running at that moment; it
// samples only while calls run.
type watchdog struct {
	budget uint64

	mu      sync.Mutex
	calls   map[*tracked]struct{}
	running bool
}

type tracked struct {
	base   uint64
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
	t := &tracked{base: heapBytes(), cancel: cancel}
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
		now := heapBytes()
		w.mu.Lock()
		if len(w.calls) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		for t := range w.calls {
			if !t.fired && now > t.base && now-t.base > w.budget {
				t.fired = true
				t.cancel()
			}
		}
		w.mu.Unlock()
	}
}
