// Package hubconn holds the agent's hub requests while the hub cannot be
// reached, and lets them go when one probe finds the hub ready again.
//
// Without it, every informer of every agent finds out on its own that the
// hub is back: each retries with its own backoff, reaches a hub apiserver
// that accepts connections before its authorizer and watch caches are
// ready, is refused (403, 429), and relists. With it, an agent sends one
// readiness probe at a time (GET /readyz, with jittered backoff, so that a
// fleet that lost the hub together does not come back together), and its
// reads that failed because the hub was unreachable are sent again once it
// is ready, so a watch resumes where it stopped instead of relisting.
// Writes are never sent twice: a write that failed returns its error, and
// the writes after it wait. See docs/scale.md ("Hub restarts").
package hubconn
