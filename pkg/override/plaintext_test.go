package override

import (
	"reflect"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

func TestApplyPlaintext(t *testing.T) {
	v := func(s string) apiextensionsv1.JSON { return apiextensionsv1.JSON{Raw: []byte(s)} }
	tests := []struct {
		name  string
		ops   []policyv1alpha1.PlaintextOverrider
		check map[string]any // path -> want value; nil want = absent
		err   string
	}{
		{name: "add", ops: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/replicas", Operator: "add", Value: v("3")}},
			check: map[string]any{"/spec/replicas": int64(3)}},
		{name: "add into list", ops: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/template/spec/containers/0/ports", Operator: "add", Value: v(`[{"containerPort":80}]`)}},
			check: map[string]any{"/spec/template/spec/containers/0/ports/0/containerPort": int64(80)}},
		{name: "replace", ops: []policyv1alpha1.PlaintextOverrider{{Path: "/metadata/name", Operator: "replace", Value: v(`"api"`)}},
			check: map[string]any{"/metadata/name": "api"}},
		{name: "replace without value writes null", ops: []policyv1alpha1.PlaintextOverrider{{Path: "/metadata/labels", Operator: "replace"}},
			check: map[string]any{"/metadata/labels": nil}},
		{name: "remove", ops: []policyv1alpha1.PlaintextOverrider{{Path: "/metadata/labels/app", Operator: "remove"}},
			check: map[string]any{"/metadata/labels": map[string]any{}}},
		{name: "remove slash key", ops: []policyv1alpha1.PlaintextOverrider{
			{Path: "/metadata/labels/example.com~1team", Operator: "add", Value: v(`"a"`)},
			{Path: "/metadata/labels/app", Operator: "remove"},
		}, check: map[string]any{"/metadata/labels": map[string]any{"example.com/team": "a"}}},
		{name: "in order", ops: []policyv1alpha1.PlaintextOverrider{
			{Path: "/spec/replicas", Operator: "add", Value: v("1")},
			{Path: "/spec/replicas", Operator: "replace", Value: v("2")},
		}, check: map[string]any{"/spec/replicas": int64(2)}},
		{name: "remove with value", ops: []policyv1alpha1.PlaintextOverrider{{Path: "/spec", Operator: "remove", Value: v(`1`)}},
			err: "plaintext[0].value: remove takes no value"},
		{name: "bad pointer", ops: []policyv1alpha1.PlaintextOverrider{{Path: "spec/replicas", Operator: "add", Value: v("1")}},
			err: "plaintext[0].path: JSON pointer \"spec/replicas\" does not start with /"},
		{name: "bad escape", ops: []policyv1alpha1.PlaintextOverrider{{Path: "/a~2b", Operator: "add", Value: v("1")}},
			err: "plaintext[0].path"},
		{name: "missing target names the failing op", ops: []policyv1alpha1.PlaintextOverrider{
			{Path: "/spec/replicas", Operator: "add", Value: v("1")},
			{Path: "/spec/nothing/here", Operator: "replace", Value: v("1")},
		}, err: "plaintext[1].path"},
		{name: "unknown operator", ops: []policyv1alpha1.PlaintextOverrider{{Path: "/spec", Operator: "move"}},
			err: "plaintext[0].operator: unknown operator \"move\""},
		{name: "invalid JSON value", ops: []policyv1alpha1.PlaintextOverrider{{Path: "/spec/x", Operator: "add", Value: v("{")}},
			err: "plaintext[0].value"},
		{name: "root replaced by non-object", ops: []policyv1alpha1.PlaintextOverrider{{Path: "", Operator: "replace", Value: v(`"x"`)}},
			err: "plaintext[0].path: replace operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := workload("Deployment", "nginx")
			before := obj.DeepCopy()
			edits, err := applyPlaintext(obj, tt.ops)
			if err != nil {
				err = policyError(Change{}, "plaintext", err)
			}
			if wantErr(t, err, tt.err) {
				if !reflect.DeepEqual(obj, before) {
					t.Error("a failed patch changed the manifest")
				}
				return
			}
			for i, e := range edits {
				if e.index != i || e.path != tt.ops[i].Path || e.op != string(tt.ops[i].Operator) {
					t.Errorf("edit %d = %+v", i, e)
				}
			}
			for path, want := range tt.check {
				if got := get(t, obj, path); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
		})
	}
}
