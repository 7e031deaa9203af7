package execution

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

func TestDrifted(t *testing.T) {
	base := func() *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "web", "namespace": "default", "generation": int64(1), "resourceVersion": "10",
				"labels":      map[string]any{"app": "web", "karmada.io/managed": "true"},
				"annotations": map[string]any{"work.karmada.io/name": "w"}},
			"spec":   map[string]any{"replicas": int64(1)},
			"status": map[string]any{"replicas": int64(0)},
		}}
	}
	tetherOwns := fieldpath.NewSet(
		fieldpath.MakePathOrDie("metadata", "labels", "app"),
		fieldpath.MakePathOrDie("metadata", "labels", "karmada.io/managed"),
		fieldpath.MakePathOrDie("metadata", "annotations", "work.karmada.io/name"),
		fieldpath.MakePathOrDie("spec", "replicas"),
	)
	known := func() ownership { return ownership{set: tetherOwns} }
	unknown := func() ownership { return ownership{} }
	setChanged := func() ownership { return ownership{set: tetherOwns, changed: true} }
	edit := func(f func(u *unstructured.Unstructured)) *unstructured.Unstructured {
		u := base()
		u.SetResourceVersion("11")
		f(u)
		return u
	}
	cases := []struct {
		name  string
		cur   *unstructured.Unstructured
		owned func() ownership
		want  bool
	}{
		{"status only", edit(func(u *unstructured.Unstructured) { u.Object["status"] = map[string]any{"replicas": int64(1)} }), known, false},
		{"another controller's annotation", edit(func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "1", "metadata", "annotations", "deployment.kubernetes.io/revision")
		}), known, false},
		{"another controller's annotation, ownership unknown", edit(func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "1", "metadata", "annotations", "deployment.kubernetes.io/revision")
		}), unknown, true},
		{"a label Tether owns", edit(func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "api", "metadata", "labels", "app")
		}), known, true},
		{"an annotation Tether owned, removed (its field set changed)", edit(func(u *unstructured.Unstructured) {
			unstructured.RemoveNestedField(u.Object, "metadata", "annotations", "work.karmada.io/name")
		}), setChanged, true},
		{"new generation", edit(func(u *unstructured.Unstructured) { u.SetGeneration(2) }), known, true},
		{"content outside spec and status, same generation", edit(func(u *unstructured.Unstructured) { u.Object["data"] = map[string]any{"k": "v"} }), known, true},
		{"owner references", edit(func(u *unstructured.Unstructured) {
			u.Object["metadata"].(map[string]any)["ownerReferences"] = []any{map[string]any{"name": "x"}}
		}), known, true},
		{"a malformed annotation value does not panic", edit(func(u *unstructured.Unstructured) {
			u.Object["metadata"].(map[string]any)["annotations"] = map[string]any{"work.karmada.io/name": map[string]any{}}
		}), known, true},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			if got := drifted(base(), tc.cur, tc.owned); got != tc.want {
				t.Errorf("drifted = %v, want %v", got, tc.want)
			}
		})
	}
}
