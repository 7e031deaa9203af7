package apply

import (
	"bytes"
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/tether-io/tether/test/karmadafixture"
)

// karmadaWorkload is the Deployment as karmada-agent leaves it (a recorded
// fixture): an Update entry of karmada-agent for the main resource and one of
// kube-controller-manager for status.
func karmadaWorkload(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	obj := karmadafixture.WorkloadObject(t, karmadafixture.RecordedCluster)
	obj.SetResourceVersion("4711")
	return obj
}

type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// decodePatch checks that patch touches only managedFields and the
// resourceVersion guard, and returns the new managedFields.
func decodePatch(t *testing.T, patch []byte, rv string) []metav1.ManagedFieldsEntry {
	t.Helper()
	var ops []patchOp
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatalf("not a JSON patch: %v: %s", err, patch)
	}
	var entries []metav1.ManagedFieldsEntry
	paths := map[string]bool{}
	for _, op := range ops {
		paths[op.Path] = true
		if op.Op != "replace" {
			t.Errorf("op %s on %s, want replace", op.Op, op.Path)
		}
		switch op.Path {
		case "/metadata/managedFields":
			if err := json.Unmarshal(op.Value, &entries); err != nil {
				t.Fatal(err)
			}
		case "/metadata/resourceVersion":
			if string(op.Value) != `"`+rv+`"` {
				t.Errorf("resourceVersion guard %s, want %q", op.Value, rv)
			}
		default:
			t.Errorf("the patch touches %s", op.Path)
		}
	}
	if !paths["/metadata/managedFields"] || !paths["/metadata/resourceVersion"] {
		t.Errorf("patch paths %v, want managedFields and the resourceVersion guard", paths)
	}
	return entries
}

func fieldSet(t *testing.T, e metav1.ManagedFieldsEntry) *fieldpath.Set {
	t.Helper()
	s := &fieldpath.Set{}
	if err := s.FromJSON(bytes.NewReader(e.FieldsV1.GetRawBytes())); err != nil {
		t.Fatal(err)
	}
	return s
}

func entryOf(entries []metav1.ManagedFieldsEntry, manager string, op metav1.ManagedFieldsOperationType, sub string) (metav1.ManagedFieldsEntry, bool) {
	for _, e := range entries {
		if e.Manager == manager && e.Operation == op && e.Subresource == sub {
			return e, true
		}
	}
	return metav1.ManagedFieldsEntry{}, false
}

func TestOwnershipPatchMovesKarmadaAgentsFields(t *testing.T) {
	obj := karmadaWorkload(t)
	before, _ := entryOf(obj.GetManagedFields(), "karmada-agent", metav1.ManagedFieldsOperationUpdate, "")
	status, _ := entryOf(obj.GetManagedFields(), "kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "status")
	patch, err := OwnershipPatch(obj, DefaultFieldManager)
	if err != nil || patch == nil {
		t.Fatalf("OwnershipPatch: %v, patch %s", err, patch)
	}
	entries := decodePatch(t, patch, "4711")
	if _, ok := entryOf(entries, "karmada-agent", metav1.ManagedFieldsOperationUpdate, ""); ok {
		t.Error("karmada-agent's Update entry is still there")
	}
	got, ok := entryOf(entries, DefaultFieldManager, metav1.ManagedFieldsOperationApply, "")
	if !ok {
		t.Fatalf("no Apply entry of %s: %+v", DefaultFieldManager, entries)
	}
	if !fieldSet(t, got).Equals(fieldSet(t, before)) {
		t.Errorf("moved fields differ:\n got %s\nwant %s", got.FieldsV1.GetRawBytes(), before.FieldsV1.GetRawBytes())
	}
	image := fieldpath.MakePathOrDie("spec", "template", "spec", "containers",
		fieldpath.KeyByFields("name", "nginx"), "image")
	if !fieldSet(t, got).Has(image) {
		t.Error("the container image is not owned after the move")
	}
	if after, ok := entryOf(entries, "kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "status"); !ok ||
		!fieldSet(t, after).Equals(fieldSet(t, status)) {
		t.Error("the status entry of kube-controller-manager changed")
	}
	if len(entries) != 2 {
		t.Errorf("%d entries after the move, want 2: %+v", len(entries), entries)
	}
}

func TestOwnershipPatchMergesIntoExistingApplyEntry(t *testing.T) {
	obj := karmadaWorkload(t)
	mine := metav1.ManagedFieldsEntry{Manager: DefaultFieldManager, Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: "apps/v1", FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:tether-only":{}}}}`)}
	obj.SetManagedFields(append([]metav1.ManagedFieldsEntry{mine}, obj.GetManagedFields()...))
	patch, err := OwnershipPatch(obj, DefaultFieldManager)
	if err != nil || patch == nil {
		t.Fatalf("OwnershipPatch: %v, patch %s", err, patch)
	}
	entries := decodePatch(t, patch, "4711")
	got, ok := entryOf(entries, DefaultFieldManager, metav1.ManagedFieldsOperationApply, "")
	if !ok {
		t.Fatal("the Apply entry is gone")
	}
	s := fieldSet(t, got)
	if !s.Has(fieldpath.MakePathOrDie("metadata", "labels", "tether-only")) || !s.Has(fieldpath.MakePathOrDie("spec", "replicas")) {
		t.Errorf("the Apply entry is not the union of both: %s", got.FieldsV1.GetRawBytes())
	}
	if _, ok := entryOf(entries, "karmada-agent", metav1.ManagedFieldsOperationUpdate, ""); ok {
		t.Error("karmada-agent's Update entry is still there")
	}
}

func TestOwnershipPatchNothingToMove(t *testing.T) {
	cases := map[string]func(obj *unstructured.Unstructured){
		"no karmada-agent entry": func(obj *unstructured.Unstructured) {
			var keep []metav1.ManagedFieldsEntry
			for _, e := range obj.GetManagedFields() {
				if e.Manager != "karmada-agent" {
					keep = append(keep, e)
				}
			}
			obj.SetManagedFields(keep)
		},
		"karmada-agent owns only status": func(obj *unstructured.Unstructured) {
			entries := obj.GetManagedFields()
			for i := range entries {
				if entries[i].Manager == "karmada-agent" {
					entries[i].Subresource = "status"
				}
			}
			obj.SetManagedFields(entries)
		},
		"karmada-agent applied": func(obj *unstructured.Unstructured) {
			entries := obj.GetManagedFields()
			for i := range entries {
				if entries[i].Manager == "karmada-agent" {
					entries[i].Operation = metav1.ManagedFieldsOperationApply
				}
			}
			obj.SetManagedFields(entries)
		},
		"no managedFields": func(obj *unstructured.Unstructured) { obj.SetManagedFields(nil) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			obj := karmadaWorkload(t)
			mutate(obj)
			if patch, err := OwnershipPatch(obj, DefaultFieldManager); err != nil || patch != nil {
				t.Errorf("OwnershipPatch = %s, %v; want nil, nil", patch, err)
			}
		})
	}
}

func TestOwnershipPatchBadInput(t *testing.T) {
	if _, err := OwnershipPatch(nil, DefaultFieldManager); err == nil {
		t.Error("nil object: no error")
	}
	if _, err := OwnershipPatch(karmadaWorkload(t), ""); err == nil {
		t.Error("no manager: no error")
	}
	obj := karmadaWorkload(t)
	entries := obj.GetManagedFields()
	entries[0].FieldsV1 = metav1.NewFieldsV1(`{"k:not-json":{}}`)
	obj.SetManagedFields(entries)
	if _, err := OwnershipPatch(obj, DefaultFieldManager); err == nil {
		t.Error("undecodable fields: no error")
	}
}

func TestOwnershipPatchKeepsOnlyTheManifestsFields(t *testing.T) {
	obj := karmadaWorkload(t)
	image := fieldpath.MakePathOrDie("spec", "template", "spec", "containers", fieldpath.KeyByFields("name", "nginx"), "image")
	replicas := fieldpath.MakePathOrDie("spec", "replicas")
	keep := fieldpath.NewSet(image, fieldpath.MakePathOrDie("spec", "template", "spec", "containers", fieldpath.KeyByFields("name", "nginx")))
	patch, err := ownershipPatch(obj, DefaultFieldManager, keep)
	if err != nil || patch == nil {
		t.Fatalf("ownershipPatch: %v, patch %s", err, patch)
	}
	entries := decodePatch(t, patch, "4711")
	got, ok := entryOf(entries, DefaultFieldManager, metav1.ManagedFieldsOperationApply, "")
	if !ok {
		t.Fatalf("no Apply entry: %+v", entries)
	}
	if s := fieldSet(t, got); !s.Equals(keep) || s.Has(replicas) {
		t.Errorf("moved %s, want only the kept fields", got.FieldsV1.GetRawBytes())
	}
	if _, ok := entryOf(entries, "karmada-agent", metav1.ManagedFieldsOperationUpdate, ""); ok {
		t.Error("karmada-agent's Update entry is still there")
	}
	if before, _ := entryOf(obj.GetManagedFields(), "karmada-agent", metav1.ManagedFieldsOperationUpdate, ""); !fieldSet(t, before).Has(replicas) {
		t.Error("ownershipPatch changed its input")
	}
}
