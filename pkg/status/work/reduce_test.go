package work

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

func TestReduceKeepsIdentifiersHealthAndSummaries(t *testing.T) {
	full := workv1alpha1.WorkStatus{
		Conditions: []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionFalse, Reason: "AppliedFailed", Message: "(1/2)"}},
		ManifestStatuses: []workv1alpha1.ManifestStatus{
			{Identifier: workv1alpha1.ResourceIdentifier{Ordinal: 0, Kind: "Deployment", Name: "d"}, Health: workv1alpha1.ResourceHealthy,
				Status: &runtime.RawExtension{Raw: []byte(`{"replicas":3,"readyReplicas":3}`)}},
			{Identifier: workv1alpha1.ResourceIdentifier{Ordinal: 1, Kind: "ConfigMap", Name: "c"}, Health: workv1alpha1.ResourceUnknown,
				Status: rawStatus(map[string]any{"applyError": strings.Repeat("webhook denied ", 60)})},
		},
	}
	for _, level := range []int{levelSummary, levelBare} {
		got := reduce(full, level, 2_000_000, "etcdserver: request is too large", 7)
		if len(got.ManifestStatuses) != 2 || got.ManifestStatuses[0].Identifier != full.ManifestStatuses[0].Identifier ||
			got.ManifestStatuses[1].Health != workv1alpha1.ResourceUnknown || got.ManifestStatuses[0].Status != nil {
			t.Fatalf("level %d: %+v", level, got.ManifestStatuses)
		}
		errStatus := got.ManifestStatuses[1].Status
		if level == levelSummary && (errStatus == nil || len(errStatus.Raw) > summaryLimit+40 || !strings.Contains(string(errStatus.Raw), "applyError")) {
			t.Errorf("summary level: error status %v", errStatus)
		}
		if level == levelBare && errStatus != nil {
			t.Errorf("bare level kept %s", errStatus.Raw)
		}
		c := meta.FindStatusCondition(got.Conditions, ConditionStatusTruncated)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != 7 || !strings.Contains(c.Message, "2000000 bytes") ||
			!strings.Contains(c.Message, "request is too large") {
			t.Errorf("level %d: condition %+v", level, c)
		}
		if a := meta.FindStatusCondition(got.Conditions, workv1alpha1.WorkApplied); a == nil || a.Message != "(1/2)" {
			t.Errorf("Applied changed: %+v", a)
		}
	}
	if full.ManifestStatuses[0].Status == nil || len(full.Conditions) != 1 {
		t.Error("reduce changed the full status")
	}
}

func TestReductionRetriesFullOnlyWhenItMayFit(t *testing.T) {
	r := reduction{uid: "u", generation: 3, level: levelSummary, refused: 2_000_000}
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{UID: "u", Generation: 3}}
	if r.retryFull(work, 1_990_000) {
		t.Error("a status about as large as the refused one was retried")
	}
	if !r.retryFull(work, 1_400_000) {
		t.Error("a status shrunk by a third was not retried")
	}
	work.Generation = 4
	if !r.retryFull(work, 1_990_000) {
		t.Error("a new generation of the Work was not retried")
	}
}
