package apply

import (
	"bytes"
	"context"
	"encoding/base64"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"github.com/tether-io/tether/pkg/drift"
)

// Drift: a member-side change to an object applied from the manifest in
// force, told apart from a change of the manifest by the applied digest
// (drift.DigestAnnotation, stamped on the manifest by its caller).
//
//   - The live object carries the manifest's digest: a difference on a field
//     the manifest sets is drift. The engine describes it (noteDrift) on the
//     entry before the apply that repairs it.
//   - It carries another digest: the manifest changed; the apply is a hub
//     change, not drift.
//   - It carries none (applied by an older Tether or by karmada-agent): the
//     engine cannot tell, reports nothing, and compares the manifest
//     without the digest (compared), so that the missing annotation alone
//     never causes a write; the object gets it with its next real apply.

// compared is desired as the engine compares it with live: without the
// digest annotation when live has none.
func compared(desired, live *unstructured.Unstructured) *unstructured.Unstructured {
	if drift.DigestOf(live) == "" && drift.DigestOf(desired) != "" {
		return drift.WithoutDigest(desired)
	}
	return desired
}

// noteDrift records on e the drift of live from desired, which is about to
// be applied over it, when live was applied from the same manifest (equal
// digests). It costs nothing for any other object; for a drifted one it may
// read the object once, for the managedFields that name the manager of
// each field (the member cache drops them).
func (a *Applier) noteDrift(ctx context.Context, e *Entry, desired, live *unstructured.Unstructured) {
	digest := drift.DigestOf(desired)
	if digest == "" || drift.DigestOf(live) != digest {
		return
	}
	secret := isSecret(desired)
	if secret {
		desired = asStored(desired)
	}
	modified, missing, err := a.driftedPaths(desired, live)
	if err != nil || len(modified)+len(missing) == 0 {
		return
	}
	managers := &managerLookup{read: func() *unstructured.Unstructured {
		if len(live.GetManagedFields()) > 0 {
			return live
		}
		fresh, err := a.get(ctx, e.GVR, live, "")
		if err != nil {
			return nil
		}
		return fresh
	}, self: a.fieldManager}
	fields, omitted := drift.Describe(desired.Object, live.Object, modified, missing, secret, managers.of)
	if len(fields) == 0 {
		return
	}
	e.Drift = &drift.Finding{Mode: driftModeCorrect, Fields: fields, Omitted: omitted, Repaired: true}
}

// driftModeCorrect is the mode of a finding the engine repairs.
const driftModeCorrect = "correct"

// driftedPaths compares live with desired over the fields desired sets:
// modified are fields whose values differ (not merely in spelling, see
// valuesDiffer), missing are fields live lacks.
func (a *Applier) driftedPaths(desired, live *unstructured.Unstructured) (modified, missing []fieldpath.Path, err error) {
	tc, desiredTV, set, err := a.desiredFields(desired)
	if err != nil {
		return nil, nil, err
	}
	liveTV, err := tc.ObjectToTyped(live, typed.AllowDuplicates)
	if err != nil {
		return nil, nil, err
	}
	want := desiredTV.ExtractItems(set, typed.WithAppendKeyFields())
	got := liveTV.ExtractItems(set, typed.WithAppendKeyFields())
	cmp, err := got.Compare(want)
	if err != nil {
		return nil, nil, err
	}
	cmp.Modified.Iterate(func(p fieldpath.Path) {
		if valuesDiffer(desired.Object, live.Object, fieldpath.NewSet(p)) {
			modified = append(modified, p.Copy())
		}
	})
	cmp.Added.Iterate(func(p fieldpath.Path) { missing = append(missing, p.Copy()) })
	return modified, missing, nil
}

// managerLookup names the manager of a drifted field from the object's
// managedFields, read at most once (read) and only when asked.
type managerLookup struct {
	read    func() *unstructured.Unstructured
	self    string
	done    bool
	entries []managerSet
}

type managerSet struct {
	manager string
	at      *metav1.Time
	set     *fieldpath.Set
}

// of returns the manager other than self that holds the field at path,
// the most recent one when several do; "" when none does.
func (m *managerLookup) of(path fieldpath.Path) string {
	m.load()
	best := managerSet{}
	for _, e := range m.entries {
		if e.set.Has(path) && (best.set == nil || (e.at != nil && best.at != nil && best.at.Before(e.at))) {
			best = e
		}
	}
	return best.manager
}

// load reads the managedFields once.
func (m *managerLookup) load() {
	if m.done {
		return
	}
	m.done = true
	obj := m.read()
	if obj == nil {
		return
	}
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager == m.self || mf.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if set.FromJSON(bytes.NewReader(mf.FieldsV1.GetRawBytes())) != nil {
			continue
		}
		m.entries = append(m.entries, managerSet{manager: mf.Manager, at: mf.Time, set: set})
	}
}

// asStored returns a Secret manifest as the apiserver stores it: its
// stringData (write-only) merged into data, base64-encoded, so that it
// compares with the live Secret. The paths found then name data.
func asStored(secret *unstructured.Unstructured) *unstructured.Unstructured {
	plain, found, err := unstructured.NestedStringMap(secret.Object, "stringData")
	if !found || err != nil {
		return secret
	}
	c := secret.DeepCopy()
	data, _, _ := unstructured.NestedMap(c.Object, "data")
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range plain {
		data[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	unstructured.RemoveNestedField(c.Object, "stringData")
	_ = unstructured.SetNestedMap(c.Object, data, "data")
	return c
}

// isSecret reports whether obj is a core Secret, whose values a drift
// finding never carries.
func isSecret(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Secret"
}
