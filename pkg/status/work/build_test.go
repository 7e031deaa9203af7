package work

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// observedGeneration alone is written only over a condition that had one:
// a hub condition without it (karmada-agent's) matches; one with an older
// generation does not.
func TestSameStatusObservedGeneration(t *testing.T) {
	status := func(gen int64) workv1alpha1.WorkStatus {
		return workv1alpha1.WorkStatus{Conditions: []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue,
			Reason: workv1alpha1.ReasonAppliedSuccessful, Message: workv1alpha1.MessageAppliedSuccessful, ObservedGeneration: gen}}}
	}
	if !sameStatus(status(3), status(0)) {
		t.Error("a condition with observedGeneration differs from the same one without (karmada-agent's)")
	}
	if sameStatus(status(3), status(2)) {
		t.Error("a newer observedGeneration is not written over an older one")
	}
	if sameStatus(status(0), status(2)) == sameStatus(status(2), status(0)) {
		t.Error("the hub's observedGeneration is dropped: only a missing one on the hub is matched")
	}
	changed := status(0)
	changed.Conditions[0].Status = metav1.ConditionFalse
	if sameStatus(status(3), changed) {
		t.Error("a changed condition status matches")
	}
}

func TestHeadersAreDecodedOncePerGeneration(t *testing.T) {
	w := New(Config{})
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: "w", Namespace: "ns", UID: "u1", Generation: 1},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
			{RawExtension: runtime.RawExtension{Raw: []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"x","labels":{"a":"b"}},"spec":{"replicas":1}}`)}},
			{RawExtension: runtime.RawExtension{Raw: []byte(`{not json`)}},
		}}}}
	first := w.headers(work)
	if len(first) != 2 || first[0].obj == nil || first[1].err == nil {
		t.Fatalf("headers = %+v", first)
	}
	h := first[0].obj
	if h.GetKind() != "Deployment" || h.GetAPIVersion() != "apps/v1" || h.GetName() != "d" || h.GetNamespace() != "x" || h.GetLabels() != nil || h.Object["spec"] != nil {
		t.Errorf("header keeps more or less than identity: %v", h.Object)
	}
	if again := w.headers(work); &again[0] != &first[0] {
		t.Error("the same generation was decoded again")
	}
	work.Generation = 2
	if again := w.headers(work); &again[0] == &first[0] {
		t.Error("a new generation was not decoded")
	}
	w.Forget("ns/w")
	if _, ok := w.decoded["ns/w"]; ok {
		t.Error("Forget kept the decoded headers")
	}
}
