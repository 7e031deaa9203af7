package work

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var workGR = schema.GroupResource{Group: "work.karmada.io", Resource: "works"}

func refused() error {
	return &url.Error{Op: "Patch", URL: "https://127.0.0.1:1/apis/work.karmada.io/v1alpha1/namespaces/ns/works/w1/status",
		Err: &netError{syscall.ECONNREFUSED}}
}

type netError struct{ err error }

func (e *netError) Error() string { return "dial tcp 127.0.0.1:1: connect: " + e.err.Error() }

func TestErrorClasses(t *testing.T) {
	etcd := apierrors.NewInternalError(errors.New("etcdserver: request is too large"))
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: "work.karmada.io", Kind: "Work"}, "w",
		field.ErrorList{field.TooLong(field.NewPath("status", "conditions").Index(0).Child("message"), "", 32768)})
	cases := []struct {
		name          string
		err           error
		large, hubOut bool
	}{
		{"413 from the body limit", apierrors.NewRequestEntityTooLargeError("limit is 3145728"), true, false},
		{"etcd's request is too large", etcd, true, false},
		{"the etcd client's message limit", apierrors.NewInternalError(errors.New("rpc error: code = ResourceExhausted desc = trying to send message larger than max (2253160 vs. 2097152)")), true, false},
		{"a value too long", invalid, true, false},
		{"connection refused", refused(), false, true},
		{"503", apierrors.NewServiceUnavailable("x"), false, true},
		{"429", apierrors.NewTooManyRequests("slow down", 1), false, true},
		{"500", apierrors.NewInternalError(errors.New("boom")), false, true},
		{"409", apierrors.NewConflict(workGR, "w", errors.New("x")), false, false},
		{"403", apierrors.NewForbidden(workGR, "w", errors.New("x")), false, false},
	}
	for _, c := range cases {
		if got := tooLarge(c.err); got != c.large {
			t.Errorf("%s: tooLarge = %v", c.name, got)
		}
		if got := hubDown(c.err); got != c.hubOut {
			t.Errorf("%s: hubDown = %v", c.name, got)
		}
	}
}

func TestWorkBackoffSchedule(t *testing.T) {
	w := New(Config{})
	var got []time.Duration
	for range 10 {
		got = append(got, w.backoff.When("ns/w"))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 120, 120, 120}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("backoff = %v, want %v seconds", got, want)
		}
	}
	if d := w.backoff.When("ns/other"); d != time.Second {
		t.Errorf("another Work starts at %s", d)
	}
	w.Forget("ns/w")
	if d := w.backoff.When("ns/w"); d != time.Second {
		t.Errorf("after Forget: %s", d)
	}
}

// While the hub is down one Work at a time probes it, 1s doubling to 5s
// apart; the others are parked and all woken when the hub answers.
func TestGateProbesOneAtATimeAndReleasesAll(t *testing.T) {
	var mu sync.Mutex
	var woken []string
	g := newGate(func(k string) { mu.Lock(); woken = append(woken, k); mu.Unlock() })
	if !g.admit("a") {
		t.Fatal("an up hub held a write")
	}
	g.failed("a")
	for _, k := range []string{"b", "c", "d"} {
		if g.admit(k) {
			t.Fatalf("%s was let through while the hub is down and no probe is due", k)
		}
	}
	var delays []time.Duration
	for range 5 {
		g.mu.Lock()
		delays = append(delays, time.Until(g.probeAt).Round(time.Second))
		g.probeAt = time.Now() // the probe is due
		g.mu.Unlock()
		if !g.admit("b") || g.admit("c") {
			t.Fatal("not exactly one probe")
		}
		g.failed("b")
	}
	if want := []time.Duration{1, 2, 4, 5, 5}; !sameSeconds(delays, want) {
		t.Errorf("probe delays = %v, want %v s", delays, want)
	}
	if !g.reached() || g.isDown() {
		t.Fatal("an answer did not bring the hub up")
	}
	mu.Lock()
	slices.Sort(woken)
	got := strings.Join(woken, ",")
	mu.Unlock()
	if got != "a,b,c,d" {
		t.Errorf("woken %s, want every parked Work", got)
	}
	if g.reached() {
		t.Error("reached reported a recovery twice")
	}
	g.failed("a")
	g.mu.Lock()
	d := time.Until(g.probeAt)
	g.mu.Unlock()
	if d > 1500*time.Millisecond {
		t.Errorf("the probe backoff was not reset by the recovery: %s", d)
	}
}

func sameSeconds(got []time.Duration, want []time.Duration) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i]*time.Second {
			return false
		}
	}
	return true
}

// A failure streak is logged once per kind of failure, again when the kind
// changes, at most every interval, and once when it ends.
func TestFailureLogSaysEachThingOnce(t *testing.T) {
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})
	f := newFailureLog(time.Hour)
	for i := range 300 {
		err := refused()
		err.(*url.Error).URL += string(rune('a' + i%26)) // each Work has its own URL
		f.failed(log, "ns/w", err, time.Second)
	}
	if len(lines) != 1 {
		t.Fatalf("300 refused connections logged %d lines", len(lines))
	}
	f.failed(log, "ns/w", apierrors.NewServiceUnavailable("x"), time.Second)
	f.failed(log, "ns/w", apierrors.NewServiceUnavailable("x"), time.Second)
	if len(lines) != 2 {
		t.Fatalf("a new kind of failure: %d lines, want 2", len(lines))
	}
	f.mu.Lock()
	for k := range f.last {
		f.last[k] = time.Now().Add(-2 * time.Hour)
	}
	f.mu.Unlock()
	f.failed(log, "ns/w", refused(), time.Second)
	if len(lines) != 3 || !strings.Contains(lines[2], `"failures"=300`) {
		t.Fatalf("after the interval: %d lines, last %q; want the count of what was not said", len(lines), lines[len(lines)-1])
	}
	f.recovered(log)
	f.recovered(log)
	if len(lines) != 4 || !strings.Contains(lines[3], "works again") {
		t.Fatalf("recovery: %q", lines)
	}
	f.failed(log, "ns/w", refused(), time.Second)
	if len(lines) != 5 {
		t.Error("the first failure after a recovery was not logged")
	}
}
