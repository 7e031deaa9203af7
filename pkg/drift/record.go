package drift

import (
	"encoding/json"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// State is where a drift episode stands.
type State string

const (
	// Drifted: the member object differs from the manifest now (mode
	// report, or a repair that failed).
	Drifted State = "Drifted"
	// Corrected: the drift was found and repaired.
	Corrected State = "Corrected"
)

// RecordKey is the key of the record in a manifest's status entry on the
// Work (status.manifestStatuses[i].status), next to the reflected status.
const RecordKey = "drift"

// Record is what a Work's status keeps of the last drift episode of one
// manifest: an episode is one drifted path set, from when it was first
// observed until the path set or its state changes, or the manifest
// changes on the hub (which ends the history).
type Record struct {
	Mode  string `json:"mode"`
	State State  `json:"state"`
	// Fields are the drifted fields (Finding.Fields); OmittedFields counts
	// those left out for the status bounds.
	Fields        []Field     `json:"fields,omitempty"`
	OmittedFields int         `json:"omittedFields,omitempty"`
	FirstObserved metav1.Time `json:"firstObserved"`
	LastObserved  metav1.Time `json:"lastObserved"`
	// Repairs counts the repairs in this episode.
	Repairs int64 `json:"repairs"`
}

// Paths lists the record's paths, in order.
func (r *Record) Paths() []string {
	out := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		out[i] = f.Path
	}
	return out
}

// SameEpisode reports whether a and b describe one episode in one state:
// the same mode, state, paths and first observation. Records that differ
// only in what an episode accumulates (when it was last observed, how many
// repairs, the values seen) are not worth a status write of their own.
func SameEpisode(a, b *Record) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Mode == b.Mode && a.State == b.State && a.OmittedFields == b.OmittedFields &&
		a.FirstObserved.Equal(&b.FirstObserved) && slices.Equal(a.Paths(), b.Paths())
}

// Decode reads a record from a manifest's status entry (the JSON object in
// status.manifestStatuses[i].status); nil when it holds none or one that
// does not decode.
func Decode(status []byte) *Record {
	if len(status) == 0 {
		return nil
	}
	var entry map[string]json.RawMessage
	if json.Unmarshal(status, &entry) != nil || entry[RecordKey] == nil {
		return nil
	}
	r := &Record{}
	if json.Unmarshal(entry[RecordKey], r) != nil || (r.State != Drifted && r.State != Corrected) {
		return nil
	}
	return r
}
