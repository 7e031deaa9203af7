// Package v1alpha1 is the work.karmada.io/v1alpha1 API group: the Work object
// through which the hub hands manifests to a member cluster, and the labels,
// annotations, finalizers and conditions that go with it.
//
// +kubebuilder:object:generate=true
// +groupName=work.karmada.io
package v1alpha1
