package execution

import (
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/drift"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
	statuswork "github.com/tether-io/tether/pkg/status/work"
)

// ownership is Tether's field set on a member object at the version an event
// carries, and whether that set differs from the one of the object's version
// before. set is nil when it is not at hand (the cache moved on, or the
// object has no Apply entry of Tether's).
type ownership struct {
	set     *fieldpath.Set
	changed bool
}

// ownershipOf reads Tether's field set on obj from the member cache.
func ownershipOf(objs *member.Objects, obj *unstructured.Unstructured) ownership {
	set, changed := objs.OwnedSet(obj)
	return ownership{set: set, changed: changed}
}

// drifted reports whether a change to a managed member object may have
// touched what Tether applied, so that its Work must be re-synced. These
// count: a new generation; any change outside metadata and status; a change
// to metadata other than bookkeeping, labels and annotations; a change of
// Tether's own field set; and a changed label or annotation that Tether
// owns. A label or annotation only others own (the deployment controller's
// revision annotation) is not drift: applying again would not touch it.
// When the ownership is not known, every changed label or annotation counts.
func drifted(old, cur *unstructured.Unstructured, owned func() ownership) bool {
	if old.GetGeneration() != cur.GetGeneration() {
		return true
	}
	if differs(old.Object, cur.Object, "metadata", "status") {
		return true
	}
	om, _ := old.Object["metadata"].(map[string]any)
	cm, _ := cur.Object["metadata"].(map[string]any)
	if differs(om, cm, "resourceVersion", "managedFields", "generation", "labels", "annotations") {
		return true
	}
	labels := changedKeys(om["labels"], cm["labels"])
	annotations := changedKeys(om["annotations"], cm["annotations"])
	if len(labels)+len(annotations) == 0 {
		return false
	}
	o := owned()
	if o.set == nil || o.changed {
		return true
	}
	for _, k := range labels {
		if o.set.Has(fieldpath.MakePathOrDie("metadata", "labels", k)) {
			return true
		}
	}
	for _, k := range annotations {
		if o.set.Has(fieldpath.MakePathOrDie("metadata", "annotations", k)) {
			return true
		}
	}
	return false
}

// differs reports whether a and b differ at any key but the skipped ones.
func differs(a, b map[string]any, skip ...string) bool {
	skipped := func(k string) bool {
		for _, s := range skip {
			if k == s {
				return true
			}
		}
		return false
	}
	for k, v := range a {
		if skipped(k) {
			continue
		}
		if w, ok := b[k]; !ok || !reflect.DeepEqual(v, w) {
			return true
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && !skipped(k) {
			return true
		}
	}
	return false
}

// changedKeys lists the keys added, removed or changed between two string
// maps (labels or annotations as decoded JSON).
func changedKeys(a, b any) []string {
	am, _ := a.(map[string]any)
	bm, _ := b.(map[string]any)
	var keys []string
	for k, v := range am {
		if w, ok := bm[k]; !ok || !reflect.DeepEqual(v, w) {
			keys = append(keys, k)
		}
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// noteDrift hands the status writer what applying one object saw of
// drift: the engine's finding (unrepaired when the repair failed), or a
// change of the manifest itself (applied with no finding), which ends the
// object's drift history. An object created, or one that failed for
// another reason, says nothing about drift.
func noteDrift(outcome *statuswork.ApplyOutcome, id manifest.Identity, e apply.Entry) {
	var obs drift.Observation
	switch {
	case e.Drift != nil:
		f := *e.Drift
		f.Repaired = f.Repaired && e.Err == nil
		obs.Finding = &f
	case e.Err == nil && e.Action == apply.Configured:
		obs.HubChange = true
	case e.Err == nil && e.Action == apply.Unchanged:
	default:
		return
	}
	if outcome.Drift == nil {
		outcome.Drift = map[manifest.Key]drift.Observation{}
	}
	outcome.Drift[id.Key()] = obs
}
