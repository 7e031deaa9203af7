package drift

import (
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Next is the record of a manifest after a sync that saw obs, given the
// record before (nil: none), at now; episode says a new episode began
// (announce it once: an Event, a metric).
//
//   - A hub change ends the history: no record.
//   - No drift: a Corrected record stays as history; a Drifted one is
//     cleared, the member object agrees with the manifest again.
//   - Drift on the path set of the record, in the same state: the same
//     episode; only LastObserved and Repairs move.
//   - Drift on the same paths in the other state (a failed repair that
//     then went through): the same episode, in its new state.
//   - Drift on other paths: a new episode.
func Next(prev *Record, obs Observation, now time.Time) (next *Record, episode bool) {
	f := obs.Finding
	switch {
	case obs.HubChange:
		return nil, false
	case f == nil && prev != nil && prev.State == Drifted:
		return nil, false
	case f == nil:
		return prev, false
	}
	state, at := Drifted, metav1.NewTime(now.Truncate(time.Second))
	if f.Repaired {
		state = Corrected
	}
	repairs := int64(0)
	if f.Repaired {
		repairs = 1
	}
	if prev != nil && prev.Mode == f.Mode && prev.OmittedFields == f.Omitted && slices.Equal(prev.Paths(), f.Paths()) {
		r := *prev
		r.Fields = slices.Clone(prev.Fields)
		if state != prev.State {
			r.State, r.Fields = state, slices.Clone(f.Fields)
		}
		r.LastObserved, r.Repairs = at, prev.Repairs+repairs
		return &r, false
	}
	return &Record{Mode: f.Mode, State: state, Fields: slices.Clone(f.Fields), OmittedFields: f.Omitted,
		FirstObserved: at, LastObserved: at, Repairs: repairs}, true
}
