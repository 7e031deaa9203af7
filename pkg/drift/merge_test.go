package drift

import (
	"testing"
	"time"
)

func finding(repaired bool, paths ...string) *Finding {
	f := &Finding{Mode: "correct", Repaired: repaired}
	for _, p := range paths {
		f.Fields = append(f.Fields, Field{Path: p, ValueInHub: "1", ValueInMember: "2", Manager: "kubectl-edit"})
	}
	return f
}

func TestNextFollowsEpisodes(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	r, episode := Next(nil, Observation{Finding: finding(true, "/spec/replicas")}, t0)
	if !episode || r.State != Corrected || r.Repairs != 1 || !r.FirstObserved.Time.Equal(t0) {
		t.Fatalf("first drift: %+v episode %v", r, episode)
	}
	// The same paths again: the same episode, counters move, SameEpisode holds.
	r2, episode := Next(r, Observation{Finding: finding(true, "/spec/replicas")}, t0.Add(time.Minute))
	if episode || r2.Repairs != 2 || !r2.LastObserved.Time.Equal(t0.Add(time.Minute)) || !r2.FirstObserved.Time.Equal(t0) || !SameEpisode(r, r2) {
		t.Errorf("same paths: %+v episode %v", r2, episode)
	}
	if r.Repairs != 1 {
		t.Error("Next changed the record it was given")
	}
	// No drift: a Corrected record stays as history.
	if r3, _ := Next(r2, Observation{}, t0.Add(2*time.Minute)); r3 != r2 {
		t.Errorf("no drift changed a Corrected record: %+v", r3)
	}
	// Other paths: a new episode.
	r4, episode := Next(r2, Observation{Finding: finding(true, "/spec/replicas", "/spec/paused")}, t0.Add(3*time.Minute))
	if !episode || r4.Repairs != 1 || SameEpisode(r2, r4) {
		t.Errorf("other paths: %+v episode %v", r4, episode)
	}
	// A failed repair on the same paths: same episode, state Drifted, not SameEpisode.
	r5, episode := Next(r4, Observation{Finding: finding(false, "/spec/replicas", "/spec/paused")}, t0.Add(4*time.Minute))
	if episode || r5.State != Drifted || SameEpisode(r4, r5) {
		t.Errorf("failed repair: %+v episode %v", r5, episode)
	}
	// The drift went away: a Drifted record is cleared.
	if r6, _ := Next(r5, Observation{}, t0.Add(5*time.Minute)); r6 != nil {
		t.Errorf("drift gone, record %+v kept", r6)
	}
	// A hub change ends the history.
	if r7, _ := Next(r4, Observation{HubChange: true}, t0.Add(6*time.Minute)); r7 != nil {
		t.Errorf("hub change kept %+v", r7)
	}
}

func TestDecodeRecord(t *testing.T) {
	raw := []byte(`{"replicas":2,"drift":{"mode":"report","state":"Drifted","fields":[{"path":"/data/a"}],"firstObserved":"2026-01-01T10:00:00Z","lastObserved":"2026-01-01T10:00:00Z","repairs":0}}`)
	r := Decode(raw)
	if r == nil || r.State != Drifted || r.Mode != "report" || len(r.Fields) != 1 {
		t.Fatalf("decoded %+v", r)
	}
	for _, bad := range []string{``, `{}`, `[1]`, `{"drift":"x"}`, `{"drift":{"state":"Weird"}}`} {
		if Decode([]byte(bad)) != nil {
			t.Errorf("Decode(%q) is a record", bad)
		}
	}
}
