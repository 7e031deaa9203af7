package cluster

import (
	"encoding/json"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

func TestStatusPatch(t *testing.T) {
	cluster := &clusterv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "c", ResourceVersion: "42"},
		Status: clusterv1alpha1.ClusterStatus{
			KubernetesVersion: "v1.36.0",
			RemedyActions:     []string{"TrafficControl"},
			Conditions:        []metav1.Condition{{Type: "Foreign", Status: metav1.ConditionTrue, Reason: "Hub"}},
			ResourceSummary: &clusterv1alpha1.ResourceSummary{
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8")},
				Allocating:  corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")},
			},
		},
	}
	desired := cluster.Status.DeepCopy()
	desired.ResourceSummary.Allocating = nil
	desired.Conditions = append(desired.Conditions, metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "ClusterReady"})

	patch, err := statusPatch(cluster, desired)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"resourceVersion":"42"},"status":{"conditions":[` +
		`{"type":"Foreign","status":"True","lastTransitionTime":null,"reason":"Hub","message":""},` +
		`{"type":"Ready","status":"True","lastTransitionTime":null,"reason":"ClusterReady","message":""}],` +
		`"resourceSummary":{"allocating":null}}}`
	var got, exp any
	if err := json.Unmarshal(patch, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("patch =\n%s\nwant\n%s", patch, want)
	}

	same := cluster.Status.DeepCopy()
	if patch, err := statusPatch(cluster, same); err != nil || patch != nil {
		t.Fatalf("an unchanged status gives patch %s, %v; want none", patch, err)
	}
}

// TestRebaseStatus: after a conflict, the Update fallback makes the same
// change to the Cluster it read again: the fields that changed, and the
// conditions by type, keeping what another writer set in between.
func TestRebaseStatus(t *testing.T) {
	ready := func(s metav1.ConditionStatus) metav1.Condition {
		return metav1.Condition{Type: "Ready", Status: s, Reason: "R" + string(s)}
	}
	before := &clusterv1alpha1.ClusterStatus{KubernetesVersion: "v1.35.0", Conditions: []metav1.Condition{ready(metav1.ConditionFalse),
		{Type: "Gone", Status: metav1.ConditionTrue, Reason: "Old"}}}
	after := &clusterv1alpha1.ClusterStatus{KubernetesVersion: "v1.36.0", Conditions: []metav1.Condition{ready(metav1.ConditionTrue)},
		NodeSummary: &clusterv1alpha1.NodeSummary{TotalNum: 3, ReadyNum: 3}}
	fresh := before.DeepCopy()
	fresh.RemedyActions = []string{"TrafficControl"}
	fresh.Conditions = append(fresh.Conditions, metav1.Condition{Type: "Foreign", Status: metav1.ConditionTrue, Reason: "Hub"})

	got, err := rebaseStatus(fresh, before, after)
	if err != nil {
		t.Fatal(err)
	}
	if got.KubernetesVersion != "v1.36.0" || got.NodeSummary == nil || got.NodeSummary.TotalNum != 3 || !reflect.DeepEqual(got.RemedyActions, fresh.RemedyActions) {
		t.Fatalf("fields: %+v", got)
	}
	var types []string
	for _, c := range got.Conditions {
		types = append(types, c.Type+"="+string(c.Status))
	}
	if want := []string{"Ready=True", "Foreign=True"}; !reflect.DeepEqual(types, want) {
		t.Fatalf("conditions %v, want %v", types, want)
	}
}
