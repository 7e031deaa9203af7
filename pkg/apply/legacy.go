package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/csaupgrade"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Taking over objects another agent wrote with Update requests.
//
// karmada-agent writes member objects with Update under the field manager
// "karmada-agent". Were Tether only to apply the same content under its own
// manager, it would become a co-owner: the Update entry would keep every
// field, and a field later removed from the Work would stay on the member
// object. So before the engine decides whether an object needs a write, it
// moves those Update entries into its own Apply entry
// (k8s.io/client-go/util/csaupgrade), keeping only the fields the manifest
// sets (a default the server filled in, or spec.replicas left to an
// autoscaler, is left to no one rather than removed by the next apply). The
// move is one JSON patch of metadata.managedFields, guarded by the object's
// resourceVersion. It changes no content, so it bumps no generation and rolls
// out nothing; for an object whose content equals the manifest it is the
// only write.
//
// Only main-resource entries move. An Update of a subresource (status,
// scale) is not a claim on what a Work sets, and Tether never applies a
// subresource, so an Apply entry there would be one it never maintains; such
// entries are left as they are.

// LegacyManagers are the field managers whose main-resource Update entries
// the engine takes over: the agents Tether replaces.
var LegacyManagers = []string{"karmada-agent"}

// OwnershipPatch returns the JSON patch (RFC 6902, content type
// application/json-patch+json) that moves the main-resource Update entries
// of the LegacyManagers on obj into manager's Apply entry, merged with that
// entry when obj has one; nil when obj carries no such entry. The patch
// replaces metadata.managedFields and sets metadata.resourceVersion to obj's,
// so the apiserver refuses it with a conflict (409) when the object changed
// since obj was read; read it again and ask for a new patch. Where several
// Update entries of one legacy manager exist in different API versions, only
// the one in the version of manager's Apply entry (or the most recent one)
// moves, and the others are dropped (csaupgrade's rule).
//
// OwnershipPatch moves every field. The apply engine, which knows the
// manifest, moves only the fields the manifest sets (see takeOwnership).
func OwnershipPatch(obj *unstructured.Unstructured, manager string) ([]byte, error) {
	return ownershipPatch(obj, manager, nil)
}

// ownershipPatch is OwnershipPatch moving only the legacy fields in keep
// (nil: all of them).
func ownershipPatch(obj *unstructured.Unstructured, manager string, keep *fieldpath.Set) ([]byte, error) {
	if obj == nil {
		return nil, errors.New("ownership patch: no object")
	}
	if manager == "" {
		return nil, fmt.Errorf("ownership patch for %s: no field manager to move the ownership to", Subject(obj))
	}
	if !HasLegacyOwner(obj) {
		return nil, nil
	}
	src, err := restrictLegacy(obj, keep)
	if err != nil {
		return nil, fmt.Errorf("ownership patch for %s: %w", Subject(obj), err)
	}
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(src, sets.New(LegacyManagers...), manager)
	if err != nil {
		return nil, fmt.Errorf("ownership patch for %s: %w", Subject(obj), err)
	}
	return patch, nil
}

// restrictLegacy returns obj, or with keep a copy of it whose legacy entries
// list only the fields in keep: the fields they lose are left to no one.
func restrictLegacy(obj *unstructured.Unstructured, keep *fieldpath.Set) (*unstructured.Unstructured, error) {
	if keep == nil {
		return obj, nil
	}
	out := obj.DeepCopy()
	entries := out.GetManagedFields()
	for i, e := range entries {
		if !IsLegacyEntry(e.Manager, string(e.Operation), e.Subresource) || e.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(e.FieldsV1.GetRawBytes())); err != nil {
			return nil, fmt.Errorf("fields of %s: %w", e.Manager, err)
		}
		raw, err := set.Intersection(keep).ToJSON()
		if err != nil {
			return nil, fmt.Errorf("fields of %s: %w", e.Manager, err)
		}
		entries[i].FieldsV1 = metav1.NewFieldsV1(string(raw))
	}
	out.SetManagedFields(entries)
	return out, nil
}

// HasLegacyOwner reports whether obj carries a main-resource Update entry of
// one of the LegacyManagers.
func HasLegacyOwner(obj *unstructured.Unstructured) bool {
	for _, mf := range obj.GetManagedFields() {
		if IsLegacyEntry(mf.Manager, string(mf.Operation), mf.Subresource) {
			return true
		}
	}
	return false
}

// IsLegacyEntry reports whether a managedFields entry, given by its manager,
// operation and subresource, is one the engine takes over. A cache that drops
// managedFields from the objects it keeps must keep them on an object with
// such an entry, so that the engine can move it (see Config.Cache).
func IsLegacyEntry(manager, operation, subresource string) bool {
	if operation != string(metav1.ManagedFieldsOperationUpdate) || subresource != "" {
		return false
	}
	for _, m := range LegacyManagers {
		if m == manager {
			return true
		}
	}
	return false
}

// takeOwnership moves the legacy managers' entries of live to the engine's
// manager and returns the object as it is afterwards, and whether anything
// moved. Only the fields desired sets move: a field the legacy manager owned
// that the manifest leaves out (a default the server filled in, or
// spec.replicas left to an autoscaler) is left to no one, so the apply that
// may follow does not remove it. When desired cannot be typed, every field
// moves. A patch refused because the object changed is retried on a
// fresh read.
func (a *Applier) takeOwnership(ctx context.Context, gvr schema.GroupVersionResource, desired, live *unstructured.Unstructured) (*unstructured.Unstructured, bool, error) {
	if !HasLegacyOwner(live) {
		return live, false, nil
	}
	var keep *fieldpath.Set
	if _, _, set, err := a.desiredFields(desired); err == nil {
		keep = set
	}
	cur, moved := live, false
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		patch, err := ownershipPatch(cur, a.fieldManager, keep)
		if err != nil || patch == nil {
			return err
		}
		a.stats.ownershipMoves.Add(1)
		out, err := a.resource(gvr, cur.GetNamespace()).Patch(ctx, cur.GetName(), types.JSONPatchType, patch,
			metav1.PatchOptions{FieldManager: a.fieldManager})
		if err == nil {
			cur, moved = out, true
			return nil
		}
		if !apierrors.IsConflict(err) {
			return err
		}
		fresh, gerr := a.get(ctx, gvr, cur, "")
		switch {
		case gerr != nil:
			return gerr
		case fresh == nil:
			return fmt.Errorf("deleted while its field ownership was being moved: %w",
				apierrors.NewNotFound(gvr.GroupResource(), cur.GetName()))
		}
		cur = fresh
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("move field ownership to %s: %w", a.fieldManager, err)
	}
	return cur, moved, nil
}
