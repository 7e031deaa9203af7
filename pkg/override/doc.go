// Package override renders Karmada OverridePolicies and
// ClusterOverridePolicies into a manifest at the edge, the way Karmada's
// control plane does before it writes a Work.
//
// It is a pure library: no clients, no globals, and it opens nothing.
// Render takes a manifest, the member's Cluster object and the policies in
// effect, and returns a rendered deep copy exactly as it is applied: the
// overrides, and the record of what was applied in Karmada's
// policy.karmada.io/applied-overrides and applied-cluster-overrides
// annotations (record.go). The agent, `tether-agent render` and the golden
// tests all apply or print that one object. Rendering is all-or-nothing: on
// any fault the input is untouched and the error (a *PolicyError
// underneath) names the policy, rule, overrider and field. Input (input.go)
// decodes the Clusters, policies and manifests of a stream of YAML or JSON
// documents given to it, for the CLI and the golden tests.
//
// Each overrider kind lives in its own file as a pure function over the
// manifest: image.go, commandargs.go, labelannotation.go, field.go and
// plaintext.go. Selection and ordering live in select.go and cluster.go.
// ShouldRender (mode.go) decides whether a Work is rendered at the edge at
// all: Works that Karmada's control plane produced (producer.go: binding,
// namespace, quota, unified-auth and EndpointSlice Works) arrive rendered
// or are never overridden.
package override
