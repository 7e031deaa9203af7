package interpret

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// fluxKinds: Flux's HelmRelease (helm.toolkit.fluxcd.io v2, v2beta2,
// v2beta1) and Kustomization (kustomize.toolkit.fluxcd.io v1, v1beta2).
// The reflection is the field set of Karmada's scripts: the conditions,
// the revisions, the failure counters and the generations.
var fluxKinds = concat(
	rules(gvks("helm.toolkit.fluxcd.io", "HelmRelease", "v2", "v2beta2", "v2beta1"),
		subset(true, "conditions", "observedGeneration", "lastAttemptedRevision", "lastAppliedRevision",
			"lastAttemptedValuesChecksum", "helmChart", "lastReleaseRevision", "failures", "upgradeFailures", "installFailures"),
		fluxHealth),
	rules(gvks("kustomize.toolkit.fluxcd.io", "Kustomization", "v1", "v1beta2"),
		subset(true, "conditions", "lastAppliedRevision", "lastAttemptedRevision", "observedGeneration"),
		fluxHealth),
)

// fluxHealth: a Flux object is Healthy when its Ready condition is True
// and describes the current spec: status.observedGeneration, and the
// condition's own observedGeneration when it has one, are at least
// metadata.generation. Anything else (Ready False or Unknown, no Ready
// yet, a newer spec not reconciled) is Unhealthy.
func fluxHealth(obj *unstructured.Unstructured, status map[string]any) workv1alpha1.ResourceHealth {
	seen, ok := observed(obj, status)
	if !ok {
		return unknown
	}
	if !seen || !conditionTrue(status, "Ready") {
		return unhealthy
	}
	return verdict(readyObserved(obj, status))
}

// readyObserved reports whether the Ready condition, when it carries an
// observedGeneration, was set for the current generation.
func readyObserved(obj *unstructured.Unstructured, status map[string]any) bool {
	list, _ := status["conditions"].([]any)
	for _, c := range list {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" || m["observedGeneration"] == nil {
			continue
		}
		g, ok := counter(m, "observedGeneration")
		return ok && (obj.GetGeneration() == 0 || g >= obj.GetGeneration())
	}
	return true
}
