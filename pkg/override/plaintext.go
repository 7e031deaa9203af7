package override

import (
	"encoding/json"
	"fmt"

	jsonpatch "github.com/evanphx/json-patch/v5"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// patchOp is one RFC 6902 operation.
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// applyPlaintext applies a rule's plaintext overriders, in order, as one
// RFC 6902 JSON patch over the whole manifest, as Karmada does. A value is
// not allowed with remove; add or replace without a value writes null
// (Karmada's behaviour).
func applyPlaintext(obj *unstructured.Unstructured, overriders []policyv1alpha1.PlaintextOverrider) ([]edit, error) {
	if len(overriders) == 0 {
		return nil, nil
	}
	ops := make([]patchOp, len(overriders))
	edits := make([]edit, len(overriders))
	for i, o := range overriders {
		op, err := newPatchOp(o.Operator, o.Path, o.Value, "path", false)
		if err != nil {
			return nil, atEntry(i, err)
		}
		ops[i], edits[i] = op, edit{index: i, op: op.Op, path: op.Path}
	}
	doc, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest: %w", err)
	}
	out, failed, err := applyPatch(doc, ops)
	if err != nil {
		return nil, atEntry(failed, &fieldError{field: "path", err: err})
	}
	var patched map[string]any
	if err := utiljson.Unmarshal(out, &patched); err != nil || patched == nil {
		return nil, fmt.Errorf("the patched manifest is not a JSON object")
	}
	obj.Object = patched
	return edits, nil
}

// newPatchOp validates one operation of a plaintext or field overrider.
// pathField names the policy field holding the path; valueRequired says
// whether add and replace need a value (field overriders) or default to
// null (plaintext).
func newPatchOp(operator policyv1alpha1.OverriderOperator, path string, value apiextensionsv1.JSON, pathField string, valueRequired bool) (patchOp, error) {
	if _, err := parsePointer(path); err != nil {
		return patchOp{}, &fieldError{field: pathField, err: err}
	}
	op := patchOp{Op: string(operator), Path: path, Value: json.RawMessage(value.Raw)}
	switch operator {
	case policyv1alpha1.OverriderOpAdd, policyv1alpha1.OverriderOpReplace:
		switch {
		case len(value.Raw) == 0 && valueRequired:
			return patchOp{}, errField("value", "%s needs a value", operator)
		case len(value.Raw) == 0:
			op.Value = json.RawMessage("null")
		case !json.Valid(value.Raw):
			return patchOp{}, errField("value", "%q is not valid JSON", value.Raw)
		}
	case policyv1alpha1.OverriderOpRemove:
		if len(value.Raw) != 0 {
			return patchOp{}, errField("value", "remove takes no value, got %s", value.Raw)
		}
	default:
		return patchOp{}, errField("operator", "unknown operator %q: use add, remove or replace", operator)
	}
	return op, nil
}

// applyPatch applies ops to the JSON document doc. On failure it returns
// the index of the first operation that fails.
func applyPatch(doc []byte, ops []patchOp) ([]byte, int, error) {
	out, whole := patchJSON(doc, ops)
	if whole == nil {
		return out, 0, nil
	}
	// Replay one operation at a time to find the one at fault.
	for i := range ops {
		var err error
		if doc, err = patchJSON(doc, ops[i:i+1]); err != nil {
			return nil, i, err
		}
	}
	return nil, 0, whole
}

// patchJSON applies ops with the JSON-patch library's default options.
func patchJSON(doc []byte, ops []patchOp) ([]byte, error) {
	raw, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	patch, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		return nil, err
	}
	return patch.Apply(doc)
}
