package override

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// Metadata maps edited by labelsOverrider and annotationsOverrider.
const (
	labelsField      = "labels"
	annotationsField = "annotations"
)

// applyLabelAnnotation applies one labelsOverrider (mapField "labels") or
// annotationsOverrider (mapField "annotations"), key by key: add sets the
// key, creating the map if needed; replace and remove act only on keys that
// exist. Keys may contain "/" (they are map keys, not paths). Keys and
// values are validated as Kubernetes validates labels and annotations.
func applyLabelAnnotation(obj *unstructured.Unstructured, mapField string, o *policyv1alpha1.LabelAnnotationOverrider) ([]edit, error) {
	keys := slices.Sorted(maps.Keys(o.Value))
	if err := checkLabelAnnotation(mapField, o, keys); err != nil || len(keys) == 0 {
		return nil, err
	}
	create := o.Operator == policyv1alpha1.OverriderOpAdd
	metadata, err := childMap(obj.Object, "", "metadata", create)
	if err != nil || metadata == nil {
		return nil, err
	}
	m, err := childMap(metadata, "/metadata", mapField, create)
	if err != nil || m == nil {
		return nil, err
	}
	var edits []edit
	for _, k := range keys {
		current, exists := m[k]
		switch {
		case o.Operator == policyv1alpha1.OverriderOpRemove && exists:
			delete(m, k)
		case o.Operator == policyv1alpha1.OverriderOpAdd && current != o.Value[k],
			o.Operator == policyv1alpha1.OverriderOpReplace && exists && current != o.Value[k]:
			m[k] = o.Value[k]
		default:
			continue
		}
		edits = append(edits, edit{op: string(o.Operator), path: joinPointer("metadata", mapField, k)})
	}
	return edits, nil
}

// checkLabelAnnotation validates the operator, and the keys and values the
// way the API server validates labels and annotations (values only for add
// and replace; remove ignores them).
func checkLabelAnnotation(mapField string, o *policyv1alpha1.LabelAnnotationOverrider, keys []string) error {
	switch o.Operator {
	case policyv1alpha1.OverriderOpAdd, policyv1alpha1.OverriderOpReplace, policyv1alpha1.OverriderOpRemove:
	default:
		return errField("operator", "unknown operator %q: use add, remove or replace", o.Operator)
	}
	var msgs []string
	for _, k := range keys {
		problems := validation.IsQualifiedName(strings.ToLower(k))
		if mapField == labelsField && o.Operator != policyv1alpha1.OverriderOpRemove {
			problems = append(validation.IsQualifiedName(k), validation.IsValidLabelValue(o.Value[k])...)
		}
		for _, p := range problems {
			msgs = append(msgs, fmt.Sprintf("%q: %s", k, p))
		}
	}
	if mapField == annotationsField && o.Operator != policyv1alpha1.OverriderOpRemove {
		if err := apivalidation.ValidateAnnotationsSize(o.Value); err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		return errField("value", "%s", strings.Join(msgs, "; "))
	}
	return nil
}

// childMap returns parent[key] as an object; where is the parent's JSON
// pointer, for errors. An absent or null child is created when create is
// set, else nil is returned.
func childMap(parent map[string]any, where, key string, create bool) (map[string]any, error) {
	switch child := parent[key].(type) {
	case map[string]any:
		return child, nil
	case nil:
		if !create {
			return nil, nil
		}
		m := map[string]any{}
		parent[key] = m
		return m, nil
	default:
		return nil, fmt.Errorf("%s/%s is a %s, not an object", where, escapeToken(key), jsonType(child))
	}
}
