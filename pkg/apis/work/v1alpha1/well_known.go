package v1alpha1

// Condition types of a Work. Only Applied and Dispatching are written by an
// agent; the others are declared by Karmada's API and kept for wire parity.
const (
	// WorkApplied says whether every manifest of the Work was applied.
	WorkApplied = "Applied"
	// WorkProgressing represents that the workload is being applied.
	WorkProgressing = "Progressing"
	// WorkAvailable represents that the workload exists on the member cluster.
	WorkAvailable = "Available"
	// WorkDegraded represents that the workload does not match the desired state.
	WorkDegraded = "Degraded"
	// WorkDispatching says whether the Work is dispatched or suspended.
	WorkDispatching = "Dispatching"
)

// Reasons and messages of the Applied and Dispatching conditions, exactly as
// karmada-agent writes them.
const (
	ReasonAppliedSuccessful  = "AppliedSuccessful"
	ReasonAppliedFailed      = "AppliedFailed"
	ReasonDispatching        = "Dispatching"
	ReasonSuspendDispatching = "SuspendDispatching"

	MessageAppliedSuccessful = "Manifest has been successfully applied"
	// MessageAppliedFailedFormat takes succeeded, total and the aggregated errors.
	MessageAppliedFailedFormat = "Failed to apply all manifests (%d/%d): %s"
	MessageDispatching         = "Work is being dispatched to member clusters."
	MessageSuspendDispatching  = "Work dispatching is in a suspended state."
)

// Finalizers.
const (
	// ExecutionControllerFinalizer is added to a Work by its producer and removed
	// by the agent once the member objects were deleted or preserved.
	ExecutionControllerFinalizer = "karmada.io/execution-controller"
)

// Namespaces and name prefixes.
const (
	// ExecutionSpacePrefix prefixes the hub namespace that holds a cluster's Works.
	ExecutionSpacePrefix = "karmada-es-"
)

// ExecutionNamespace returns the hub namespace holding the Works of cluster.
func ExecutionNamespace(cluster string) string { return ExecutionSpacePrefix + cluster }

// Labels on Works and on the manifests they carry.
const (
	// ManagedLabel marks a member object as managed by Karmada; the agent only
	// updates or deletes member objects that carry it.
	ManagedLabel      = "karmada.io/managed"
	ManagedLabelValue = "true"
	// WorkPermanentIDLabel is the UUID the Work mutating webhook gives every Work.
	WorkPermanentIDLabel = "work.karmada.io/permanent-id"
	// ResourceBindingPermanentIDLabel marks a Work produced by a binding controller.
	ResourceBindingPermanentIDLabel = "resourcebinding.karmada.io/permanent-id"
	// ClusterResourceBindingPermanentIDLabel marks a Work produced by a cluster binding controller.
	ClusterResourceBindingPermanentIDLabel = "clusterresourcebinding.karmada.io/permanent-id"
	// PropagationPolicyPermanentIDLabel is the policy claim inherited from the template.
	PropagationPolicyPermanentIDLabel = "propagationpolicy.karmada.io/permanent-id"
	// ClusterPropagationPolicyPermanentIDLabel is the cluster policy claim inherited from the template.
	ClusterPropagationPolicyPermanentIDLabel = "clusterpropagationpolicy.karmada.io/permanent-id"
	// RetainReplicasLabel on a manifest tells the agent to leave spec.replicas to the member.
	RetainReplicasLabel = "resourcetemplate.karmada.io/retain-replicas"
	// SystemLabel marks objects created by the agent and by register.
	SystemLabel = "karmada.io/system"
)

// Annotations on Works and on the manifests they carry.
const (
	// WorkNameAnnotation and WorkNamespaceAnnotation point from a member object back to its Work.
	WorkNameAnnotation      = "work.karmada.io/name"
	WorkNamespaceAnnotation = "work.karmada.io/namespace"
	// ConflictResolutionAnnotation is "overwrite" or "abort" (the default).
	ConflictResolutionAnnotation = "work.karmada.io/conflict-resolution"
	ConflictResolutionOverwrite  = "overwrite"
	ConflictResolutionAbort      = "abort"
	// ManagedAnnotationsAnnotation and ManagedLabelsAnnotation list the keys the hub propagated.
	ManagedAnnotationsAnnotation = "resourcetemplate.karmada.io/managed-annotations"
	ManagedLabelsAnnotation      = "resourcetemplate.karmada.io/managed-labels"
	// ResourceTemplateUIDAnnotation is the UID of the hub's resource template.
	ResourceTemplateUIDAnnotation = "resourcetemplate.karmada.io/uid"
	// ResourceTemplateGenerationAnnotation is the template's metadata.generation.
	ResourceTemplateGenerationAnnotation = "resourcetemplate.karmada.io/generation"
	// Binding back-pointers.
	ResourceBindingNamespaceAnnotation     = "resourcebinding.karmada.io/namespace"
	ResourceBindingNameAnnotation          = "resourcebinding.karmada.io/name"
	ClusterResourceBindingNameAnnotation   = "clusterresourcebinding.karmada.io/name"
	PropagationPolicyNamespaceAnnotation   = "propagationpolicy.karmada.io/namespace"
	PropagationPolicyNameAnnotation        = "propagationpolicy.karmada.io/name"
	ClusterPropagationPolicyNameAnnotation = "clusterpropagationpolicy.karmada.io/name"
)

// PreserveStrippedLabels are removed from member objects when a Work with
// preserveResourcesOnDeletion is deleted (Karmada's util.ManagedResourceLabels
// plus the policy claim labels).
var PreserveStrippedLabels = []string{
	ResourceBindingPermanentIDLabel,
	WorkPermanentIDLabel,
	ManagedLabel,
	PropagationPolicyPermanentIDLabel,
	ClusterPropagationPolicyPermanentIDLabel,
}

// PreserveStrippedAnnotations are removed from member objects when a Work with
// preserveResourcesOnDeletion is deleted.
var PreserveStrippedAnnotations = []string{
	ManagedAnnotationsAnnotation,
	ManagedLabelsAnnotation,
	ResourceBindingNamespaceAnnotation,
	ResourceBindingNameAnnotation,
	ResourceTemplateUIDAnnotation,
	ResourceTemplateGenerationAnnotation,
	WorkNameAnnotation,
	WorkNamespaceAnnotation,
	PropagationPolicyNamespaceAnnotation,
	PropagationPolicyNameAnnotation,
	ClusterPropagationPolicyNameAnnotation,
}
