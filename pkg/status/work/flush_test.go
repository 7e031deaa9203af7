package work

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// TestChoose: the full status unless a reduction is in force for this
// generation and size, then the reduced one at its level (keeping the
// StatusTruncated condition's transition time), and nothing at all once
// even the bare status was refused.
func TestChoose(t *testing.T) {
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{UID: "u", Generation: 3}}
	since := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	full := statusOf(workv1alpha1.ResourceHealthy, `{"readyReplicas":2,"detail":"`+strings.Repeat("x", 500)+`"}`, "True")
	full.Conditions = append(full.Conditions, metav1.Condition{Type: ConditionStatusTruncated, Status: "True", Reason: ReasonStatusTooLarge, LastTransitionTime: since})
	fullSize := func() int {
		_, body, _, err := choose(work, *full.DeepCopy(), reduction{}, false)
		if err != nil {
			t.Fatal(err)
		}
		return len(body)
	}()
	cases := []struct {
		name      string
		r         reduction
		reduced   bool
		level     int
		body      bool
		truncated bool
	}{
		{"no reduction: the full status, StatusTruncated removed", reduction{}, false, levelFull, true, false},
		{"reduced for this generation", reduction{uid: "u", generation: 3, level: levelSummary, refused: fullSize}, true, levelSummary, true, true},
		{"bare for this generation", reduction{uid: "u", generation: 3, level: levelBare, refused: fullSize}, true, levelBare, true, true},
		{"even bare refused: nothing", reduction{uid: "u", generation: 3, level: levelNone, refused: fullSize}, true, levelNone, false, false},
		{"a new generation: the full status again", reduction{uid: "u", generation: 2, level: levelNone, refused: fullSize}, true, levelFull, true, false},
		{"shrunk to three quarters: the full status again", reduction{uid: "u", generation: 3, level: levelBare, refused: fullSize * 2}, true, levelFull, true, false},
	}
	for _, c := range cases {
		status, body, level, err := choose(work, *full.DeepCopy(), c.r, c.reduced)
		if err != nil || level != c.level || (body != nil) != c.body {
			t.Errorf("%s: level %d, body %v, err %v; want level %d, body %v", c.name, level, body != nil, err, c.level, c.body)
			continue
		}
		tc := meta.FindStatusCondition(status.Conditions, ConditionStatusTruncated)
		if (tc != nil) != c.truncated || (tc != nil && !tc.LastTransitionTime.Equal(&since)) {
			t.Errorf("%s: StatusTruncated %+v, want present %v since %s", c.name, tc, c.truncated, since)
		}
		if body == nil {
			continue
		}
		var sent struct{ Status workv1alpha1.WorkStatus }
		if err := json.Unmarshal(body, &sent); err != nil || !sameStatus(sent.Status, status) {
			t.Errorf("%s: the body %s does not carry the status chosen", c.name, body)
		}
	}
}

// TestPatchBodyRemovesEmptyLists: lists left empty go as null, so that a
// merge patch removes the hub's (a StatusTruncated left behind, say).
func TestPatchBodyRemovesEmptyLists(t *testing.T) {
	body, err := patchBody(workv1alpha1.WorkStatus{})
	if err != nil || string(body) != `{"status":{"conditions":null,"manifestStatuses":null}}` {
		t.Errorf("body %s, err %v", body, err)
	}
}
