package testenv

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// pollInterval is how often Eventually checks its condition.
const pollInterval = 200 * time.Millisecond

// Eventually checks cond every 200 ms until it returns true, and fails the
// test when timeout passes first, naming what it waited for and the last
// error cond returned. An error does not end the wait: a fault test polls
// through failing requests.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	Poll(t, pollInterval, timeout, what, func(context.Context) (bool, error) { return cond() })
}

// Poll is Eventually with its own interval, and a ctx for cond's requests
// that ends with the timeout (so that a request to a stopped apiserver
// does not outlive the wait).
func Poll(t testing.TB, interval, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), interval, timeout, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil {
		if last != nil {
			t.Fatalf("%s: not after %s; last error: %v", what, timeout, last)
		}
		t.Fatalf("%s: not after %s", what, timeout)
	}
}

// Parallel calls f(i) for every i in [0, n) from workers goroutines, and
// returns when all calls have returned: load for tests and benchmarks.
func Parallel(n, workers int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}
