// Package apply is Tether's server-side-apply engine: a small library type
// that takes objects and options and returns a change set, in the manner of
// fluxcd/pkg/ssa. It applies under one field manager, in dependency order
// (CustomResourceDefinitions, then Namespaces, then the rest), waits for CRDs
// to be Established, skips writes that would change nothing, and isolates
// per-object failures. It knows nothing about Works or the hub.
package apply
