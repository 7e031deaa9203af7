// Package queue is a work queue with two priorities: new or changed objects
// go ahead of the initial list, so a restart with thousands of Works does not
// delay an edit made a second ago (the 20-minute post-restart lag Karmada
// users reported). It keeps client-go workqueue's guarantees: an item is
// processed by one worker at a time, and an item added while it is being
// processed is processed again after Done.
package queue

import (
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
)

// Priority of an item; higher goes first.
type Priority int

const (
	// Low is for the items of an informer's initial list. There are no
	// periodic resyncs to queue: the Work controller's informers run with a
	// resync period of 0.
	Low Priority = iota
	// High is for new and changed objects, drift seen in the member, and
	// retries.
	High
)

// Queue is a deduplicating two-level FIFO with per-item rate-limited retries.
type Queue struct {
	mu         sync.Mutex
	cond       *sync.Cond
	lists      [2][]string
	queued     map[string]Priority // items waiting, by the list they count in
	addedAt    map[string]time.Time
	processing map[string]time.Time // key -> when its processing started
	dirty      map[string]Priority  // added while processing
	shutdown   bool
	limiter    workqueue.TypedRateLimiter[string]
	metrics    *Metrics
}

// New returns an empty queue. metrics may be nil.
func New(limiter workqueue.TypedRateLimiter[string], metrics *Metrics) *Queue {
	q := &Queue{
		queued: map[string]Priority{}, addedAt: map[string]time.Time{},
		processing: map[string]time.Time{}, dirty: map[string]Priority{},
		limiter: limiter, metrics: metrics,
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues key at priority p, or raises the priority of a queued key.
func (q *Queue) Add(key string, p Priority) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	q.metrics.add()
	if _, busy := q.processing[key]; busy {
		if old, ok := q.dirty[key]; !ok || p > old {
			q.dirty[key] = p
		}
		return
	}
	if old, ok := q.queued[key]; ok && old >= p {
		return
	}
	q.push(key, p)
}

func (q *Queue) push(key string, p Priority) {
	if _, ok := q.queued[key]; !ok {
		q.addedAt[key] = time.Now()
	}
	q.queued[key] = p // a stale entry left in the lower list is skipped on pop
	q.lists[p] = append(q.lists[p], key)
	q.metrics.depth(len(q.queued))
	q.cond.Signal()
}

// AddAfter queues key at priority p once d has passed.
func (q *Queue) AddAfter(key string, p Priority, d time.Duration) {
	if d <= 0 {
		q.Add(key, p)
		return
	}
	time.AfterFunc(d, func() { q.Add(key, p) })
}

// AddRateLimited queues key again after its backoff.
func (q *Queue) AddRateLimited(key string) {
	q.metrics.retry()
	q.AddAfter(key, High, q.limiter.When(key))
}

// Forget resets key's backoff.
func (q *Queue) Forget(key string) { q.limiter.Forget(key) }

// Get blocks until an item is available and returns the highest-priority one.
// shutdown is true once the queue is shut down and drained of waiters.
func (q *Queue) Get() (key string, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		for p := High; p >= Low; p-- {
			for len(q.lists[p]) > 0 {
				key = q.lists[p][0]
				q.lists[p] = q.lists[p][1:]
				if cur, ok := q.queued[key]; ok && cur == p {
					delete(q.queued, key)
					q.processing[key] = time.Now()
					q.metrics.depth(len(q.queued))
					q.metrics.waited(time.Since(q.addedAt[key]))
					delete(q.addedAt, key)
					return key, false
				}
			}
		}
		if q.shutdown {
			return "", true
		}
		q.cond.Wait()
	}
}

// Done marks key processed; if it was added meanwhile it is queued again.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if started, ok := q.processing[key]; ok {
		q.metrics.processed(time.Since(started))
	}
	delete(q.processing, key)
	if p, ok := q.dirty[key]; ok {
		delete(q.dirty, key)
		q.push(key, p)
	}
}

// Len is the number of waiting items.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queued)
}

// Busy reports whether any item is waiting or being processed.
func (q *Queue) Busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queued) > 0 || len(q.processing) > 0
}

// ShutDown stops the queue: Get returns shutdown once nothing is waiting.
func (q *Queue) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	q.cond.Broadcast()
}
