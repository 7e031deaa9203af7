package work

import (
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/drift"
)

// How a write that changes only reflected counters (a rollout's progress)
// is paced, apart from a change of health, conditions or identifiers.

// progressDelay: a write that only updates reflected counters waits until
// interval has passed since the Work's last write (lastWrite; zero when
// this process has not written it); any other change, a health change
// above all, goes now.
func progressDelay(cur, next workv1alpha1.WorkStatus, lastWrite, now time.Time, interval time.Duration) time.Duration {
	if lastWrite.IsZero() || !onlyProgress(cur, next) {
		return 0
	}
	return max(lastWrite.Add(interval).Sub(now), 0)
}

// progressYield is how long a counter-only write waits when the write
// budget is more than half spent.
const progressYield = time.Second

// progressMaySpend reports whether a counter-only write may take from the
// cluster's write budget now: only while more than half of its burst is
// left, so that during a bulk rollout, when thousands of Works report
// progress, a manifest becoming Healthy or a failed apply never queues
// behind them.
func progressMaySpend(l *rate.Limiter) bool {
	return l.Tokens() > float64(l.Burst())/2
}

// changeOf names the first kind of difference between two statuses, for logs.
func changeOf(cur, next workv1alpha1.WorkStatus) string {
	switch {
	case len(cur.Conditions) != len(next.Conditions) || len(cur.ManifestStatuses) != len(next.ManifestStatuses):
		return "first"
	case !onlyProgress(cur, next):
		for i := range cur.ManifestStatuses {
			if cur.ManifestStatuses[i].Health != next.ManifestStatuses[i].Health {
				return "health " + string(cur.ManifestStatuses[i].Health) + "->" + string(next.ManifestStatuses[i].Health)
			}
		}
		for i := range cur.ManifestStatuses {
			if driftChanged(cur.ManifestStatuses[i].Status, next.ManifestStatuses[i].Status) {
				return "drift record"
			}
		}
		return "conditions or identifiers"
	}
	return "reflected status"
}

// onlyProgress reports whether next differs from cur only in reflected
// statuses, with the same conditions, the same health and the same drift
// records everywhere. A drift record in next that the hub lacks is a new
// episode (the status carries the hub's record while an episode only
// accumulates), and it goes at once: the record is the report, and a
// repair that is done before the hub hears of it must not wait for the
// progress interval.
func onlyProgress(cur, next workv1alpha1.WorkStatus) bool {
	if len(cur.ManifestStatuses) != len(next.ManifestStatuses) || len(cur.Conditions) != len(next.Conditions) {
		return false
	}
	for i := range cur.Conditions {
		a, b := cur.Conditions[i], next.Conditions[i]
		if a.Type != b.Type || a.Status != b.Status || a.Reason != b.Reason || a.Message != b.Message || a.ObservedGeneration != b.ObservedGeneration {
			return false
		}
	}
	for i := range cur.ManifestStatuses {
		if cur.ManifestStatuses[i].Health != next.ManifestStatuses[i].Health || cur.ManifestStatuses[i].Identifier != next.ManifestStatuses[i].Identifier {
			return false
		}
		if driftChanged(cur.ManifestStatuses[i].Status, next.ManifestStatuses[i].Status) {
			return false
		}
	}
	return true
}

// driftChanged reports whether two reflected statuses carry different drift
// records (one of them none).
func driftChanged(cur, next *runtime.RawExtension) bool {
	raw := func(r *runtime.RawExtension) []byte {
		if r == nil {
			return nil
		}
		return r.Raw
	}
	return !equality.Semantic.DeepEqual(drift.Decode(raw(cur)), drift.Decode(raw(next)))
}
