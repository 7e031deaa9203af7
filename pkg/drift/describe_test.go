package drift

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

func containerPath(name string, rest ...any) fieldpath.Path {
	elems := []any{"spec", "containers", fieldpath.KeyByFields("name", name)}
	return fieldpath.MakePathOrDie(append(elems, rest...)...)
}

func pod() map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "p", "labels": map[string]any{"a/b": "x", "c": "y"}},
		"spec": map[string]any{"containers": []any{
			map[string]any{"name": "side", "image": "busybox"},
			map[string]any{"name": "main", "image": "nginx:1.20", "env": []any{map[string]any{"name": "LONG", "value": strings.Repeat("v", 200)}}},
		}},
	}
}

func TestDescribePointersAndValues(t *testing.T) {
	desired, live := pod(), pod()
	live["spec"].(map[string]any)["containers"].([]any)[1].(map[string]any)["image"] = "nginx:evil"
	modified := []fieldpath.Path{containerPath("main", "image"), containerPath("main", "env", fieldpath.KeyByFields("name", "LONG"), "value")}
	missing := []fieldpath.Path{
		fieldpath.MakePathOrDie("metadata", "labels"), fieldpath.MakePathOrDie("metadata", "labels", "a/b"),
	}
	fields, omitted := Describe(desired, live, modified, missing, false, func(fieldpath.Path) string { return "kubectl-edit" })
	if omitted != 0 || len(fields) != 3 {
		t.Fatalf("fields %+v omitted %d", fields, omitted)
	}
	if f := fields[0]; f.Path != "/metadata/labels/a~1b" || f.ValueInHub != `"x"` || f.ValueInMember != "" || f.Manager != "" {
		t.Errorf("missing label: %+v", f)
	}
	if f := fields[1]; f.Path != "/spec/containers/1/env/0/value" || len(f.ValueInHub) > ValueLimit || !strings.HasSuffix(f.ValueInHub, cutMark) {
		t.Errorf("long value: %+v (len %d)", f, len(f.ValueInHub))
	}
	if f := fields[2]; f.Path != "/spec/containers/1/image" || f.ValueInMember != `"nginx:evil"` || f.ValueInHub != `"nginx:1.20"` || f.Manager != "kubectl-edit" {
		t.Errorf("image: %+v", f)
	}
}

func TestDescribeSecretHasNoValues(t *testing.T) {
	desired := map[string]any{"data": map[string]any{"password": "aHVudGVyMg=="}}
	live := map[string]any{"data": map[string]any{"password": "c3dvcmRmaXNo"}}
	fields, _ := Describe(desired, live, []fieldpath.Path{fieldpath.MakePathOrDie("data", "password")}, nil, true, nil)
	if len(fields) != 1 || fields[0] != (Field{Path: "/data/password"}) {
		t.Errorf("secret fields %+v, want the path alone", fields)
	}
}

func TestDescribeListItemSaysItAll(t *testing.T) {
	desired := pod()
	item := containerPath("main", "env", fieldpath.KeyByFields("name", "LONG"))
	missing := []fieldpath.Path{item, append(item.Copy(), fieldpath.PathElement{FieldName: strPtr("name")}), append(item.Copy(), fieldpath.PathElement{FieldName: strPtr("value")})}
	fields, _ := Describe(desired, pod(), nil, missing, false, nil)
	if len(fields) != 1 || fields[0].Path != "/spec/containers/1/env/0" {
		t.Errorf("fields %+v, want the env item alone", fields)
	}
}

func TestDescribeCapsFields(t *testing.T) {
	desired, live := map[string]any{}, map[string]any{}
	var modified []fieldpath.Path
	for i := range FieldLimit + 5 {
		k := strings.Repeat("k", i+1)
		desired[k], live[k] = "a", "b"
		modified = append(modified, fieldpath.MakePathOrDie(k))
	}
	fields, omitted := Describe(desired, live, modified, nil, false, nil)
	if len(fields) != FieldLimit || omitted != 5 {
		t.Errorf("%d fields, %d omitted; want %d and 5", len(fields), omitted, FieldLimit)
	}
}

func TestDigest(t *testing.T) {
	obj := &unstructured.Unstructured{Object: pod()}
	d := Digest(obj)
	if len(d) != digestLen {
		t.Fatalf("digest %q", d)
	}
	StampDigest(obj)
	if DigestOf(obj) != d || Digest(obj) != d {
		t.Errorf("the digest depends on its own annotation: %q, %q, %q", d, DigestOf(obj), Digest(obj))
	}
	if w := WithoutDigest(obj); DigestOf(w) != "" || DigestOf(obj) != d {
		t.Error("WithoutDigest changed its input or kept the annotation")
	}
	other := &unstructured.Unstructured{Object: pod()}
	other.SetLabels(map[string]string{"c": "z"})
	if Digest(other) == d {
		t.Error("a changed manifest has the same digest")
	}
	bare := &unstructured.Unstructured{Object: map[string]any{"kind": "ConfigMap", "metadata": map[string]any{"name": "x"}}}
	before := Digest(bare)
	StampDigest(bare)
	if Digest(bare) != before || len(WithoutDigest(bare).GetAnnotations()) != 0 {
		t.Error("stamping a manifest without annotations changed its digest or left an empty map")
	}
}

func strPtr(s string) *string { return &s }
