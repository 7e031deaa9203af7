package diff

import (
	"bytes"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"github.com/tether-io/tether/pkg/drift"
)

// noise are the fields that differ between two reads of an unchanged object
// or that no apply sets; they never show in a diff.
var noise = [][]string{
	{"metadata", "managedFields"}, {"metadata", "resourceVersion"}, {"metadata", "generation"},
	{"metadata", "creationTimestamp"}, {"metadata", "deletionTimestamp"}, {"metadata", "uid"},
	{"metadata", "selfLink"}, {"status"},
	// Bookkeeping: the agent leaves a missing one alone, and a changed
	// one only comes with a change of the manifest, which shows.
	{"metadata", "annotations", drift.DigestAnnotation},
}

// ownedSet returns the fields manager owns on obj through an Apply of the
// main resource, as obj's managedFields record them; nil when none.
func ownedSet(obj *unstructured.Unstructured, manager string) (*fieldpath.Set, error) {
	if obj == nil {
		return nil, nil
	}
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager != manager || mf.Operation != metav1.ManagedFieldsOperationApply || mf.Subresource != "" || mf.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(mf.FieldsV1.GetRawBytes())); err != nil {
			return nil, fmt.Errorf("read the managedFields of %s: %w", manager, err)
		}
		return set, nil
	}
	return nil, nil
}

// restrict returns the part of obj at the fields of set, with the keys of
// the list items it keeps; nil for a nil obj.
func restrict(tc managedfields.TypeConverter, obj *unstructured.Unstructured, set *fieldpath.Set) (map[string]any, error) {
	if obj == nil {
		return nil, nil
	}
	tv, err := tc.ObjectToTyped(obj, typed.AllowDuplicates)
	if err != nil {
		return nil, err
	}
	out, _ := tv.ExtractItems(set, typed.WithAppendKeyFields()).AsValue().Unstructured().(map[string]any)
	return stripped(out), nil
}

// stripped returns a copy of obj without the noise fields.
func stripped(obj map[string]any) map[string]any {
	if obj == nil {
		return nil
	}
	c := (&unstructured.Unstructured{Object: obj}).DeepCopy().Object
	for _, path := range noise {
		unstructured.RemoveNestedField(c, path...)
	}
	if md, ok := c["metadata"].(map[string]any); ok && len(md) == 0 {
		delete(c, "metadata")
	}
	return c
}
