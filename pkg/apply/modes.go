package apply

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/structured-merge-diff/v6/value"

	"github.com/tether-io/tether/pkg/drift"
)

// Drift modes. Each manifest says, with annotations (pkg/drift), what the
// engine does when the member object differs from it: correct (apply it),
// report (record the drift and write nothing), or ignore a list of paths.
//
// Ignored paths are neither compared nor applied once the object exists
// (its creation carries the manifest whole: the manifest's values are the
// first ones). An object whose only differences lie under ignored paths is
// unchanged, so a member controller that writes them (an autoscaler's
// spec.replicas) causes no apply. When an apply is needed for another
// reason, the ignored paths are left out of it, so that Tether gives up
// its ownership of those another manager owns too, and never takes a path
// back from the member's controllers; a path Tether alone owns is applied
// at its live value instead, as leaving it out would delete it.

// driftPolicy reads desired's drift policy, with the engine's default
// mode; an invalid annotation is a TerminalError on that object.
func (a *Applier) driftPolicy(desired *unstructured.Unstructured) (drift.Policy, error) {
	p, err := drift.PolicyOf(desired.GetAnnotations(), a.driftMode)
	if err != nil {
		return p, &TerminalError{Subject: Subject(desired), Reason: "invalid drift policy", Err: err}
	}
	return p, nil
}

// followMode applies desired's drift policy to the apply over live. It
// returns the object to apply, or done when e is final (failed, or
// unchanged apart from what the policy leaves alone).
func (a *Applier) followMode(ctx context.Context, e *Entry, desired, live *unstructured.Unstructured) (_ *unstructured.Unstructured, done bool) {
	policy, err := a.driftPolicy(desired)
	if err != nil {
		e.Action, e.Err = Failed, err
		return nil, true
	}
	if policy.Mode != drift.Ignore {
		return desired, false
	}
	out, done, err := a.ignorePaths(ctx, e, desired, live, policy.Ignore)
	if err != nil {
		e.Action, e.Err = Failed, fmt.Errorf("%s: drift mode %s: %w", e.Subject, drift.Ignore, err)
		return nil, true
	}
	return out, done
}

// holdDrift sets the mode in force on the drift found on e (noteDrift),
// and under report keeps it: nothing is written, the finding is recorded
// as not repaired, and e is final. A hub change (another digest) is no
// finding, and is applied under every mode.
func (a *Applier) holdDrift(e *Entry, desired *unstructured.Unstructured) bool {
	if e.Drift == nil {
		return false
	}
	policy, err := a.driftPolicy(desired)
	if err != nil { // checked before the apply began
		return false
	}
	e.Drift.Mode = string(policy.Mode)
	if policy.Mode != drift.Report {
		return false
	}
	e.Drift.Repaired = false
	e.Action, e.DecidedBy = Unchanged, "drift-mode report"
	return true
}

// ignorePaths compares desired with live leaving out the fields under the
// pointers, and when they differ elsewhere returns desired without those
// fields, but for the ones Tether alone owns, which it carries at their
// live value.
func (a *Applier) ignorePaths(ctx context.Context, e *Entry, desired, live *unstructured.Unstructured, pointers []drift.Pointer) (*unstructured.Unstructured, bool, error) {
	tc, desiredTV, desiredSet, err := a.desiredFields(desired)
	if err != nil {
		// Without the member's schema nothing is compared locally: apply
		// the ignored paths at their live values, which changes none.
		return carryLive(desired, live, pointers), false, nil
	}
	owned := a.ownedFields(live)
	if owned == nil && len(live.GetManagedFields()) == 0 {
		// The cache's record of Tether's entry is not at hand (the cache
		// moved on meanwhile, or Tether never applied the object): read
		// the object, rather than apply over what may be unchanged.
		fresh, err := a.get(ctx, e.GVR, live, "")
		if err != nil {
			return nil, true, err
		}
		if fresh != nil {
			live, owned = fresh, a.ownedFields(fresh)
		}
	}
	ignored := covered(desiredSet, pointers, desired.Object, live.Object)
	if owned != nil {
		ignored = ignored.Union(covered(owned, pointers, desired.Object, live.Object))
	}
	if ignored.Empty() {
		return desired, false, nil
	}
	if v, _ := a.compareExcept(desired, live, ignored); v == same {
		a.stats.localSame.Add(1)
		e.Action, e.DecidedBy = Unchanged, "fieldset"
		return nil, true, nil
	}
	keep, err := a.soleOwned(ctx, e.GVR, live, owned, ignored)
	if err != nil {
		return nil, true, err
	}
	out, err := withoutIgnored(tc, desiredTV, desiredSet.Intersection(ignored), live, keep)
	if err != nil {
		return nil, true, err
	}
	return out, false, nil
}

// soleOwned returns the fields of ignored that Tether owns and no other
// manager does. The member cache keeps only Tether's own entry, so the
// other managers' entries are read with a GET, and only when Tether owns an
// ignored field: an apply follows anyway.
func (a *Applier) soleOwned(ctx context.Context, gvr schema.GroupVersionResource, live *unstructured.Unstructured, owned, ignored *fieldpath.Set) (*fieldpath.Set, error) {
	if owned == nil || owned.Intersection(ignored).Empty() {
		return &fieldpath.Set{}, nil
	}
	entries := live.GetManagedFields()
	if len(entries) == 0 {
		fresh, err := a.get(ctx, gvr, live, "")
		if err != nil || fresh == nil {
			return &fieldpath.Set{}, err // gone: the apply re-creates it, with nothing to keep
		}
		entries = fresh.GetManagedFields()
	}
	mine, others := &fieldpath.Set{}, &fieldpath.Set{}
	for _, mf := range entries {
		if mf.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(mf.FieldsV1.GetRawBytes())); err != nil {
			return nil, fmt.Errorf("fields of manager %s: %w", mf.Manager, err)
		}
		if mf.Manager == a.fieldManager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" {
			mine = set
			continue
		}
		others = others.Union(set)
	}
	return mine.Intersection(ignored).Difference(others), nil
}

// withoutIgnored returns desired without the fields in remove, and with the
// fields in keep at their live values.
func withoutIgnored(tc managedfields.TypeConverter, desired *typed.TypedValue, remove *fieldpath.Set, live *unstructured.Unstructured, keep *fieldpath.Set) (*unstructured.Unstructured, error) {
	tv := desired.RemoveItems(remove)
	if !keep.Empty() {
		liveTV, err := tc.ObjectToTyped(live, typed.AllowDuplicates)
		if err != nil {
			return nil, fmt.Errorf("type live: %w", err)
		}
		if tv, err = tv.Merge(liveTV.ExtractItems(keep, typed.WithAppendKeyFields())); err != nil {
			return nil, fmt.Errorf("keep the live values of the fields only Tether owns: %w", err)
		}
	}
	obj, ok := tv.AsValue().Unstructured().(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the manifest without its ignored paths is not an object")
	}
	pruneEmptied(obj, desired.AsValue().Unstructured())
	return &unstructured.Unstructured{Object: obj}, nil
}

// pruneEmptied deletes from obj the maps that removing fields emptied:
// maps that are empty in obj but not in orig, where they came from.
func pruneEmptied(obj map[string]any, orig any) {
	om, _ := orig.(map[string]any)
	for k, v := range obj {
		m, isMap := v.(map[string]any)
		if !isMap {
			continue
		}
		pruneEmptied(m, om[k])
		if was, _ := om[k].(map[string]any); len(m) == 0 && len(was) > 0 {
			delete(obj, k)
		}
	}
}

// carryLive returns desired with the value under each pointer that desired
// sets replaced by live's (removed where live has none).
func carryLive(desired, live *unstructured.Unstructured, pointers []drift.Pointer) *unstructured.Unstructured {
	out := desired.DeepCopy()
	for _, p := range pointers {
		if _, set := lookup(out.Object, p); !set {
			continue
		}
		v, found := lookup(live.Object, p)
		setOrDelete(out.Object, p, runtime.DeepCopyJSONValue(v), found)
	}
	return out
}

// covered returns the paths of set whose JSON pointer, as they resolve in
// the first of objs that holds them, lies under one of pointers.
func covered(set *fieldpath.Set, pointers []drift.Pointer, objs ...map[string]any) *fieldpath.Set {
	out := &fieldpath.Set{}
	set.Iterate(func(p fieldpath.Path) {
		if pathCovered(p, pointers, objs) {
			out.Insert(p)
		}
	})
	return out
}

// pathCovered resolves p into JSON pointer tokens step by step (a list
// item, named by key or value, is its index) and reports whether some
// pointer covers it.
func pathCovered(p fieldpath.Path, pointers []drift.Pointer, objs []map[string]any) bool {
	curs := make([]any, len(objs))
	for i, o := range objs {
		curs[i] = o
	}
	var tokens drift.Pointer
	for _, pe := range p {
		token, ok := step(curs, pe)
		if !ok {
			return false
		}
		tokens = append(tokens, token)
		for _, ptr := range pointers {
			if ptr.Covers(tokens) {
				return true
			}
		}
	}
	return false
}

// step moves each cursor to pe's child and returns pe's pointer token: a
// field's name, or a list item's index in the first cursor that has it.
func step(curs []any, pe fieldpath.PathElement) (string, bool) {
	if pe.FieldName != nil {
		for i, c := range curs {
			m, _ := c.(map[string]any)
			curs[i] = m[*pe.FieldName]
		}
		return *pe.FieldName, true
	}
	token, found := "", false
	for i, c := range curs {
		idx, item := itemOf(c, pe)
		curs[i] = item
		if idx >= 0 && !found {
			token, found = strconv.Itoa(idx), true
		}
	}
	return token, found
}

// itemOf finds pe's item in the list l: its index and value, or -1.
func itemOf(l any, pe fieldpath.PathElement) (int, any) {
	items, _ := l.([]any)
	for i, item := range items {
		switch {
		case pe.Index != nil && *pe.Index == i:
			return i, item
		case pe.Value != nil && value.Equals(value.NewValueInterface(item), *pe.Value):
			return i, item
		case pe.Key != nil && keyMatches(item, *pe.Key):
			return i, item
		}
	}
	return -1, nil
}

func keyMatches(item any, key value.FieldList) bool {
	m, isMap := item.(map[string]any)
	if !isMap {
		return false
	}
	for _, f := range key {
		if m[f.Name] == nil || !value.Equals(value.NewValueInterface(m[f.Name]), f.Value) {
			return false
		}
	}
	return true
}

// lookup returns the value under p in obj.
func lookup(obj any, p drift.Pointer) (any, bool) {
	cur := obj
	for i, t := range p {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			n, ok := p.Index(i)
			if !ok || n >= len(c) {
				return nil, false
			}
			cur = c[n]
		default:
			return nil, false
		}
	}
	return cur, true
}

// setOrDelete sets the value under p in obj (set), or deletes it, where the
// parent exists; a list item is replaced, never inserted or deleted.
func setOrDelete(obj map[string]any, p drift.Pointer, v any, set bool) {
	if len(p) == 0 {
		return
	}
	parent, ok := lookup(obj, p[:len(p)-1])
	if !ok {
		return
	}
	last := p[len(p)-1]
	switch c := parent.(type) {
	case map[string]any:
		if set {
			c[last] = v
		} else {
			delete(c, last)
		}
	case []any:
		if n, ok := p.Index(len(p) - 1); ok && n < len(c) && set {
			c[n] = v
		}
	}
}
