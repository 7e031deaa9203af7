package apply

import (
	"bytes"
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// strippedPaths are the fields the apiserver's field manager never records
// in managedFields, so they are removed from a desired field set before it
// is compared with one.
var strippedPaths = fieldpath.NewSet(
	fieldpath.MakePathOrDie("apiVersion"),
	fieldpath.MakePathOrDie("kind"),
	fieldpath.MakePathOrDie("metadata"),
	fieldpath.MakePathOrDie("metadata", "name"),
	fieldpath.MakePathOrDie("metadata", "namespace"),
	fieldpath.MakePathOrDie("metadata", "creationTimestamp"),
	fieldpath.MakePathOrDie("metadata", "selfLink"),
	fieldpath.MakePathOrDie("metadata", "uid"),
	fieldpath.MakePathOrDie("metadata", "generation"),
	fieldpath.MakePathOrDie("metadata", "managedFields"),
	fieldpath.MakePathOrDie("metadata", "resourceVersion"),
)

// verdict of the cheap check.
type verdict int

const (
	changed      verdict = iota // an apply is needed
	same                        // nothing would change
	inconclusive                // ask the server with a dry run
)

// compareLocally decides from the live object alone whether applying desired
// would change it: the fields our manager owns must be exactly the fields
// desired sets, and the live values at those fields must equal desired's.
// It needs no request; when types or values cannot be compared it says
// inconclusive. A digest annotation live lacks is left out (compared).
func (a *Applier) compareLocally(desired, live *unstructured.Unstructured) (verdict, string) {
	return a.compareExcept(desired, live, nil)
}

// compareExcept is compareLocally leaving the fields in except out of both
// sides (nil: none), as for the paths a manifest ignores (modes.go).
func (a *Applier) compareExcept(desired, live *unstructured.Unstructured, except *fieldpath.Set) (verdict, string) {
	desired = compared(desired, live)
	owned := a.ownedFields(live)
	if owned == nil {
		return changed, "not applied by " + a.fieldManager + " yet"
	}
	tc, desiredTV, desiredSet, err := a.desiredFields(desired)
	if err != nil {
		return inconclusive, err.Error()
	}
	if except != nil {
		owned, desiredSet = owned.Difference(except), desiredSet.Difference(except)
	}
	if !owned.Equals(desiredSet) {
		return changed, "the manifest's field set differs from the fields " + a.fieldManager + " owns"
	}
	liveTV, err := tc.ObjectToTyped(live, typed.AllowDuplicates)
	if err != nil {
		return inconclusive, fmt.Sprintf("type live: %v", err)
	}
	want := desiredTV.ExtractItems(desiredSet, typed.WithAppendKeyFields())
	got := liveTV.ExtractItems(desiredSet, typed.WithAppendKeyFields())
	cmp, err := got.Compare(want)
	if err != nil {
		return inconclusive, err.Error()
	}
	if cmp.Modified.Empty() && cmp.Added.Empty() && onlyDefaultedKeys(cmp.Removed) {
		return same, ""
	}
	// A value that differs is a change the apply must make, unless the
	// server may have stored the manifest's value in another spelling (a
	// quantity "1000m" stored as "1"): only the server can tell that, or
	// explain a value the manifest sets that live lacks.
	if valuesDiffer(desired.Object, live.Object, cmp.Modified) {
		return changed, "values differ: " + cmp.String()
	}
	return inconclusive, "values differ: " + cmp.String()
}

// desiredFields types desired with the member's schema and returns it with
// the field set an apply of it owns, as managedFields record it.
func (a *Applier) desiredFields(desired *unstructured.Unstructured) (managedfields.TypeConverter, *typed.TypedValue, *fieldpath.Set, error) {
	gv, err := schema.ParseGroupVersion(desired.GetAPIVersion())
	if err != nil {
		return nil, nil, nil, err
	}
	if a.types == nil {
		return nil, nil, nil, fmt.Errorf("no schema for %s", gv)
	}
	tc, err := a.types.For(gv)
	if err != nil {
		return nil, nil, nil, err
	}
	tv, err := tc.ObjectToTyped(desired, typed.AllowDuplicates)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("type desired: %w", err)
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		return nil, nil, nil, err
	}
	return tc, tv, set.Difference(strippedPaths), nil
}

// ownedFields returns the field set our manager owns through Apply, or nil.
func (a *Applier) ownedFields(live *unstructured.Unstructured) *fieldpath.Set {
	raw := a.ownedFieldsJSON(live)
	if raw == nil {
		return nil
	}
	set := &fieldpath.Set{}
	if err := set.FromJSON(bytes.NewReader(raw)); err != nil {
		return nil
	}
	return set
}

// ownedFieldsJSON finds the FieldsV1 of our manager's Apply entry: from the
// object itself when it carries managedFields (a fresh read, or one whose
// ownership was just moved), else from the cache's side record.
func (a *Applier) ownedFieldsJSON(live *unstructured.Unstructured) []byte {
	if entries := live.GetManagedFields(); len(entries) > 0 {
		for _, mf := range entries {
			if mf.Manager == a.fieldManager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" && mf.FieldsV1 != nil {
				return mf.FieldsV1.GetRawBytes()
			}
		}
		return nil
	}
	if a.cache != nil {
		return a.cache.OwnedFields(live)
	}
	return nil
}

// dryRunSame applies desired as a server-side dry run and reports whether
// the result equals live, ignoring what every write changes (and a digest
// annotation live lacks, see compared).
func (a *Applier) dryRunSame(ctx context.Context, gvr schema.GroupVersionResource, desired, live *unstructured.Unstructured) (bool, error) {
	desired = compared(desired, live)
	a.stats.dryRuns.Add(1)
	result, err := a.resource(gvr, desired.GetNamespace()).Apply(ctx, desired.GetName(), desired,
		metav1.ApplyOptions{FieldManager: a.fieldManager, Force: true, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return false, err
	}
	return equality.Semantic.DeepEqual(comparable(result), comparable(live)), nil
}

// comparable drops what differs between two reads of an unchanged object.
func comparable(obj *unstructured.Unstructured) map[string]any {
	c := obj.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	unstructured.RemoveNestedField(c.Object, "metadata", "generation")
	unstructured.RemoveNestedField(c.Object, "status")
	return c.Object
}

// onlyDefaultedKeys reports whether every path in removed is a key field of
// the list item it belongs to. The apiserver defaults key fields (a port's
// protocol) so that the live item carries a key value the manifest left out;
// that is not a change.
func onlyDefaultedKeys(removed *fieldpath.Set) bool {
	ok := true
	removed.Iterate(func(p fieldpath.Path) {
		if len(p) < 2 || p[len(p)-1].FieldName == nil || p[len(p)-2].Key == nil {
			ok = false
			return
		}
		name := *p[len(p)-1].FieldName
		for _, f := range *p[len(p)-2].Key {
			if f.Name == name {
				return
			}
		}
		ok = false
	})
	return ok
}
