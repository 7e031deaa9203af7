package interpret

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// argoKinds: Argo Rollouts' Rollout (argoproj.io/v1alpha1). Karmada ships
// no rule for it. The reflection is the Deployment-like counters, the
// rollout's phase and position, and the generations; the conditions and
// message, which change on every step, are left out.
var argoKinds = rules(gvks("argoproj.io", "Rollout", "v1alpha1"),
	subset(true, "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "observedGeneration",
		"phase", "abort", "currentStepIndex", "pauseConditions", "stableRS", "currentPodHash"),
	rolloutHealth)

// rolloutHealth: a Rollout is Healthy when its controller observed the
// current spec (status.observedGeneration, a string in this API) and
// reports phase Healthy. An aborted rollout and the phases Progressing,
// Paused and Degraded are Unhealthy: the new version is not fully out. A
// controller too old to report a phase is judged by the Deployment rule
// over the counters.
func rolloutHealth(obj *unstructured.Unstructured, status map[string]any) workv1alpha1.ResourceHealth {
	seen, ok := observed(obj, status)
	if !ok {
		return unknown
	}
	if !seen || status["abort"] == true {
		return unhealthy
	}
	switch phase, _ := status["phase"].(string); phase {
	case "Healthy":
		return healthy
	case "":
		return rolloutCounters(obj, status)
	default:
		return unhealthy
	}
}

// rolloutCounters: every desired replica (spec.replicas, default 1) is
// updated, and the updated ones are available.
func rolloutCounters(obj *unstructured.Unstructured, status map[string]any) workv1alpha1.ResourceHealth {
	want := int64(1)
	if spec, ok := obj.Object["spec"].(map[string]any); ok && spec["replicas"] != nil {
		n, ok := counter(spec, "replicas")
		if !ok {
			return unknown
		}
		want = n
	}
	updated, ok1 := counter(status, "updatedReplicas")
	available, ok2 := counter(status, "availableReplicas")
	return judged(updated >= want && available >= updated, ok1 && ok2)
}
