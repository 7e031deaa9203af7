package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=ric,categories={karmada-io}
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="TARGET-API-VERSION",type=string,JSONPath=`.spec.target.apiVersion`
// +kubebuilder:printcolumn:name="TARGET-KIND",type=string,JSONPath=`.spec.target.kind`
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=`.metadata.creationTimestamp`

// ResourceInterpreterCustomization holds Lua scripts that interpret one
// resource type: how to reflect its status, judge its health, retain values
// the member cluster sets, and more. It takes precedence over the built-in
// rules for that type.
type ResourceInterpreterCustomization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec describes the customization.
	// +required
	Spec ResourceInterpreterCustomizationSpec `json:"spec"`
}

// ResourceInterpreterCustomizationSpec names the target type and its rules.
type ResourceInterpreterCustomizationSpec struct {
	// Target is the resource type the customization applies to.
	// +required
	Target CustomizationTarget `json:"target"`

	// Customizations are the interpretation rules.
	// +required
	Customizations CustomizationRules `json:"customizations"`
}

// CustomizationTarget is a resource type by apiVersion and kind.
type CustomizationTarget struct {
	// APIVersion is the API version of the target resource, as "apps/v1".
	// +required
	APIVersion string `json:"apiVersion"`

	// Kind is the kind of the target resource.
	// +required
	Kind string `json:"kind"`
}

// CustomizationRules are the interpretation rules, each a Lua script that
// defines one function. The member agent runs Retention (Retain),
// StatusReflection (ReflectStatus) and HealthInterpretation
// (InterpretHealth); the others are the control plane's.
type CustomizationRules struct {
	// Retention keeps values that member-cluster components set (an HPA's
	// replicas, for one) in the object before it is applied.
	// The script defines Retain(desiredObj, observedObj) and returns the
	// object to apply.
	// +optional
	Retention *LocalValueRetention `json:"retention,omitempty"`

	// ReplicaResource discovers the replicas of the resource and what each
	// replica requires: GetReplicas(desiredObj) returns replica, requirement.
	// +optional
	ReplicaResource *ReplicaResourceRequirement `json:"replicaResource,omitempty"`

	// ComponentResource discovers the replicas and requirements of each
	// component of a resource with several pod templates:
	// GetComponents(desiredObj) returns the components.
	// +optional
	ComponentResource *ComponentResourceRequirement `json:"componentResource,omitempty"`

	// ReplicaRevision revises the replicas of the desired object:
	// ReviseReplica(desiredObj, desiredReplica) returns the object.
	// +optional
	ReplicaRevision *ReplicaRevision `json:"replicaRevision,omitempty"`

	// StatusReflection picks the status to report from the observed object:
	// ReflectStatus(observedObj) returns the status (all of it or a part).
	// +optional
	StatusReflection *StatusReflection `json:"statusReflection,omitempty"`

	// StatusAggregation sums the statuses reported by member clusters into
	// the resource template: AggregateStatus(desiredObj, statusItems).
	// +optional
	StatusAggregation *StatusAggregation `json:"statusAggregation,omitempty"`

	// HealthInterpretation judges the health of the observed object:
	// InterpretHealth(observedObj) returns a boolean.
	// +optional
	HealthInterpretation *HealthInterpretation `json:"healthInterpretation,omitempty"`

	// DependencyInterpretation names the objects the resource depends on:
	// GetDependencies(desiredObj) returns a list of references.
	// +optional
	DependencyInterpretation *DependencyInterpretation `json:"dependencyInterpretation,omitempty"`
}

// LocalValueRetention holds the Lua script of the retention rule.
type LocalValueRetention struct {
	// LuaScript defines Retain(desiredObj, observedObj), which returns
	// desiredObj with the values to keep copied from observedObj.
	// +required
	LuaScript string `json:"luaScript"`
}

// ReplicaResourceRequirement holds the Lua script of the replica rule.
type ReplicaResourceRequirement struct {
	// LuaScript defines GetReplicas(desiredObj), which returns the declared
	// replica count and the requirement of each replica.
	// +required
	LuaScript string `json:"luaScript"`
}

// ComponentResourceRequirement holds the Lua script of the component rule.
type ComponentResourceRequirement struct {
	// LuaScript defines GetComponents(desiredObj), which returns the
	// replicas and requirements of each component.
	// +required
	LuaScript string `json:"luaScript"`
}

// ReplicaRevision holds the Lua script of the replica revision rule.
type ReplicaRevision struct {
	// LuaScript defines ReviseReplica(desiredObj, desiredReplica), which
	// returns desiredObj with its replicas revised.
	// +required
	LuaScript string `json:"luaScript"`
}

// StatusReflection holds the Lua script of the status reflection rule.
type StatusReflection struct {
	// LuaScript defines ReflectStatus(observedObj), which returns the status
	// to report, whole or in part.
	// +required
	LuaScript string `json:"luaScript"`
}

// StatusAggregation holds the Lua script of the status aggregation rule.
type StatusAggregation struct {
	// LuaScript defines AggregateStatus(desiredObj, statusItems), which
	// returns desiredObj with the member statuses summed into its status.
	// +required
	LuaScript string `json:"luaScript"`
}

// HealthInterpretation holds the Lua script of the health rule.
type HealthInterpretation struct {
	// LuaScript defines InterpretHealth(observedObj), which returns true
	// when the object is healthy.
	// +required
	LuaScript string `json:"luaScript"`
}

// DependencyInterpretation holds the Lua script of the dependency rule.
type DependencyInterpretation struct {
	// LuaScript defines GetDependencies(desiredObj), which returns the
	// references of the objects the resource depends on.
	// +required
	LuaScript string `json:"luaScript"`
}

// +kubebuilder:object:root=true

// ResourceInterpreterCustomizationList is a list of ResourceInterpreterCustomization.
type ResourceInterpreterCustomizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ResourceInterpreterCustomization `json:"items"`
}
