// Package deletion is the bulk-deletion guard. It stops one failure: while
// the agent is away (down, or cut off from the hub), Karmada's control plane
// may evict every Work of the cluster, and the evicted Works wait behind
// their karmada.io/execution-controller finalizer for the agent; when it
// returns, it would delete every member object at once (Karmada issue 5406).
//
// The Guard decides, per terminating Work, whether its member deletes may
// proceed:
//
//   - Works found already terminating on a complete list of the hub (the
//     first list after a start, or a relist after a reconnect) form a batch.
//     When the batch has more than Threshold Works and more than Fraction of
//     the listed Works, every Work of it is held.
//   - Everything else proceeds at once: Works seen going into deletion by a
//     watch event while connected, and a batch under the threshold (one Work
//     deleted while the agent was away). The steady state has no throttle.
//     A Work is recorded as seen when its watch event arrives, not when the
//     agent gets to it, so a relist in the middle of a mass delete (every
//     Work of the cluster deleted at once, as karmadactl unregister does)
//     holds none of the Works already seen terminating.
//   - Held Works are released when an operator confirms (a new value of the
//     Cluster annotation tether.io/confirm-held-deletes, which
//     'tether-agent deletes confirm' writes) or after Grace.
//
// While anything is held, Condition is the Cluster's DeletesHeld condition
// (True, with counts and how to release), each held Work gets one Warning
// Event per hold, and the gauge tether_deletion_held_works counts them.
//
// ObserveLists wraps the ListerWatcher of the Work informer so that the
// Guard sees list results and the terminating Works watch events bring: it opts the informer out of
// streaming watch-lists, which would deliver the initial state as events,
// and makes it list again after any loss of the hub rather than resume its
// watch (which would deliver the deletes made meanwhile as events). A
// relist that follows a "too old resource version" watch error, without
// any outage, is a list too: Works found terminating there had not been seen
// by a watch event, and a batch of them is held like any other.
//
// Blockers finds what a Namespace or CustomResourceDefinition delete would
// cascade into that Tether does not own.
package deletion
