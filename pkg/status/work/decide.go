package work

import (
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// The writer decides, then acts. decide and answerOf are pure: they read
// what flush gathered about one Work (its view) or the hub's answer to a
// write, and say what to do. flush (flush.go) gathers the view and carries
// the decision out: it holds the change for later, writes through the
// hub-down gate and the cluster's limiter, and settles the answer.

// verdict is what becomes of a Work's pending status change.
type verdict string

const (
	// verdictSkip: nothing to write, the hub already says it (or the
	// status may not be written at all, see choose); the change is done.
	verdictSkip verdict = "skip"
	// verdictHold: look again after decision.after; the change stays pending.
	verdictHold verdict = "hold"
	// verdictWrite: write the status now (through the gate and the limiter).
	verdictWrite verdict = "write"
)

// decision is decide's answer.
type decision struct {
	verdict verdict
	// after is how long a held change waits before it is looked at again.
	after time.Duration
	// why names the rule that decided, for logs and tests.
	why string
}

// view is what flush knows of one Work when it decides. Deciding changes none of it.
type view struct {
	now time.Time
	// since is when the first change not yet written was seen; zero when
	// the Work was queued without one (a retry, a probe of the hub).
	since time.Time
	// lastWrite is this process's last successful write of the Work's
	// status; zero when it has written none.
	lastWrite time.Time
	// pending: a member cache of one of the Work's manifests is still syncing.
	pending bool
	// cur is the status on the hub (as the Work cache holds it), next the
	// status to write, and writable whether next may be written (it
	// encoded, and the hub has not refused even a bare status of the Work).
	cur, next workv1alpha1.WorkStatus
	writable  bool
	// budgetHalfLeft: more than half of the cluster's write budget is left
	// (progressMaySpend), so a counter-only write may spend from it.
	budgetHalfLeft bool
}

// pacing is the writer's timing configuration that decide reads.
type pacing struct {
	window, progressInterval time.Duration
}

// decide says what to do with a Work's status change, in order:
//   - while a member cache is still syncing, hold for a window, up to
//     pendingLimit after the change, rather than report a transient Unknown;
//   - skip a status the hub already has, or one that may not be written;
//   - hold a change of reflected counters alone until the progress
//     interval has passed since the Work's last write;
//   - hold such a change for progressYield while more than half of the
//     cluster's write budget is spent: the last half is for changes of
//     health and conditions;
//   - write anything else now.
func decide(v view, p pacing) decision {
	if v.pending && !v.since.IsZero() && v.now.Sub(v.since) < pendingLimit {
		return decision{verdict: verdictHold, after: p.window, why: "a member cache is syncing"}
	}
	if !v.writable {
		return decision{verdict: verdictSkip, why: "the status may not be written"}
	}
	if sameStatus(v.next, v.cur) {
		return decision{verdict: verdictSkip, why: "the hub has this status"}
	}
	if wait := progressDelay(v.cur, v.next, v.lastWrite, v.now, p.progressInterval); wait > 0 {
		return decision{verdict: verdictHold, after: wait, why: "counters only, within the progress interval"}
	}
	if onlyProgress(v.cur, v.next) && !v.budgetHalfLeft {
		return decision{verdict: verdictHold, after: progressYield, why: "counters only, and half the write budget is spent"}
	}
	return decision{verdict: verdictWrite, why: "changed"}
}

// answer classifies the hub's answer to a status write.
type answer string

const (
	// answerWritten: the hub stored the status.
	answerWritten answer = "written"
	// answerDropped: the Work is gone, or the writer is shutting down;
	// nothing is retried.
	answerDropped answer = "dropped"
	// answerTooLarge: refused for its size; the next write is reduced one
	// level further and is sent at once.
	answerTooLarge answer = "too large"
	// answerHubDown: no answer from a working hub; the Work is parked until
	// the hub is back (see gate).
	answerHubDown answer = "hub down"
	// answerRefused: any other error the hub answered; retried with the
	// Work's backoff.
	answerRefused answer = "refused"
)

// answerOf classifies a write's error; canceled tells whether the writer's
// context had ended. reached reports whether the hub answered (the write
// succeeded or a working hub refused it), which proves it is up.
func answerOf(err error, canceled bool) (a answer, reached bool) {
	reached = err == nil || !hubDown(err)
	switch {
	case err == nil:
		return answerWritten, reached
	case apierrors.IsNotFound(err) || canceled:
		return answerDropped, reached
	case tooLarge(err):
		return answerTooLarge, reached
	case hubDown(err):
		return answerHubDown, reached
	}
	return answerRefused, reached
}

// escalated is the reduction to use after the hub refused as too large a
// status of the given level and size for work: from the full status, a new
// reduction that remembers the refused size and the hub's words (cause);
// from a reduced one, the same reduction one level further.
func escalated(prev reduction, work *workv1alpha1.Work, level, size int, cause string) reduction {
	r := prev
	if level == levelFull {
		r = reduction{uid: work.UID, generation: work.Generation, refused: size, cause: cause}
	}
	r.level = level + 1
	return r
}
