// Package v1alpha1 is the policy.karmada.io/v1alpha1 API group as far as a
// member agent uses it: OverridePolicy and ClusterOverridePolicy, which Tether
// renders at the edge, and the applied-overrides record.
//
// +kubebuilder:object:generate=true
// +groupName=policy.karmada.io
package v1alpha1
