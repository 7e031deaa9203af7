// Package manifest is the one home of a Work's manifests as the agent sees
// them: decoding (with errors that never echo manifest content, so a Secret
// with a typo never publishes its data through status, conditions or
// Events), the identity of the member object a manifest names (normalised
// once, with the namespace taken from the kind's REST scope), and the
// markers that tie a member object to its Work (the karmada.io/managed
// label and the work.karmada.io annotations).
//
// The Work controller (pkg/execution), the status writer, garbage collection and
// 'tether-agent unregister' all read manifests through this package, so
// the rules below exist once.
package manifest
