package override

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// applyField applies one fieldOverrider: the string at fieldPath is parsed
// as JSON (json[]) or YAML (yaml[]), patched at the sub-paths with RFC 6902
// operations and serialised back in the same format (YAML through
// sigs.k8s.io/yaml, so keys come out sorted and comments are lost, as in
// Karmada).
//
// Karmada blanks the field when neither json nor yaml has an operation; here
// such an overrider changes nothing.
func applyField(obj *unstructured.Unstructured, o *policyv1alpha1.FieldOverrider) ([]edit, error) {
	path, err := parsePointer(o.FieldPath)
	if err != nil {
		return nil, &fieldError{field: "fieldPath", err: err}
	}
	if len(o.JSON) > 0 && len(o.YAML) > 0 {
		return nil, errField("yaml", "json and yaml are both set: use one")
	}
	format, ops, err := fieldPatch(o)
	if err != nil || len(ops) == 0 {
		return nil, err
	}
	current, err := path.getString(obj.Object)
	if err != nil {
		return nil, &fieldError{field: "fieldPath", err: err}
	}
	doc := []byte(current)
	if format == "yaml" {
		if doc, err = yaml.YAMLToJSON(doc); err != nil {
			return nil, errField("fieldPath", "%s does not hold YAML: %w", o.FieldPath, err)
		}
	}
	out, failed, err := applyPatch(doc, ops)
	if err != nil {
		return nil, &fieldError{field: fmt.Sprintf("%s[%d].subPath", format, failed), err: fmt.Errorf("%s: %w", o.FieldPath, err)}
	}
	if format == "yaml" {
		if out, err = yaml.JSONToYAML(out); err != nil {
			return nil, errField("fieldPath", "%s: serialising YAML: %w", o.FieldPath, err)
		}
	}
	if err := path.replace(obj.Object, string(out)); err != nil {
		return nil, &fieldError{field: "fieldPath", err: err}
	}
	edits := make([]edit, len(ops))
	for i, op := range ops {
		edits[i] = edit{op: op.Op, path: o.FieldPath, subPath: op.Path}
	}
	return edits, nil
}

// fieldPatch validates a field overrider's operations and returns their
// format ("json" or "yaml") and the patch.
func fieldPatch(o *policyv1alpha1.FieldOverrider) (string, []patchOp, error) {
	format, n := "json", len(o.JSON)
	if len(o.YAML) > 0 {
		format, n = "yaml", len(o.YAML)
	}
	ops := make([]patchOp, n)
	for i := range ops {
		var err error
		if format == "yaml" {
			ops[i], err = newPatchOp(o.YAML[i].Operator, o.YAML[i].SubPath, o.YAML[i].Value, "subPath", true)
		} else {
			ops[i], err = newPatchOp(o.JSON[i].Operator, o.JSON[i].SubPath, o.JSON[i].Value, "subPath", true)
		}
		if err != nil {
			return "", nil, prefixField(fmt.Sprintf("%s[%d].", format, i), err)
		}
	}
	return format, ops, nil
}
