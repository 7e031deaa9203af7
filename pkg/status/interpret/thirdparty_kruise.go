package interpret

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// kruiseKinds: OpenKruise's CloneSet and Advanced StatefulSet
// (apps.kruise.io). The reflection carries the workload counters, the
// revisions and the generations, as Karmada's third-party scripts do, so
// that the control plane sums them the same way.
var kruiseKinds = concat(
	rules(gvks("apps.kruise.io", "CloneSet", "v1alpha1"),
		subset(true, "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "updatedReadyReplicas",
			"expectedUpdatedReplicas", "updateRevision", "currentRevision", "observedGeneration", "labelSelector"),
		kruiseWorkloadHealth),
	rules(gvks("apps.kruise.io", "StatefulSet", "v1alpha1", "v1beta1"),
		subset(true, "replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas",
			"updateRevision", "currentRevision", "updatedReadyReplicas", "observedGeneration"),
		kruiseWorkloadHealth),
)

// kruiseWorkloadHealth is the Deployment rule over a Kruise workload's
// status: the controller observed the current generation, every desired
// replica is updated, and the updated ones are available. Absent counters
// read as 0, so a workload its controller has not seen yet is Unhealthy.
func kruiseWorkloadHealth(obj *unstructured.Unstructured, status map[string]any) workv1alpha1.ResourceHealth {
	observedGen, ok1 := counter(status, "observedGeneration")
	updated, ok2 := counter(status, "updatedReplicas")
	available, ok3 := counter(status, "availableReplicas")
	if !ok1 || !ok2 || !ok3 {
		return unknown
	}
	if observedGen != obj.GetGeneration() {
		return unhealthy
	}
	if spec, ok := obj.Object["spec"].(map[string]any); ok && spec["replicas"] != nil {
		want, ok := counter(spec, "replicas")
		if !ok {
			return unknown
		}
		if updated < want {
			return unhealthy
		}
	}
	return verdict(available >= updated)
}
