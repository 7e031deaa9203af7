// Package execution is Tether's core loop: it watches the Works of one cluster's
// execution namespace on the hub, renders edge overrides into their
// manifests, server-side-applies them in the member, repairs drift seen by
// member informers, garbage-collects removed manifests, and handles Work
// deletion behind the bulk-deletion guard (pkg/deletion). Manifests are read
// through pkg/manifest, member objects through pkg/member (which it hands to
// the apply engine, the releaser and the status writer), and objects
// released through pkg/release. Work status is written by pkg/status/work,
// which this package feeds.
//
// Failure modes: a manifest that is wrong (invalid, unknown kind, conflict,
// rejected by the apiserver) fails only its own entry and waits for the Work
// to change; transient errors are retried with backoff; losing the hub never
// deletes anything, because deletes follow only a Work observed terminating
// or a manifest observed removed, and Works found terminating in bulk after
// an absence wait for a confirmation (the README's "Failure behaviour").
package execution
