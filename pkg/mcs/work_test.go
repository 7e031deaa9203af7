package mcs

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

const esNS = "karmada-es-member1"

func testSlice(addresses ...string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-abc", UID: types.UID("uid-1"), ResourceVersion: "7", Generation: 3,
			Labels:          map[string]string{discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: "web", UID: "svc"}},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kcm"}}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
	}
	for _, a := range addresses {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}})
	}
	return s
}

var both = []Source{FromServiceExport, FromMCS}

func mustPlan(t *testing.T, want Want, existing *workv1alpha1.Work) Plan {
	t.Helper()
	p, err := plan(esNS, want, existing)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPlanCreate: a new Work is shaped as karmada-agent writes it.
func TestPlanCreate(t *testing.T) {
	p := mustPlan(t, Want{Slice: testSlice("10.0.0.1"), Sources: []Source{FromServiceExport}, Managed: both, ControlPlane: true}, nil)
	if p.Action != Create {
		t.Fatalf("action %v, want create", p.Action)
	}
	w := p.Work
	if w.Name != sliceWorkName("shop", "web-abc") || w.Namespace != esNS {
		t.Errorf("name %s/%s", w.Namespace, w.Name)
	}
	wantLabels := map[string]string{ServiceNamespaceLabel: "shop", ServiceNameLabel: "web", ManagedByLabel: "ServiceExport"}
	if !reflect.DeepEqual(w.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", w.Labels, wantLabels)
	}
	if !reflect.DeepEqual(w.Finalizers, []string{ServiceExportFinalizer}) || w.Annotations != nil {
		t.Errorf("finalizers %v annotations %v", w.Finalizers, w.Annotations)
	}
	if w.Spec.SuspendDispatching == nil || !*w.Spec.SuspendDispatching || len(w.Spec.Workload.Manifests) != 1 {
		t.Fatalf("spec %+v", w.Spec)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Spec.Workload.Manifests[0].Raw, &m); err != nil {
		t.Fatal(err)
	}
	meta := m["metadata"].(map[string]any)
	for _, gone := range []string{"uid", "resourceVersion", "generation", "ownerReferences", "managedFields", "creationTimestamp"} {
		if _, ok := meta[gone]; ok {
			t.Errorf("manifest keeps metadata.%s", gone)
		}
	}
	if m["apiVersion"] != "discovery.k8s.io/v1" || m["kind"] != "EndpointSlice" || meta["name"] != "web-abc" || meta["namespace"] != "shop" {
		t.Errorf("manifest header %v %v %v", m["apiVersion"], m["kind"], meta)
	}
	ann := meta["annotations"].(map[string]any)
	wantAnn := map[string]any{
		workv1alpha1.ResourceTemplateUIDAnnotation: "uid-1", workv1alpha1.WorkNameAnnotation: w.Name, workv1alpha1.WorkNamespaceAnnotation: esNS,
		workv1alpha1.ManagedAnnotationsAnnotation: strings.Join([]string{workv1alpha1.ManagedAnnotationsAnnotation, workv1alpha1.ManagedLabelsAnnotation,
			workv1alpha1.ResourceTemplateUIDAnnotation, workv1alpha1.WorkNameAnnotation, workv1alpha1.WorkNamespaceAnnotation}, ","),
		workv1alpha1.ManagedLabelsAnnotation: "endpointslice.kubernetes.io/managed-by,karmada.io/managed,kubernetes.io/service-name",
	}
	if !reflect.DeepEqual(ann, wantAnn) {
		t.Errorf("manifest annotations\n got %v\nwant %v", ann, wantAnn)
	}
	if meta["labels"].(map[string]any)[workv1alpha1.ManagedLabel] != "true" {
		t.Errorf("manifest labels %v", meta["labels"])
	}
}

// TestPlanKeepAndUpdate: an unchanged slice writes nothing, whatever the
// key order the hub stored; a changed one updates the cached Work and
// keeps what others put on it (the permanent ID goes into the manifest).
func TestPlanKeepAndUpdate(t *testing.T) {
	want := Want{Slice: testSlice("10.0.0.1"), Sources: []Source{FromServiceExport}, Managed: both, ControlPlane: true}
	created := mustPlan(t, want, nil).Work
	existing := created.DeepCopy()
	existing.ResourceVersion, existing.UID = "11", "w-uid"
	existing.Finalizers = append(existing.Finalizers, workv1alpha1.ExecutionControllerFinalizer)
	var m map[string]any
	_ = json.Unmarshal(existing.Spec.Workload.Manifests[0].Raw, &m)
	existing.Spec.Workload.Manifests[0].Raw, _ = json.MarshalIndent(m, "", "  ") // other bytes, same content
	if p := mustPlan(t, want, existing); p.Action != Keep {
		t.Fatalf("unchanged slice: action %v", p.Action)
	}
	want.Slice = testSlice("10.0.0.1", "10.0.0.2")
	existing.Labels[workv1alpha1.WorkPermanentIDLabel] = "pid"
	p := mustPlan(t, want, existing)
	if p.Action != Update || p.Work.ResourceVersion != "11" {
		t.Fatalf("scaled slice: action %v rv %q", p.Action, p.Work.ResourceVersion)
	}
	if !reflect.DeepEqual(p.Work.Finalizers, []string{ServiceExportFinalizer, workv1alpha1.ExecutionControllerFinalizer}) {
		t.Errorf("finalizers %v", p.Work.Finalizers)
	}
	raw := string(p.Work.Spec.Workload.Manifests[0].Raw)
	if !strings.Contains(raw, "10.0.0.2") || !strings.Contains(raw, `"work.karmada.io/permanent-id":"pid"`) {
		t.Errorf("manifest %s", raw)
	}
}

// TestPlanBothSources: a slice exported both ways lists both; losing one
// strips only its labels, losing both deletes the Work.
func TestPlanBothSources(t *testing.T) {
	want := Want{Slice: testSlice("10.0.0.1"), Sources: both, Managed: both, ControlPlane: true}
	w := mustPlan(t, want, nil).Work
	if w.Labels[ManagedByLabel] != "MultiClusterService.ServiceExport" || w.Labels[MCSNameLabel] != "web" || w.Labels[ServiceNameLabel] != "web" {
		t.Errorf("labels %v", w.Labels)
	}
	if !reflect.DeepEqual(w.Finalizers, []string{ServiceExportFinalizer, MCSFinalizer}) {
		t.Errorf("finalizers %v", w.Finalizers)
	}
	want.Sources = []Source{FromMCS}
	p := mustPlan(t, want, w)
	if p.Action != Update || p.Work.Labels[ManagedByLabel] != "MultiClusterService" || p.Work.Labels[ServiceNameLabel] != "" {
		t.Errorf("ServiceExport gone: %v %v", p.Action, p.Work.Labels)
	}
	if !reflect.DeepEqual(p.Work.Finalizers, w.Finalizers) {
		t.Errorf("on a control plane the finalizers stay for it to remove: %v", p.Work.Finalizers)
	}
	want.Sources = nil
	if p := mustPlan(t, want, w); p.Action != Delete {
		t.Errorf("no source left: %v", p.Action)
	}
}

// TestPlanPlainHub: without a control plane the agent adds no finalizer,
// removes its own from a Work being deleted, and leaves the others.
func TestPlanPlainHub(t *testing.T) {
	want := Want{Slice: testSlice("10.0.0.1"), Sources: []Source{FromServiceExport}, Managed: both}
	if w := mustPlan(t, want, nil).Work; w.Finalizers != nil {
		t.Errorf("finalizers %v on a plain hub", w.Finalizers)
	}
	old := mustPlan(t, Want{Slice: want.Slice, Sources: want.Sources, Managed: both, ControlPlane: true}, nil).Work
	old.Finalizers = append(old.Finalizers, workv1alpha1.ExecutionControllerFinalizer)
	old.DeletionTimestamp = ptr.To(metav1.Now())
	p := mustPlan(t, Want{Managed: both}, old)
	if p.Action != Update || !reflect.DeepEqual(p.Work.Finalizers, []string{workv1alpha1.ExecutionControllerFinalizer}) {
		t.Errorf("terminating Work on a plain hub: %v %v", p.Action, p.Work)
	}
	if p := mustPlan(t, Want{Managed: both, ControlPlane: true}, old); p.Action != Keep {
		t.Errorf("terminating Work on a control plane: %v", p.Action)
	}
}

// TestPlanUnmanagedSource: a source the agent does not run keeps the Work
// alive and its labels untouched.
func TestPlanUnmanagedSource(t *testing.T) {
	w := mustPlan(t, Want{Slice: testSlice("10.0.0.1"), Sources: both, Managed: both, ControlPlane: true}, nil).Work
	p := mustPlan(t, Want{Managed: []Source{FromServiceExport}, ControlPlane: true}, w)
	if p.Action != Update || p.Work.Labels[ManagedByLabel] != "MultiClusterService" || p.Work.Labels[MCSNameLabel] != "web" {
		t.Errorf("%v %v", p.Action, p.Work.Labels)
	}
}

// TestManagedByKarmada: slices Karmada wrote are recognised by their
// endpointslice.kubernetes.io/managed-by value.
func TestManagedByKarmada(t *testing.T) {
	for v, want := range map[string]bool{"endpointslice-dispatch-controller.karmada.io": true, "endpointslice-controller.karmada.io": true,
		"endpointslice-controller.k8s.io": false, "": false} {
		s := testSlice()
		s.Labels[discoveryv1.LabelManagedBy] = v
		if got := managedByKarmada(s); got != want {
			t.Errorf("managed-by %q: %v", v, got)
		}
	}
}

// TestSliceOf: only a Work whose one manifest is an EndpointSlice with the
// matching name is a reported one.
func TestSliceOf(t *testing.T) {
	w := mustPlan(t, Want{Slice: testSlice("10.0.0.1"), Sources: both, Managed: both}, nil).Work
	if k, ok := sliceOf(w); !ok || k != "shop/web-abc" {
		t.Errorf("sliceOf = %q %v", k, ok)
	}
	w.Name = "other"
	if _, ok := sliceOf(w); ok {
		t.Error("a Work of another name is taken for the slice's")
	}
}
