package override

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

func TestApplyField(t *testing.T) {
	v := func(s string) apiextensionsv1.JSON { return apiextensionsv1.JSON{Raw: []byte(s)} }
	const yamlDoc = "db:\n  host: localhost # primary\n  port: 5432\nname: app\n"
	const jsonDoc = `{"db":{"host":"localhost","port":5432},"tags":["a"]}`
	tests := []struct {
		name string
		o    policyv1alpha1.FieldOverrider
		want string
		err  string
	}{
		{name: "yaml replace", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/config.yaml", YAML: []policyv1alpha1.YAMLPatchOperation{
			{SubPath: "/db/host", Operator: "replace", Value: v(`"db.prod"`)}}},
			want: "db:\n  host: db.prod\n  port: 5432\nname: app\n"},
		{name: "yaml add and remove", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/config.yaml", YAML: []policyv1alpha1.YAMLPatchOperation{
			{SubPath: "/db/ssl", Operator: "add", Value: v(`true`)},
			{SubPath: "/name", Operator: "remove"}}},
			want: "db:\n  host: localhost\n  port: 5432\n  ssl: true\n"},
		{name: "json replace", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/config.json", JSON: []policyv1alpha1.JSONPatchOperation{
			{SubPath: "/db/port", Operator: "replace", Value: v(`6432`)}}},
			want: `{"db":{"host":"localhost","port":6432},"tags":["a"]}`},
		{name: "json add to list and remove", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/config.json", JSON: []policyv1alpha1.JSONPatchOperation{
			{SubPath: "/tags/-", Operator: "add", Value: v(`"b"`)},
			{SubPath: "/db/host", Operator: "remove"}}},
			want: `{"db":{"port":5432},"tags":["a","b"]}`},
		{name: "no operations", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/config.json"}, want: jsonDoc},
		{name: "both formats", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/config.json",
			JSON: []policyv1alpha1.JSONPatchOperation{{SubPath: "/a", Operator: "remove"}},
			YAML: []policyv1alpha1.YAMLPatchOperation{{SubPath: "/a", Operator: "remove"}}}, err: "yaml: json and yaml are both set"},
		{name: "field not a string", o: policyv1alpha1.FieldOverrider{FieldPath: "/data", JSON: []policyv1alpha1.JSONPatchOperation{
			{SubPath: "/a", Operator: "remove"}}}, err: "fieldPath: /data is a object, not a string"},
		{name: "field missing", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/nope", JSON: []policyv1alpha1.JSONPatchOperation{
			{SubPath: "/a", Operator: "remove"}}}, err: "fieldPath: /data/nope does not exist"},
		{name: "bad field path", o: policyv1alpha1.FieldOverrider{FieldPath: "data"}, err: "fieldPath: JSON pointer"},
		{name: "bad sub path", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/config.json", JSON: []policyv1alpha1.JSONPatchOperation{
			{SubPath: "/db/port", Operator: "replace", Value: v(`1`)}, {SubPath: "db", Operator: "remove"}}}, err: "json[1].subPath: JSON pointer"},
		{name: "sub path missing", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/config.yaml", YAML: []policyv1alpha1.YAMLPatchOperation{
			{SubPath: "/db/port", Operator: "replace", Value: v(`1`)}, {SubPath: "/x/y", Operator: "replace", Value: v(`1`)}}}, err: "yaml[1].subPath: /data/config.yaml: "},
		{name: "remove with value", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/config.yaml", YAML: []policyv1alpha1.YAMLPatchOperation{
			{SubPath: "/db", Operator: "remove", Value: v(`1`)}}}, err: "yaml[0].value: remove takes no value"},
		{name: "add without value", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/config.json", JSON: []policyv1alpha1.JSONPatchOperation{
			{SubPath: "/db", Operator: "add"}}}, err: "json[0].value: add needs a value"},
		{name: "not JSON", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/broken", JSON: []policyv1alpha1.JSONPatchOperation{
			{SubPath: "/db", Operator: "remove"}}}, err: "json[0].subPath"},
		{name: "not YAML", o: policyv1alpha1.FieldOverrider{FieldPath: "/data/broken", YAML: []policyv1alpha1.YAMLPatchOperation{
			{SubPath: "/db", Operator: "remove"}}}, err: "fieldPath: /data/broken does not hold YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": "cfg"},
				"data":     map[string]any{"config.yaml": yamlDoc, "config.json": jsonDoc, "broken": "a: [\n"},
			}}
			edits, err := applyField(obj, &tt.o)
			if err != nil {
				err = policyError(Change{}, "fieldOverrider", atEntry(0, err))
			}
			if wantErr(t, err, tt.err) {
				return
			}
			if got := get(t, obj, tt.o.FieldPath); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.o.FieldPath, got, tt.want)
			}
			if n := len(tt.o.JSON) + len(tt.o.YAML); len(edits) != n {
				t.Errorf("edits = %v, want %d", edits, n)
			}
		})
	}
}
