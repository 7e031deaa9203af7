package manifest

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/drift"
)

// The markers that tie a member object to its Work, as karmada-agent sets
// them: the karmada.io/managed label, and the work.karmada.io/namespace and
// /name annotations pointing back to the Work.

// WorkRef names a Work on the hub.
type WorkRef struct{ Namespace, Name string }

// Key is namespace/name, the Work's queue key.
func (w WorkRef) Key() string { return w.Namespace + "/" + w.Name }

// WorkOf returns the Work an object's annotations name, and whether they name one.
func WorkOf(obj *unstructured.Unstructured) (WorkRef, bool) {
	a := obj.GetAnnotations()
	ref := WorkRef{Namespace: a[workv1alpha1.WorkNamespaceAnnotation], Name: a[workv1alpha1.WorkNameAnnotation]}
	return ref, ref.Namespace != "" && ref.Name != ""
}

// Managed reports whether a live object carries Karmada's managed label.
func Managed(live *unstructured.Unstructured) bool {
	return live.GetLabels()[workv1alpha1.ManagedLabel] == workv1alpha1.ManagedLabelValue
}

// OwnedBy reports whether a live object belongs to the Work: it is managed
// and its annotations name that Work.
func OwnedBy(live *unstructured.Unstructured, work WorkRef) bool {
	w, ok := WorkOf(live)
	return ok && Managed(live) && w == work
}

// Stamp marks a desired object as managed and points it back to its Work,
// keeping the labels and annotations the hub put on the manifest. With the
// retain-replicas label it leaves spec.replicas to the member (an HPA), so
// the agent never owns that field.
func Stamp(obj *unstructured.Unstructured, work WorkRef) {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[workv1alpha1.ManagedLabel] = workv1alpha1.ManagedLabelValue
	obj.SetLabels(l)
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[workv1alpha1.WorkNameAnnotation] = work.Name
	a[workv1alpha1.WorkNamespaceAnnotation] = work.Namespace
	obj.SetAnnotations(a)
	if l[workv1alpha1.RetainReplicasLabel] == "true" {
		unstructured.RemoveNestedField(obj.Object, "spec", "replicas")
	}
	drift.StampDigest(obj)
}

// PruneDisabled reports whether an object (a manifest or its member object)
// asks never to be deleted by the agent.
func PruneDisabled(obj *unstructured.Unstructured) bool {
	return obj.GetAnnotations()[workv1alpha1.PruneAnnotation] == workv1alpha1.PruneDisabled
}
