package work

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
