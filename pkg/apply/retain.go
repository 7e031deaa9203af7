package apply

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// replicasPath is spec.replicas, which a manifest labelled retain-replicas
// leaves to the member (an HPA); manifest.Stamp drops it from the manifest.
var replicasPath = fieldpath.MakePathOrDie("spec", "replicas")

// keepRetainedReplicas keeps the member's spec.replicas in desired when the
// manifest leaves replicas to the member but the engine still owns the field
// from an apply made before the retain-replicas label came: an apply
// without the field would remove it, and the workload would fall back to
// its default of one replica. The engine keeps owning it at the member's
// value until another manager (an HPA through /scale) changes it, which
// takes the ownership away; from then on the field is the member's alone.
func (a *Applier) keepRetainedReplicas(desired, live *unstructured.Unstructured) {
	if desired.GetLabels()[workv1alpha1.RetainReplicasLabel] != "true" {
		return
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(desired.Object, "spec", "replicas"); found {
		return
	}
	v, found, err := unstructured.NestedFieldNoCopy(live.Object, "spec", "replicas")
	if !found || err != nil {
		return
	}
	if owned := a.ownedFields(live); owned == nil || !owned.Has(replicasPath) {
		return
	}
	_ = unstructured.SetNestedField(desired.Object, runtime.DeepCopyJSONValue(v), "spec", "replicas")
}

// retained runs the configured Retain on desired, if any.
func (a *Applier) retained(desired, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if a.retain == nil {
		return desired, nil
	}
	out, err := a.retain(desired, live)
	if err != nil {
		return nil, fmt.Errorf("retention customization: %w", err)
	}
	return out, nil
}
