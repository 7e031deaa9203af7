package v1alpha1

// Annotations on a Work that record which overrides the hub already rendered
// into its manifests. Their value is a JSON array of OverridePolicyShadow,
// sorted by policy name.
const (
	AppliedOverrides        = "policy.karmada.io/applied-overrides"
	AppliedClusterOverrides = "policy.karmada.io/applied-cluster-overrides"
)

// OverridePolicyShadow is one entry of the applied-overrides record: the
// overriders of one policy that were applied to a manifest.
type OverridePolicyShadow struct {
	// PolicyName is the name of the referencing policy.
	PolicyName string `json:"policyName"`
	// Overriders is the overrider list of the referencing policy.
	Overriders Overriders `json:"overriders"`
}

// Field selector keys accepted in ClusterAffinity.FieldSelector.
const (
	ProviderField = "provider"
	RegionField   = "region"
	ZoneField     = "zone"
)
