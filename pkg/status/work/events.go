package work

import (
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

// announce posts an Event on the Work when its Applied condition changes:
// a Warning when it turns False, a Normal one when it recovers. The message
// is the condition's, bounded and free of object content (TruncateMessage).
func announce(rec record.EventRecorder, work *workv1alpha1.Work, next workv1alpha1.WorkStatus) {
	if rec == nil {
		return
	}
	before := meta.FindStatusCondition(work.Status.Conditions, workv1alpha1.WorkApplied)
	after := meta.FindStatusCondition(next.Conditions, workv1alpha1.WorkApplied)
	switch {
	case after == nil:
	case after.Status == metav1.ConditionFalse && (before == nil || before.Status != metav1.ConditionFalse):
		rec.Event(work, "Warning", EventApplyFailed, TruncateMessage(after.Message))
	case after.Status == metav1.ConditionTrue && before != nil && before.Status == metav1.ConditionFalse:
		rec.Event(work, "Normal", EventApplied, TruncateMessage(after.Message))
	}
}
