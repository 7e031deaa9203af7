// Package work writes Work.status on the hub. It is the only writer of that
// status: the Work controller (pkg/execution) hands it the outcome of each
// apply (the Applied and Dispatching conditions and per-manifest errors),
// member informers tell it when a member object changed, and it builds
// manifestStatuses (identifier, reflected status, health) for every
// manifest. Writes are coalesced per Work over a short window, rate-limited
// per cluster, and sent only when the status changed, so a restart
// rewrites nothing. A change of health or of a condition goes out within
// the window; a change of reflected counters alone (a rollout's progress)
// at most and at least every progress interval per Work, and only from the
// first half of the cluster's write budget, so that it never delays the
// former.
//
// The writer decides, then acts. For each queued Work, flush (flush.go)
// gathers what is known (the Work from the cache, the apply outcome, when
// the change was first seen, the last write, any reduction) under one lock,
// builds the status (build.go), and asks decide (decide.go), a pure
// function, whether to skip, hold or write. Acting holds the change, or
// writes it through the hub-down gate and the cluster's limiter (retry.go)
// with a typed patch; answerOf classifies the hub's answer and settle
// (settle.go) acts on it. Counter-only writes are paced in progress.go,
// statuses too large for the hub reduced in reduce.go, and Events posted on
// transitions of the Applied condition in events.go. drift.go keeps each
// manifest's drift record (next to its reflected status) and announces
// each drift episode once.
package work
