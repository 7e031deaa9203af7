package member

import (
	"bytes"
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Cached objects carry no managedFields: the entry of Tether's own field
// manager (what the apply engine compares against) is kept aside as compact
// JSON, because as nested maps it was the largest part of each cached object.

// ownedEntry is the FieldsV1 of Tether's Apply entry at one resourceVersion;
// changed says it differs from the entry of the version cached before.
type ownedEntry struct {
	resourceVersion string
	fieldsV1        []byte
	changed         bool
}

// trim removes managedFields from an object entering the cache and keeps
// Tether's Apply entry aside (see OwnedFields).
func (o *Objects) trim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	md, _ := u.Object["metadata"].(map[string]any)
	entries, present := md["managedFields"].([]any)
	if !present {
		return u, nil // already trimmed
	}
	var raw []byte
	keep := false
	for _, e := range entries {
		entry, _ := e.(map[string]any)
		if entry["manager"] == o.cfg.FieldManager && entry["operation"] == string(metav1.ManagedFieldsOperationApply) {
			raw, _ = json.Marshal(entry["fieldsV1"])
		}
		manager, _ := entry["manager"].(string)
		operation, _ := entry["operation"].(string)
		subresource, _ := entry["subresource"].(string)
		keep = keep || (o.cfg.KeepManagedFields != nil && o.cfg.KeepManagedFields(manager, operation, subresource))
	}
	if !keep {
		delete(md, "managedFields")
	}
	if o.cfg.Slim != nil {
		o.cfg.Slim(u)
	}
	o.ownedMu.Lock()
	if raw != nil {
		prev, seen := o.owned[u.GetUID()]
		o.owned[u.GetUID()] = ownedEntry{resourceVersion: u.GetResourceVersion(), fieldsV1: raw,
			changed: seen && !bytes.Equal(prev.fieldsV1, raw)}
	} else {
		delete(o.owned, u.GetUID())
	}
	o.ownedMu.Unlock()
	return u, nil
}

// OwnedFields returns the FieldsV1 JSON of Tether's Apply entry for a cached
// object, or nil when the cache has none for that object at that resourceVersion.
func (o *Objects) OwnedFields(live *unstructured.Unstructured) []byte {
	if e, ok := o.ownedAt(live); ok {
		return e.fieldsV1
	}
	return nil
}

// OwnedSet returns Tether's field set on obj, and whether it differs from
// the set of the object's version cached before; set is nil when it is not
// at hand (the cache moved on, or the object has no Apply entry of Tether's).
func (o *Objects) OwnedSet(obj *unstructured.Unstructured) (set *fieldpath.Set, changed bool) {
	e, ok := o.ownedAt(obj)
	if !ok {
		return nil, false
	}
	set = &fieldpath.Set{}
	if err := set.FromJSON(bytes.NewReader(e.fieldsV1)); err != nil {
		return nil, false
	}
	return set, e.changed
}

// ownedAt returns the kept Apply entry of obj if it is for obj's resourceVersion.
func (o *Objects) ownedAt(obj *unstructured.Unstructured) (ownedEntry, bool) {
	o.ownedMu.Lock()
	defer o.ownedMu.Unlock()
	e, ok := o.owned[obj.GetUID()]
	return e, ok && e.resourceVersion == obj.GetResourceVersion()
}

func (o *Objects) dropOwned(obj *unstructured.Unstructured) {
	o.ownedMu.Lock()
	defer o.ownedMu.Unlock()
	delete(o.owned, obj.GetUID())
}
