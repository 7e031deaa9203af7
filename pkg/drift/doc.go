// Package drift is what Tether knows and decides about drift, a member-side
// change to an object Tether applied: the per-manifest policy (policy.go:
// correct, report or ignore, chosen by annotations) that the apply engine
// follows.
package drift
