// Package v1alpha1 is the cluster.karmada.io/v1alpha1 API group: the Cluster
// object through which a member joins the hub and reports its status. Karmada
// serves it from an aggregated apiserver; Tether ships it as a CRD with a status
// subresource so that a plain Kubernetes cluster can be the hub.
//
// +kubebuilder:object:generate=true
// +groupName=cluster.karmada.io
package v1alpha1
