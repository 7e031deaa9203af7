package driftbench

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

func TestParseRecord(t *testing.T) {
	raw := `{"readyReplicas":1,"drift":{"mode":"correct","state":"Corrected","omittedFields":2,
		"firstObserved":"2026-12-07T17:00:00Z","lastObserved":"2026-12-07T17:00:01Z","repairs":3,
		"fields":[{"path":"/data/key","valueInMember":"\"edited\"","valueInHub":"\"v0\"","manager":"kubectl-edit"},
		          {"path":"/data/other"}]}}`
	rec, err := parseRecord(&runtime.RawExtension{Raw: []byte(raw)})
	if err != nil || rec == nil {
		t.Fatalf("parseRecord: %v, %v", rec, err)
	}
	if rec.Mode != "correct" || rec.State != "Corrected" || rec.OmittedFields != 2 || rec.Repairs != 3 || len(rec.Fields) != 2 {
		t.Errorf("parsed %+v", rec)
	}
	if !rec.hasPath("/data/key", "kubectl-edit") || !rec.hasPath("/data/other", "") {
		t.Errorf("hasPath misses a listed path: %+v", rec.Fields)
	}
	if rec.hasPath("/data/key", "someone-else") || rec.hasPath("/data/other", "kubectl-edit") || rec.hasPath("/spec", "") {
		t.Errorf("hasPath finds what is not listed: %+v", rec.Fields)
	}
	// Values may be JSON text in a string or plain JSON.
	if _, err := parseRecord(&runtime.RawExtension{Raw: []byte(`{"drift":{"fields":[{"path":"/a","valueInMember":3,"valueInHub":{"x":1}}]}}`)}); err != nil {
		t.Errorf("plain JSON values: %v", err)
	}
}

func TestParseRecordAbsentOrBad(t *testing.T) {
	for _, raw := range []string{"", `{}`, `{"readyReplicas":1}`, `{"applyError":"x"}`, `{"drift":null}`} {
		rec, err := parseRecord(&runtime.RawExtension{Raw: []byte(raw)})
		if err != nil || rec != nil {
			t.Errorf("%q: got %v, %v; want no record", raw, rec, err)
		}
	}
	if rec, err := parseRecord(nil); err != nil || rec != nil {
		t.Errorf("nil status: got %v, %v", rec, err)
	}
	for _, raw := range []string{`{"drift":"Drifted"}`, `{"drift":{"fields":{}}}`, `{"drift":{"repairs":"x"}}`, `[`} {
		if _, err := parseRecord(&runtime.RawExtension{Raw: []byte(raw)}); err == nil {
			t.Errorf("%q: want an error", raw)
		}
	}
}

func TestWorkRecordTakesOrdinalZero(t *testing.T) {
	w := &workv1alpha1.Work{Status: workv1alpha1.WorkStatus{ManifestStatuses: []workv1alpha1.ManifestStatus{
		{Identifier: workv1alpha1.ResourceIdentifier{Ordinal: 1}, Status: &runtime.RawExtension{Raw: []byte(`{"drift":{"state":"Drifted"}}`)}},
		{Identifier: workv1alpha1.ResourceIdentifier{Ordinal: 0}, Status: &runtime.RawExtension{Raw: []byte(`{"drift":{"state":"Corrected"}}`)}},
	}}}
	rec, err := workRecord(w)
	if err != nil || rec == nil || rec.State != "Corrected" {
		t.Fatalf("workRecord: %+v, %v; want ordinal 0's Corrected", rec, err)
	}
	if rec, err := workRecord(&workv1alpha1.Work{}); err != nil || rec != nil {
		t.Errorf("a Work without status: %v, %v", rec, err)
	}
}

func TestDistribution(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := distribution(d)
	want := dist{n: 100, p50: 50 * time.Millisecond, p90: 90 * time.Millisecond, p99: 99 * time.Millisecond, max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("distribution(1..100 ms) = %+v, want %+v", got, want)
	}
	if d[0] != 100*time.Millisecond {
		t.Error("distribution sorted its input in place")
	}
	if got := distribution([]time.Duration{7 * time.Millisecond}); got.p50 != 7*time.Millisecond || got.p99 != 7*time.Millisecond || got.n != 1 {
		t.Errorf("one sample: %+v", got)
	}
	if got := distribution(nil); got != (dist{}) {
		t.Errorf("no samples: %+v", got)
	}
	if s := distribution([]time.Duration{1500 * time.Microsecond}).String(); s != "p50_ms=1 p90_ms=1 p99_ms=1 max_ms=1 n=1" {
		t.Errorf("String() = %q", s)
	}
}

func TestEpisodes(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	e := newEpisodes("v0", "edited")
	e.member("a", "v0", at(0)) // the object before the burst: no repair
	e.edit("a", at(10))
	e.member("a", "edited", at(12))
	e.member("a", "edited", at(13)) // another event with the edit in
	e.member("a", "v0", at(40))     // the repair
	e.member("a", "v0", at(90))     // a later event: not the repair
	e.edit("b", at(10))
	e.member("b", "v0", at(11)) // seen before the edit's event: not a repair
	e.member("b", "edited", at(20))
	e.edit("c", at(10))
	e.member("c", "v0", at(5)) // the watch is ahead of the edit's response
	e.member("c", "edited", at(6))
	e.member("c", "v0", at(8))
	e.hub("a", nil, at(20)) // a status without a record
	e.hub("a", &record{State: "Drifted", Fields: []driftField{{Path: "/data/key", Manager: "kubectl-edit"}}}, at(50))
	e.hub("a", &record{State: "Corrected", Fields: []driftField{{Path: "/data/key", Manager: "kubectl-edit"}}}, at(70))
	e.hub("b", &record{State: "Drifted", Fields: []driftField{{Path: "/data/key"}}}, at(60))

	edited, repaired, reported := e.counts()
	if edited != 3 || repaired != 2 || reported != 2 {
		t.Fatalf("counts = %d, %d, %d; want 3 edited, 2 repaired (a, c), 2 reported (a, b)", edited, repaired, reported)
	}
	if got := distribution(e.since(repairs)); got.n != 2 || got.p50 != 0 || got.max != 30*time.Millisecond {
		t.Errorf("time to repair %+v; want c at 0 (clamped) and a at 30 ms", got)
	}
	if got := distribution(e.since(reports)); got.n != 2 || got.p50 != 40*time.Millisecond || got.max != 50*time.Millisecond {
		t.Errorf("time to report %+v; want the first record: a at 40 ms, b at 50 ms", got)
	}
	if n := e.recordsWith("/data/key", "kubectl-edit", "Corrected"); n != 1 {
		t.Errorf("records with the path, manager and Corrected: %d, want 1 (a's last record)", n)
	}
	if n := e.recordsWith("/data/key", "", ""); n != 2 {
		t.Errorf("records with the path: %d, want 2", n)
	}
	if n := e.recordsWith("/data/key", "kubectl-edit", "Drifted"); n != 0 {
		t.Errorf("records Drifted by kubectl-edit: %d, want 0 (a's last record is Corrected, b names no manager)", n)
	}
}
