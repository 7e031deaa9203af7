package override

import (
	"cmp"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

func TestApplyCommandArgs(t *testing.T) {
	const prefix = "/spec/template/spec/containers/"
	tests := []struct {
		name      string
		kind      string
		field     string
		container string
		op        policyv1alpha1.OverriderOperator
		value     []string
		current   []any // the c0 container's field before; nil = absent
		want      []any // after; nil = absent
		wantOp    string
		err       string
	}{
		{name: "command add creates", field: commandField, op: "add", value: []string{"nginx", "-g"}, want: []any{"nginx", "-g"}, wantOp: "add"},
		{name: "command add appends", field: commandField, op: "add", current: []any{"nginx"}, value: []string{"-g", "daemon off;"}, want: []any{"nginx", "-g", "daemon off;"}, wantOp: "replace"},
		{name: "command remove", field: commandField, op: "remove", current: []any{"a", "b", "a", "c"}, value: []string{"a", "c"}, want: []any{"b"}, wantOp: "replace"},
		{name: "command remove absent", field: commandField, op: "remove", value: []string{"a"}},
		{name: "args add creates", field: argsField, op: "add", value: []string{"--v=2"}, want: []any{"--v=2"}, wantOp: "add"},
		{name: "args add appends", field: argsField, op: "add", current: []any{"--a"}, value: []string{"--b"}, want: []any{"--a", "--b"}, wantOp: "replace"},
		{name: "args remove", field: argsField, op: "remove", current: []any{"--a", "--b"}, value: []string{"--a"}, want: []any{"--b"}, wantOp: "replace"},
		{name: "args remove nothing matches", field: argsField, op: "remove", current: []any{"--a"}, value: []string{"--z"}, want: []any{"--a"}},
		{name: "add nothing", field: argsField, op: "add"},
		{name: "other container", field: argsField, container: "c9", op: "add", value: []string{"--a"}},
		{name: "pod", kind: "Pod", field: argsField, op: "add", value: []string{"--a"}, want: []any{"--a"}, wantOp: "add"},
		{name: "cronjob untouched", kind: "CronJob", field: argsField, op: "add", value: []string{"--a"}},
		{name: "replace is not an operator", field: argsField, op: "replace", value: []string{"--a"}, err: "operator: unknown operator \"replace\""},
		{name: "container name required", field: argsField, container: "-", op: "add", err: "containerName"},
		{name: "not strings", field: argsField, op: "add", current: []any{int64(1)}, value: []string{"--a"}, err: "element 0 is a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind := tt.kind
			if kind == "" {
				kind = "Deployment"
			}
			obj := workload(kind, "nginx", "sidecar")
			path := prefix + "0/" + tt.field
			if kind == "Pod" {
				path = "/spec/containers/0/" + tt.field
			}
			if tt.current != nil {
				setAt(t, obj, path, tt.current)
			}
			name := cmp.Or(tt.container, "c0") // "-" stands for no name
			if name == "-" {
				name = ""
			}
			o := &policyv1alpha1.CommandArgsOverrider{ContainerName: name, Operator: tt.op, Value: tt.value}
			edits, err := applyCommandArgs(obj, tt.field, o)
			if wantErr(t, err, tt.err) {
				return
			}
			if kind == "CronJob" {
				if len(edits) != 0 {
					t.Fatalf("CronJob edited: %v", edits)
				}
				return
			}
			var got any
			if p, _ := parsePointer(path); p != nil {
				got, _ = p.get(obj.Object)
			}
			if tt.want == nil && got != nil || tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", path, got, tt.want)
			}
			if tt.wantOp == "" && len(edits) != 0 || tt.wantOp != "" && (len(edits) != 1 || edits[0].op != tt.wantOp || edits[0].path != path) {
				t.Errorf("edits = %+v, want one %s at %s", edits, tt.wantOp, path)
			}
			if other := get(t, obj, prefixFor(kind)+"1"); !reflect.DeepEqual(other, map[string]any{"name": "c1", "image": "sidecar"}) {
				t.Errorf("container c1 changed: %v", other)
			}
		})
	}
}

func prefixFor(kind string) string {
	if kind == "Pod" {
		return "/spec/containers/"
	}
	return "/spec/template/spec/containers/"
}

// setAt sets an existing object member at path.
func setAt(t *testing.T, obj *unstructured.Unstructured, path string, v any) {
	t.Helper()
	p, err := parsePointer(path)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := p[:len(p)-1].get(obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	parent.(map[string]any)[p[len(p)-1]] = v
}
