package work

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// TestTransition is the Event table: an Event only when the Applied
// condition turns False or recovers from False, never on a routine write.
func TestTransition(t *testing.T) {
	applied := func(s metav1.ConditionStatus, msg string) workv1alpha1.WorkStatus {
		return workv1alpha1.WorkStatus{Conditions: []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: s, Reason: "r", Message: msg}}}
	}
	none := workv1alpha1.WorkStatus{}
	dispatching := workv1alpha1.WorkStatus{Conditions: []metav1.Condition{{Type: workv1alpha1.WorkDispatching, Status: "False", Reason: "r"}}}
	cases := []struct {
		name      string
		cur, next workv1alpha1.WorkStatus
		want      string // "type reason", or "" for none
	}{
		{"first status, failed", none, applied("False", "boom"), "Warning ApplyFailed"},
		{"True turns False", applied("True", ""), applied("False", "boom"), "Warning ApplyFailed"},
		{"Unknown turns False", applied("Unknown", ""), applied("False", "boom"), "Warning ApplyFailed"},
		{"False recovers", applied("False", "boom"), applied("True", "ok"), "Normal Applied"},
		{"still False, another message", applied("False", "boom"), applied("False", "bang"), ""},
		{"still True", applied("True", ""), applied("True", ""), ""},
		{"first status, applied", none, applied("True", "ok"), ""},
		{"Unknown turns True", applied("Unknown", ""), applied("True", "ok"), ""},
		{"no Applied condition to write", applied("False", "boom"), none, ""},
		{"another condition turns False", none, dispatching, ""},
	}
	for _, c := range cases {
		e, ok := transition(c.cur, c.next)
		got := ""
		if ok {
			got = e.eventType + " " + e.reason
		}
		if got != c.want {
			t.Errorf("%s: event %q, want %q", c.name, got, c.want)
		}
	}
}

// TestAnnounceBoundsTheMessage: the Event carries the condition's message,
// cut as conditions are (TruncateMessage), and nothing without a recorder.
func TestAnnounceBoundsTheMessage(t *testing.T) {
	long := "Failed to apply all manifests (0/1): " + strings.Repeat("x", 40_000)
	next := workv1alpha1.WorkStatus{Conditions: []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: "False", Reason: "r", Message: long}}}
	rec := record.NewFakeRecorder(1)
	announce(rec, &workv1alpha1.Work{}, next)
	ev := <-rec.Events
	if !strings.HasPrefix(ev, "Warning ApplyFailed Failed to apply all manifests (0/1): ") || !strings.HasSuffix(ev, TruncateMessage(long)) {
		t.Errorf("event %.100q...", ev)
	}
	announce(nil, &workv1alpha1.Work{}, next) // no recorder: nothing, no panic
}
