package queue

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/util/workqueue"
)

func newQueue() *Queue {
	return New(workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Millisecond, time.Second), nil)
}

func TestHighGoesFirstAndFIFOWithinPriority(t *testing.T) {
	q := newQueue()
	q.Add("l1", Low)
	q.Add("l2", Low)
	q.Add("h1", High)
	q.Add("l3", Low)
	q.Add("l2", High) // raised: jumps ahead of l1 and l3
	q.Add("h1", Low)  // never lowered
	var got []string
	for q.Len() > 0 {
		k, _ := q.Get()
		got = append(got, k)
		q.Done(k)
	}
	want := []string{"h1", "l2", "l1", "l3"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestAddWhileProcessingRequeuesAfterDone(t *testing.T) {
	q := newQueue()
	q.Add("a", Low)
	k, _ := q.Get()
	q.Add("a", High)
	if q.Len() != 0 {
		t.Fatal("an item being processed was queued twice")
	}
	q.Done(k)
	if q.Len() != 1 {
		t.Fatal("an item added while processing was not requeued after Done")
	}
}

func TestShutDownReleasesGet(t *testing.T) {
	q := newQueue()
	done := make(chan bool)
	go func() { _, shutdown := q.Get(); done <- shutdown }()
	q.ShutDown()
	select {
	case shutdown := <-done:
		if !shutdown {
			t.Fatal("Get returned an item after ShutDown")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Get did not return after ShutDown")
	}
}

func TestAddRateLimitedComesBack(t *testing.T) {
	q := newQueue()
	q.AddRateLimited("x")
	got := make(chan string)
	go func() { k, _ := q.Get(); got <- k }()
	select {
	case k := <-got:
		if k != "x" {
			t.Fatalf("got %q", k)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a rate-limited item never came back")
	}
}

func TestMetricsCountAddsDepthAndProcessed(t *testing.T) {
	reg := prometheus.NewRegistry()
	q := New(workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Millisecond, time.Second), NewMetrics(reg, "work"))
	q.Add("a", Low)
	q.Add("b", High)
	if got := gather(t, reg)["workqueue_depth"]; got != 2 {
		t.Fatalf("depth %v, want 2", got)
	}
	for q.Len() > 0 {
		k, _ := q.Get()
		q.Done(k)
	}
	want := map[string]float64{"workqueue_depth": 0, "workqueue_adds_total": 2,
		"workqueue_work_duration_seconds": 2, "workqueue_queue_duration_seconds": 2}
	got := gather(t, reg)
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
}

// gather reads each series' value (a histogram's sample count).
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		m := f.GetMetric()[0]
		switch {
		case m.GetHistogram() != nil:
			out[f.GetName()] = float64(m.GetHistogram().GetSampleCount())
		case m.GetGauge() != nil:
			out[f.GetName()] = m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			out[f.GetName()] = m.GetCounter().GetValue()
		}
	}
	return out
}
