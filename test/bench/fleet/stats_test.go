package fleetbench

import (
	"math"
	"testing"
	"time"

	"github.com/tether-io/tether/test/testenv"
)

func TestPercentileIsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 1: time.Millisecond} {
		if got := Percentile(d, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if d[0] != 100*time.Millisecond {
		t.Error("Percentile sorted its argument in place")
	}
	if got := Percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("one sample: p99 = %v", got)
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("no samples: %v", got)
	}
}

func TestFitLineRecoversLinesAndPowerLaws(t *testing.T) {
	ks := []float64{50, 100, 200}
	f := FitLine(ks, []float64{12 + 6*50, 12 + 6*100, 12 + 6*200})
	if math.Abs(f.Slope-6) > 1e-9 || math.Abs(f.Intercept-12) > 1e-9 || math.Abs(f.At(10000)-60012) > 1e-6 {
		t.Errorf("line: %+v", f)
	}
	q := FitLine(ks, []float64{3 * 50 * 50, 3 * 100 * 100, 3 * 200 * 200})
	if math.Abs(q.Exponent-2) > 1e-9 {
		t.Errorf("quadratic growth: exponent %v, want 2", q.Exponent)
	}
	if z := FitLine(ks, []float64{0, 1, 2}); !math.IsNaN(z.Exponent) {
		t.Errorf("a zero y has no power law, got exponent %v", z.Exponent)
	}
	if one := FitLine([]float64{50}, []float64{1}); one.Slope != 0 || !math.IsNaN(one.Exponent) {
		t.Errorf("one point: %+v", one)
	}
}

func ev(id, stage, verb, user, res string, at time.Time) testenv.AuditEvent {
	return testenv.AuditEvent{AuditID: id, Stage: stage, Verb: verb, User: user, Resource: res, Received: at, Time: at}
}

func TestRequestsCountsEachRequestOnceFromItsReceipt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := []testenv.AuditEvent{
		ev("old-watch", "ResponseComplete", "watch", "a", "works", t0.Add(-time.Minute)),
		ev("w1", "ResponseStarted", "watch", "a", "works", t0),
		ev("l1", "ResponseComplete", "list", "a", "works", t0.Add(100*time.Millisecond)),
		ev("p1", "ResponseComplete", "patch", "b", "leases", t0.Add(1500*time.Millisecond)),
		ev("w1", "ResponseComplete", "watch", "a", "works", t0.Add(2*time.Second)),
	}
	reqs := Requests(evs, t0)
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (a watch counts once, one that started before is left out): %+v", len(reqs), reqs)
	}
	if v := ByVerb(reqs); v["watch"] != 1 || v["list"] != 1 || v["patch"] != 1 {
		t.Errorf("by verb %v", v)
	}
	if p := PeakPerSecond(reqs); p != 2 {
		t.Errorf("peak %d per second, want 2", p)
	}
	reads := ReadsPerUserResource(reqs)
	if reads["a"]["works"] != 2 || len(reads["b"]) != 0 {
		t.Errorf("reads %v (a patch is not a read)", reads)
	}
}

func TestRewatchedWaitsForEveryResource(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := []testenv.AuditEvent{
		ev("1", "ResponseStarted", "watch", "a", "works", t0.Add(-time.Second)),
		ev("2", "ResponseStarted", "watch", "a", "clusters", t0.Add(-time.Second)),
		ev("3", "ResponseStarted", "watch", "a", "works", t0.Add(2*time.Second)),
		ev("4", "ResponseComplete", "watch", "a", "clusters", t0.Add(3*time.Second)),
	}
	started := WatchStarts(evs)
	if len(started["a"]) != 2 || !started["a"]["works"].Equal(t0.Add(2*time.Second)) {
		t.Errorf("watch starts %v", started)
	}
	if _, ok := Rewatched(evs, "a", []string{"works", "clusters"}, t0); ok {
		t.Error("clusters is not watched again (only a watch ended), yet Rewatched says so")
	}
	evs = append(evs, ev("5", "ResponseStarted", "watch", "a", "clusters", t0.Add(5*time.Second)),
		ev("6", "ResponseStarted", "watch", "a", "clusters", t0.Add(9*time.Second)))
	at, ok := Rewatched(evs, "a", []string{"works", "clusters"}, t0)
	if !ok || !at.Equal(t0.Add(5*time.Second)) {
		t.Errorf("Rewatched = %v, %v; want the first new watch of the last resource, at +5s", at, ok)
	}
}

func TestPerWatchedResourceCountsEveryVerbOfAWatchedResource(t *testing.T) {
	reqs := []testenv.AuditEvent{
		{Verb: "watch", Resource: "works"}, {Verb: "list", Resource: "works"}, {Verb: "watch", Resource: "works"},
		{Verb: "watch", Resource: "clusters"}, {Verb: "watch", Resource: "clusters"},
		{Verb: "update", Resource: "leases"},                      // not watched
		{Verb: "patch", Resource: "works", Subresource: "status"}, // a status write is not a read of the watch
		{Verb: "get", RequestURI: "/readyz"},
	}
	got := PerWatchedResource(reqs)
	if len(got) != 2 || got["clusters"] != 2 || got["works"] != 3 {
		t.Errorf("PerWatchedResource = %v, want clusters 2, works 3", got)
	}
	if mean, largest := MeanMax(got, 2); mean != 1.25 || largest != 1.5 {
		t.Errorf("MeanMax = %v, %v, want 1.25, 1.5", mean, largest)
	}
}
