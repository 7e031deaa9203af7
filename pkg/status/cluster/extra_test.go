package cluster

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// TestExtraConditionsMergeWithoutTouchingReady: supplied conditions are
// merged by type, keep their transition time while their status holds, and
// cannot replace the conditions this controller owns.
func TestExtraConditionsMergeWithoutTouchingReady(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	held := metav1.Condition{Type: clusterv1alpha1.ClusterConditionDeletesHeld, Status: metav1.ConditionTrue,
		Reason: clusterv1alpha1.ReasonBulkDeletionHeld, Message: "40 held", LastTransitionTime: metav1.NewTime(now)}
	c := &StatusController{cfg: StatusConfig{Clock: clocktesting.NewFakeClock(now.Add(time.Hour)), ExtraConditions: func() []metav1.Condition {
		return []metav1.Condition{held, {Type: clusterv1alpha1.ClusterConditionReady, Status: metav1.ConditionFalse, Reason: "Impostor"}}
	}}}
	ready := metav1.Condition{Type: clusterv1alpha1.ClusterConditionReady, Status: metav1.ConditionTrue, Reason: clusterv1alpha1.ReasonClusterReady,
		LastTransitionTime: metav1.NewTime(now.Add(-time.Hour))}
	status := &clusterv1alpha1.ClusterStatus{Conditions: []metav1.Condition{ready}}
	c.setExtraConditions(status)
	if got := meta.FindStatusCondition(status.Conditions, clusterv1alpha1.ClusterConditionReady); got == nil || got.Reason != clusterv1alpha1.ReasonClusterReady {
		t.Errorf("Ready was replaced: %+v", got)
	}
	got := meta.FindStatusCondition(status.Conditions, clusterv1alpha1.ClusterConditionDeletesHeld)
	if got == nil || got.Status != metav1.ConditionTrue || got.Message != "40 held" || !got.LastTransitionTime.Time.Equal(now) {
		t.Fatalf("DeletesHeld %+v", got)
	}
	held.Message, held.LastTransitionTime = "41 held", metav1.NewTime(now.Add(time.Minute))
	c.setExtraConditions(status)
	got = meta.FindStatusCondition(status.Conditions, clusterv1alpha1.ClusterConditionDeletesHeld)
	if got.Message != "41 held" || !got.LastTransitionTime.Time.Equal(now) {
		t.Errorf("an update without a transition: %+v", got)
	}
	if len(status.Conditions) != 2 {
		t.Errorf("conditions %+v", status.Conditions)
	}
}
