package work

import (
	"encoding/json"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
)

// build computes the status the Work should have: the current conditions
// updated with the apply outcome, and one manifestStatuses entry per manifest.
// pending says a member cache was still syncing for some manifest.
func (w *Writer) build(work *workv1alpha1.Work, outcome ApplyOutcome, hasOutcome bool) (status workv1alpha1.WorkStatus, pending bool) {
	for _, c := range work.Status.Conditions {
		c := *c.DeepCopy()
		c.Message = TruncateMessage(c.Message)
		status.Conditions = append(status.Conditions, c)
	}
	if hasOutcome {
		for _, c := range []*metav1.Condition{outcome.Applied, outcome.Dispatching} {
			if c != nil {
				c := *c
				c.Message = TruncateMessage(c.Message)
				meta.SetStatusCondition(&status.Conditions, c)
			}
		}
	}
	key := work.Namespace + "/" + work.Name
	for i, h := range w.headers(work) {
		ms, p := w.manifestStatus(i, h, outcome.applyError(i))
		if h.err == nil {
			ms.Status = withRecord(ms.Status, w.driftRecord(key, work.Status, ms.Identifier))
		}
		status.ManifestStatuses = append(status.ManifestStatuses, ms)
		pending = pending || p
	}
	return status, pending
}

// manifestStatus reports one manifest: its identifier always (from the
// manifest, so even a manifest that failed to apply is identified), the
// apply error if any, else the reflected status and health of the live object.
//
// For an object that is present the entry is karmada-agent's: the same
// identifier (resource left empty), reflected status and health. Tether's
// extensions only add what karmada-agent leaves out: an entry, with health
// Unknown, for a manifest that failed to decode or apply
// ({"applyError": ...}), whose status could not be read
// ({"reflectError": ...}) or whose object is missing ({"observed": ...}),
// where karmada-agent writes no entry at all; and the entries of every
// manifest of a Work of several, where karmada-agent keeps only the last
// one it reflected. build adds the drift record (drift.go).
func (w *Writer) manifestStatus(ordinal int, h header, applyErr string) (workv1alpha1.ManifestStatus, bool) {
	ms := workv1alpha1.ManifestStatus{Identifier: workv1alpha1.ResourceIdentifier{Ordinal: ordinal}, Health: workv1alpha1.ResourceUnknown}
	if h.err != nil {
		ms.Status = rawStatus(map[string]any{"applyError": safeText(h.err.Error(), TextLimit)})
		return ms, false
	}
	id := h.id
	ms.Identifier.Group, ms.Identifier.Version = id.Group, id.Version
	ms.Identifier.Kind, ms.Identifier.Namespace, ms.Identifier.Name = id.Kind, id.Namespace, id.Name
	if applyErr != "" {
		ms.Status = rawStatus(map[string]any{"applyError": safeText(applyErr, TextLimit)})
		return ms, false
	}
	ans := w.cfg.Live.Live(id)
	switch ans.State {
	case member.Absent:
		ms.Status = rawStatus(map[string]any{"observed": "the object does not exist in the member cluster"})
		return ms, false
	case member.Unknown:
		return ms, false
	case member.Pending:
		return ms, true
	}
	live := ans.Object
	if ms.Identifier.Namespace == "" {
		ms.Identifier.Namespace = ans.ID.Namespace // scoped: "default" for a namespaced kind
	}
	if w.cfg.Reflect != nil {
		reflected, err := w.cfg.Reflect(live)
		if err != nil {
			ms.Status = rawStatus(map[string]any{"reflectError": safeText(err.Error(), TextLimit)})
		} else {
			ms.Status = boundStatus(reflected, StatusLimit)
		}
	}
	if w.cfg.Health != nil {
		var err error
		if ms.Health, err = w.cfg.Health(live); err != nil {
			ms.Status = withEntry(ms.Status, "healthError", safeText(err.Error(), TextLimit))
		}
	}
	return ms, false
}

// withEntry adds key to a reflected status that is a JSON object, or
// returns an object with key alone.
func withEntry(status *runtime.RawExtension, key, value string) *runtime.RawExtension {
	m := map[string]any{}
	if status != nil && json.Unmarshal(status.Raw, &m) != nil {
		m = map[string]any{}
	}
	m[key] = value
	return rawStatus(m)
}

// header is what the status needs of a manifest: its identity as written,
// or why it could not be decoded.
type header struct {
	id  manifest.Identity
	err error
}

// headerCache holds the decoded headers of one Work generation, so a status
// write does not decode every manifest again.
type headerCache struct {
	uid        types.UID
	generation int64
	headers    []header
}

// headers returns the Work's manifest headers, decoding them once per generation.
func (w *Writer) headers(work *workv1alpha1.Work) []header {
	key := work.Namespace + "/" + work.Name
	w.mu.Lock()
	c, ok := w.decoded[key]
	w.mu.Unlock()
	if ok && c.uid == work.UID && c.generation == work.Generation && len(c.headers) == len(work.Spec.Workload.Manifests) {
		return c.headers
	}
	hs := make([]header, len(work.Spec.Workload.Manifests))
	for i, m := range manifest.DecodeWork(work) {
		if m.Err != nil {
			hs[i].err = m.Err // names what is wrong, never the manifest's content
			continue
		}
		hs[i].id = m.ID
	}
	w.mu.Lock()
	w.decoded[key] = headerCache{uid: work.UID, generation: work.Generation, headers: hs}
	w.mu.Unlock()
	return hs
}

// sameStatus reports whether next, the status to write, says what cur, the
// hub's, already says, reading reflected statuses as JSON values (the hub
// may order keys differently from the reflector).
//
// A condition of cur without observedGeneration matches the same condition
// of next with one. karmada-agent never sets observedGeneration; Tether sets
// it on Applied and Dispatching (an extension: the control plane does not
// read it), and it alone is not worth a write: when Tether takes over from
// karmada-agent, every Work would be rewritten once for it. It goes out
// with the next change that is written.
func sameStatus(next, cur workv1alpha1.WorkStatus) bool {
	canon := func(s workv1alpha1.WorkStatus) workv1alpha1.WorkStatus {
		c := *s.DeepCopy()
		for i := range c.ManifestStatuses {
			if r := c.ManifestStatuses[i].Status; r != nil {
				var v any
				if json.Unmarshal(r.Raw, &v) == nil {
					r.Raw, _ = json.Marshal(v)
				}
			}
		}
		return c
	}
	a, b := canon(next), canon(cur)
	for i := range a.Conditions {
		if i < len(b.Conditions) && b.Conditions[i].ObservedGeneration == 0 && b.Conditions[i].Type == a.Conditions[i].Type {
			a.Conditions[i].ObservedGeneration = 0
		}
	}
	return equality.Semantic.DeepEqual(a, b)
}

func rawStatus(v map[string]any) *runtime.RawExtension {
	raw, _ := json.Marshal(v)
	return &runtime.RawExtension{Raw: raw}
}
