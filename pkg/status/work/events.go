package work

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Event reasons. Tether posts Events only on transitions, never on routine syncs.
const (
	EventApplyFailed = "ApplyFailed"
	EventApplied     = "Applied"
)

// event is an Event to post on a Work.
type event struct {
	eventType, reason, message string
}

// transition returns the Event that a change of the Work's Applied
// condition from cur to next calls for: a Warning when it turns False
// (from True, Unknown or absent), a Normal one when it recovers from False
// to True. Anything else, a routine rewrite above all, posts nothing. The
// message is the condition's, bounded and free of object content
// (TruncateMessage).
func transition(cur, next workv1alpha1.WorkStatus) (event, bool) {
	before := meta.FindStatusCondition(cur.Conditions, workv1alpha1.WorkApplied)
	after := meta.FindStatusCondition(next.Conditions, workv1alpha1.WorkApplied)
	switch {
	case after == nil:
	case after.Status == metav1.ConditionFalse && (before == nil || before.Status != metav1.ConditionFalse):
		return event{corev1.EventTypeWarning, EventApplyFailed, TruncateMessage(after.Message)}, true
	case after.Status == metav1.ConditionTrue && before != nil && before.Status == metav1.ConditionFalse:
		return event{corev1.EventTypeNormal, EventApplied, TruncateMessage(after.Message)}, true
	}
	return event{}, false
}

// announce posts on the Work the Event its status change from the hub's to
// next calls for, if any (transition).
func announce(rec record.EventRecorder, work *workv1alpha1.Work, next workv1alpha1.WorkStatus) {
	if rec == nil {
		return
	}
	if e, ok := transition(work.Status, next); ok {
		rec.Event(work, e.eventType, e.reason, e.message)
	}
}
