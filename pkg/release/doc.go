// Package release takes a Work's objects out of the member cluster. For
// each object it deletes what the Work owns, or, when the Work or the
// manifest asks to keep it (preserveResourcesOnDeletion, or the
// tether.io/prune: disabled annotation), strips Karmada's markers so that it
// is no longer managed. It never touches an object the Work does not own,
// and it never concludes that an object is gone from a cache alone: a cache
// miss is confirmed by a read from the apiserver, so a lagging or broken
// member watch cannot leave an orphan.
//
// It is the one implementation behind the agent's Work finalizer, its
// garbage collection of removed manifests and its orphan scan, and
// 'tether-agent unregister'.
package release
