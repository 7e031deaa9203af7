// Package drift is what Tether knows and decides about drift, a member-side
// change to an object Tether applied, as opposed to a change of the manifest
// on the hub.
//
// The applied digest (digest.go) tells the two apart: each object Tether
// applies carries the annotation tether.io/applied-digest, a short sha256 of
// the manifest it was applied from. When the member object carries the
// digest of the manifest in force, a difference on a field Tether applies is
// drift; any other digest means the hub changed the manifest, and a missing
// digest (an object applied by an older Tether or by karmada-agent) means it
// cannot tell, so nothing is reported.
//
// A Finding (finding.go) is what one sync found on one object: the fields
// that differ, as JSON pointers into the manifest with both values cut short
// (never a Secret's), and the member manager that changed each when its
// managedFields tell it. A Record (record.go) is what the Work's status keeps
// of the last drift episode of a manifest; Next (merge.go) folds each sync's
// Observation into it so that the record changes, and is written, only when
// the drifted path set or its state does. The per-manifest policy
// (policy.go: correct, report or ignore, chosen by annotations) says what the
// apply engine does about it.
package drift
