package driftbench

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// record is the drift record the agent keeps on the hub, under the key
// "drift" of status.manifestStatuses[i].status. The bench reads the wire
// form itself rather than the agent's types, so it checks what the hub
// holds.
type record struct {
	Mode          string       `json:"mode"`
	State         string       `json:"state"`
	Fields        []driftField `json:"fields"`
	OmittedFields int          `json:"omittedFields"`
	FirstObserved string       `json:"firstObserved"`
	LastObserved  string       `json:"lastObserved"`
	Repairs       int64        `json:"repairs"`
}

// driftField is one drifted path. The values are kept raw: the bench
// only compares paths and managers.
type driftField struct {
	Path          string          `json:"path"`
	ValueInMember json.RawMessage `json:"valueInMember,omitempty"`
	ValueInHub    json.RawMessage `json:"valueInHub,omitempty"`
	Manager       string          `json:"manager,omitempty"`
}

// hasPath reports whether the record lists path with manager (any manager
// when manager is "").
func (r *record) hasPath(path, manager string) bool {
	for _, f := range r.Fields {
		if f.Path == path && (manager == "" || f.Manager == manager) {
			return true
		}
	}
	return false
}

// parseRecord returns the drift record in a manifest's reflected status,
// nil when there is none.
func parseRecord(status *runtime.RawExtension) (*record, error) {
	if status == nil || len(status.Raw) == 0 {
		return nil, nil
	}
	var st struct {
		Drift *record `json:"drift"`
	}
	if err := json.Unmarshal(status.Raw, &st); err != nil {
		return nil, fmt.Errorf("manifest status: the drift record is not the agreed format: %w", err)
	}
	return st.Drift, nil
}

// workRecord returns the drift record of the Work's manifest with ordinal
// 0 (each Work of the bench has one manifest), nil when there is none.
func workRecord(w *workv1alpha1.Work) (*record, error) {
	for _, ms := range w.Status.ManifestStatuses {
		if ms.Identifier.Ordinal == 0 {
			r, err := parseRecord(ms.Status)
			if err != nil {
				return nil, fmt.Errorf("work %s/%s: %w", w.Namespace, w.Name, err)
			}
			return r, nil
		}
	}
	return nil, nil
}

// dist summarises latencies by nearest-rank percentiles.
type dist struct {
	n                  int
	p50, p90, p99, max time.Duration
}

func distribution(d []time.Duration) dist {
	if len(d) == 0 {
		return dist{}
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return dist{n: len(s), p50: rank(s, 50), p90: rank(s, 90), p99: rank(s, 99), max: s[len(s)-1]}
}

// rank is the nearest-rank p-th percentile of sorted s (non-empty).
func rank(s []time.Duration, p int) time.Duration {
	i := int(math.Ceil(float64(p)/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (d dist) String() string {
	ms := func(v time.Duration) int64 { return v.Milliseconds() }
	return fmt.Sprintf("p50_ms=%d p90_ms=%d p99_ms=%d max_ms=%d n=%d", ms(d.p50), ms(d.p90), ms(d.p99), ms(d.max), d.n)
}

// episodes follows one drift episode per object through the burst: when
// the edit was made, when the member's watch saw the object back at the
// manifest's value after it, and when the hub's watch saw the Work's
// drift record. Safe for concurrent use.
type episodes struct {
	mu                 sync.Mutex
	original, edited   string
	editAt, seenEdited map[string]time.Time
	repairAt, reportAt map[string]time.Time
	latest             map[string]*record // the last record seen after the edit
}

func newEpisodes(original, edited string) *episodes {
	return &episodes{original: original, edited: edited,
		editAt: map[string]time.Time{}, seenEdited: map[string]time.Time{},
		repairAt: map[string]time.Time{}, reportAt: map[string]time.Time{}, latest: map[string]*record{}}
}

// edit records that the edit of name was acknowledged at at.
func (e *episodes) edit(name string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.editAt[name] = at
}

// member takes a member watch event: the object name holds value at at.
// The first time it holds the manifest's value after it held the edited
// one is the repair.
func (e *episodes) member(name, value string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case value == e.edited:
		if _, ok := e.seenEdited[name]; !ok {
			e.seenEdited[name] = at
		}
	case value == e.original:
		_, edited := e.seenEdited[name]
		if _, repaired := e.repairAt[name]; edited && !repaired {
			e.repairAt[name] = at
		}
	}
}

// hub takes a hub watch event: the Work name shows rec at at. The first
// record seen is the report (the bench checks that no Work has one before
// the burst); the last one is kept.
func (e *episodes) hub(name string, rec *record, at time.Time) {
	if rec == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.reportAt[name]; !ok {
		e.reportAt[name] = at
	}
	e.latest[name] = rec
}

// counts returns how many objects were edited, repaired and reported.
func (e *episodes) counts() (edited, repaired, reported int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.editAt), len(e.repairAt), len(e.reportAt)
}

// since returns, per edited object that reached to, the time from its
// edit to to (never negative: a watch may see a change before the
// client has the edit's response).
func (e *episodes) since(to func(*episodes) map[string]time.Time) []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []time.Duration
	for name, at := range to(e) {
		if edit, ok := e.editAt[name]; ok {
			out = append(out, max(at.Sub(edit), 0))
		}
	}
	return out
}

func repairs(e *episodes) map[string]time.Time { return e.repairAt }
func reports(e *episodes) map[string]time.Time { return e.reportAt }

// recordsWith counts the Works whose last record lists path with manager
// and is in state (any state when state is "").
func (e *episodes) recordsWith(path, manager, state string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, r := range e.latest {
		if r.hasPath(path, manager) && (state == "" || r.State == state) {
			n++
		}
	}
	return n
}
