// Package v1alpha1 is the config.karmada.io/v1alpha1 API group as far as a
// member agent uses it: ResourceInterpreterCustomization, whose Lua scripts
// tell the agent how to reflect the status of a kind, judge its health and
// retain member-set values before an apply.
//
// +kubebuilder:object:generate=true
// +groupName=config.karmada.io
package v1alpha1
