package v1alpha1

// Tether's own extensions. Karmada ignores them: they live under Tether's
// domain and change nothing in Karmada's wire format. The README's "Failure
// behaviour" section describes what each one does.
const (
	// PruneAnnotation on a manifest set to PruneDisabled means the agent never
	// deletes the member object: not when its manifest is removed from the
	// Work, not when the Work is deleted (the object is released as with
	// preserveResourcesOnDeletion). Flux's prune: disabled.
	PruneAnnotation = "tether.io/prune"
	PruneDisabled   = "disabled"

	// CascadeDeleteAnnotation on a Work set to "true" allows deleting a
	// Namespace or CustomResourceDefinition manifest of that Work even when the
	// member holds objects in it (or of it) that Tether does not own. Without
	// it such a delete waits, with a condition that names what blocks it.
	CascadeDeleteAnnotation = "tether.io/cascade-delete"
)
