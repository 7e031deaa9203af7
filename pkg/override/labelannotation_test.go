package override

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

func TestApplyLabelAnnotation(t *testing.T) {
	existing := map[string]any{"app": "web", "example.com/team": "a"}
	tests := []struct {
		name      string
		field     string
		op        policyv1alpha1.OverriderOperator
		value     map[string]string
		current   map[string]any // nil = metadata has no such map
		want      map[string]any
		wantPaths []string
		err       string
	}{
		{name: "labels add", field: labelsField, op: "add", current: existing, value: map[string]string{"tier": "fe", "example.com/team": "b"},
			want:      map[string]any{"app": "web", "example.com/team": "b", "tier": "fe"},
			wantPaths: []string{"/metadata/labels/example.com~1team", "/metadata/labels/tier"}},
		{name: "labels add nothing creates nothing", field: labelsField, op: "add"},
		{name: "labels add creates map", field: labelsField, op: "add", value: map[string]string{"tier": "fe"},
			want: map[string]any{"tier": "fe"}, wantPaths: []string{"/metadata/labels/tier"}},
		{name: "labels replace existing only", field: labelsField, op: "replace", current: existing, value: map[string]string{"app": "api", "absent": "x"},
			want: map[string]any{"app": "api", "example.com/team": "a"}, wantPaths: []string{"/metadata/labels/app"}},
		{name: "labels replace absent map", field: labelsField, op: "replace", value: map[string]string{"app": "api"}},
		{name: "labels remove slash key", field: labelsField, op: "remove", current: existing, value: map[string]string{"example.com/team": "", "absent": ""},
			want: map[string]any{"app": "web"}, wantPaths: []string{"/metadata/labels/example.com~1team"}},
		{name: "labels invalid value", field: labelsField, op: "add", value: map[string]string{"tier": "not valid!"}, err: `value: "tier": a valid label must be`},
		{name: "labels invalid key", field: labelsField, op: "remove", value: map[string]string{"bad key": ""}, err: "value: "},
		{name: "labels unknown operator", field: labelsField, op: "merge", value: map[string]string{"a": "b"}, err: "operator: unknown operator"},
		{name: "annotations add", field: annotationsField, op: "add", current: map[string]any{"a": "1"}, value: map[string]string{"example.com/note": "free text: ok!"},
			want: map[string]any{"a": "1", "example.com/note": "free text: ok!"}, wantPaths: []string{"/metadata/annotations/example.com~1note"}},
		{name: "annotations replace", field: annotationsField, op: "replace", current: map[string]any{"a": "1"}, value: map[string]string{"a": "2"},
			want: map[string]any{"a": "2"}, wantPaths: []string{"/metadata/annotations/a"}},
		{name: "annotations remove", field: annotationsField, op: "remove", current: map[string]any{"a": "1", "b": "2"}, value: map[string]string{"a": ""},
			want: map[string]any{"b": "2"}, wantPaths: []string{"/metadata/annotations/a"}},
		{name: "annotations add same value", field: annotationsField, op: "add", current: map[string]any{"a": "1"}, value: map[string]string{"a": "1"},
			want: map[string]any{"a": "1"}},
		{name: "annotations invalid key", field: annotationsField, op: "add", value: map[string]string{"/bad": "1"}, err: "value: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metadata := map[string]any{"name": "web"}
			if tt.current != nil {
				metadata[tt.field] = copyMap(tt.current)
			}
			obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}}
			edits, err := applyLabelAnnotation(obj, tt.field, &policyv1alpha1.LabelAnnotationOverrider{Operator: tt.op, Value: tt.value})
			if wantErr(t, err, tt.err) {
				return
			}
			got, present := obj.Object["metadata"].(map[string]any)[tt.field].(map[string]any)
			if tt.current == nil && tt.want == nil && present {
				t.Errorf("%s created: %v", tt.field, got)
			}
			if !reflect.DeepEqual(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Errorf("%s = %v, want %v", tt.field, got, tt.want)
			}
			var paths []string
			for _, e := range edits {
				if e.op != string(tt.op) {
					t.Errorf("edit op %q, want %q", e.op, tt.op)
				}
				paths = append(paths, e.path)
			}
			if !reflect.DeepEqual(paths, tt.wantPaths) {
				t.Errorf("edited %v, want %v", paths, tt.wantPaths)
			}
		})
	}
}

func TestApplyLabelAnnotationMetadataNotObject(t *testing.T) {
	obj := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"labels": "x"}}}
	_, err := applyLabelAnnotation(obj, labelsField, &policyv1alpha1.LabelAnnotationOverrider{Operator: "add", Value: map[string]string{"a": "b"}})
	wantErr(t, err, "/metadata/labels is a string, not an object")
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
