package apply

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/tether-io/tether/pkg/drift"
)

const twoContainers = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: NS
  labels: {app: web, example.com/team: a}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: a, image: one}
      - {name: b, image: two}`

func pointers(t *testing.T, list string) []drift.Pointer {
	t.Helper()
	p, err := drift.PolicyOf(map[string]string{drift.ModeAnnotation: "ignore", drift.IgnorePathsAnnotation: list}, drift.Correct)
	if err != nil {
		t.Fatal(err)
	}
	return p.Ignore
}

// ownedLive returns desired as Tether's apply leaves it: the same content,
// with Tether's Apply entry for desired's fields.
func ownedLive(t *testing.T, desired *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	fields := desiredFields(desired)
	if fields == nil {
		t.Fatal("the fixture does not type")
	}
	live := desired.DeepCopy()
	live.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: DefaultFieldManager, Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: desired.GetAPIVersion(), FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(string(fields))}})
	return live
}

// TestCoveredResolvesPointers: a pointer's list index names the manifest's
// item (an associative list is keyed by name in field sets), escaped keys
// resolve, and a pointer covers what lies under it.
func TestCoveredResolvesPointers(t *testing.T) {
	a := New(Config{Types: fuzzTypes()})
	desired := normalize(objects(t, "ns", twoContainers)[0])
	_, _, set, err := a.desiredFields(desired)
	if err != nil {
		t.Fatal(err)
	}
	got := covered(set, pointers(t, "/spec/template/spec/containers/1/image,/metadata/labels/example.com~1team,/spec/selector,/spec/template/metadata"), desired.Object)
	var paths []string
	got.Iterate(func(p fieldpath.Path) { paths = append(paths, p.String()) })
	// spec.selector is an atomic map: one field.
	want := []string{`.metadata.labels.example.com/team`, `.spec.selector`, `.spec.template.metadata.labels.app`,
		`.spec.template.spec.containers[name="b"].image`}
	for _, w := range want {
		if !strings.Contains(strings.Join(paths, " "), w) {
			t.Errorf("covered %v, missing %s", paths, w)
		}
	}
	for _, p := range paths {
		if strings.Contains(p, `name="a"`) || p == ".metadata.labels.app" {
			t.Errorf("covered %s, which no pointer names", p)
		}
	}
}

// TestCompareExceptIgnoredPaths: a difference under an ignored path alone
// is no change; one elsewhere still is.
func TestCompareExceptIgnoredPaths(t *testing.T) {
	a := New(Config{Types: fuzzTypes()})
	desired := normalize(objects(t, "ns", twoContainers)[0])
	live := ownedLive(t, desired)
	_ = unstructured.SetNestedField(live.Object, int64(5), "spec", "replicas")
	_, _, set, err := a.desiredFields(desired)
	if err != nil {
		t.Fatal(err)
	}
	ignored := covered(set, pointers(t, "/spec/replicas"), desired.Object, live.Object)
	if v, why := a.compareLocally(desired, live); v != changed {
		t.Fatalf("without ignore: %d %s, want changed", v, why)
	}
	if v, why := a.compareExcept(desired, live, ignored); v != same {
		t.Fatalf("ignoring /spec/replicas: %d %s, want same", v, why)
	}
	live.SetLabels(map[string]string{"app": "web", "example.com/team": "b"})
	if v, _ := a.compareExcept(desired, live, ignored); v != changed {
		t.Fatalf("a label edit under ignore of /spec/replicas: %d, want changed", v)
	}
}

// TestWithoutIgnored: the ignored fields leave the object to apply, but
// those kept come back at their live values; a map the removal empties goes.
func TestWithoutIgnored(t *testing.T) {
	a := New(Config{Types: fuzzTypes()})
	desired := normalize(objects(t, "ns", twoContainers)[0])
	live := ownedLive(t, desired)
	_ = unstructured.SetNestedField(live.Object, int64(5), "spec", "replicas")
	tc, tv, set, err := a.desiredFields(desired)
	if err != nil {
		t.Fatal(err)
	}
	ignored := covered(set, pointers(t, "/spec/replicas,/spec/template/metadata/labels/app"), desired.Object, live.Object)
	keep := &fieldpath.Set{}
	keep.Insert(fieldpath.MakePathOrDie("spec", "replicas"))
	out, err := withoutIgnored(tc, tv, set.Intersection(ignored), live, keep)
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := unstructured.NestedInt64(out.Object, "spec", "replicas"); n != 5 {
		t.Errorf("kept replicas %d, want the live 5", n)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(out.Object, "spec", "template", "metadata"); found {
		t.Errorf("the emptied template metadata is still there: %v", out.Object["spec"])
	}
	image, _, _ := unstructured.NestedSlice(out.Object, "spec", "template", "spec", "containers")
	if len(image) != 2 {
		t.Errorf("containers %v, want both", image)
	}
	out, err = withoutIgnored(tc, tv, set.Intersection(ignored), live, &fieldpath.Set{})
	if err != nil {
		t.Fatal(err)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(out.Object, "spec", "replicas"); found {
		t.Error("replicas are applied though ignored and not kept")
	}
}

// TestCarryLiveWithoutTypes: with no schema at hand, the ignored paths the
// manifest sets are applied at their live values, never deleted.
func TestCarryLiveWithoutTypes(t *testing.T) {
	desired := normalize(objects(t, "ns", twoContainers)[0])
	live := desired.DeepCopy()
	_ = unstructured.SetNestedField(live.Object, int64(5), "spec", "replicas")
	live.SetLabels(map[string]string{"other": "x"})
	out := carryLive(desired, live, pointers(t, "/spec/replicas,/spec/template/spec/containers/1/image,/metadata/labels/example.com~1team,/spec/paused"))
	if n, _, _ := unstructured.NestedInt64(out.Object, "spec", "replicas"); n != 5 {
		t.Errorf("replicas %d, want the live 5", n)
	}
	if _, found := out.GetLabels()["example.com/team"]; found {
		t.Error("a label live lacks is applied")
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(out.Object, "spec", "paused"); found {
		t.Error("a path the manifest does not set is added")
	}
}
