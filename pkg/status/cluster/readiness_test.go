package cluster

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

var (
	upCondition      = readyCondition(metav1.ConditionTrue, clusterv1alpha1.ReasonClusterReady, clusterv1alpha1.MessageClusterReady)
	downCondition    = readyCondition(metav1.ConditionFalse, clusterv1alpha1.ReasonClusterNotReachable, clusterv1alpha1.MessageClusterNotReachable)
	notOKCondition   = readyCondition(metav1.ConditionFalse, clusterv1alpha1.ReasonClusterNotReady, clusterv1alpha1.MessageClusterNotReady)
	unknownCondition = readyCondition(metav1.ConditionUnknown, "ClusterStatusUnknown", "Cluster status controller stopped posting cluster status.")
)

// TestReadyHysteresis walks a flapping member through the thresholds: each
// step advances the clock, observes, and checks what is reported; the
// reported value becomes the Cluster's current condition.
func TestReadyHysteresis(t *testing.T) {
	clk := testingclock.NewFakePassiveClock(time.Unix(1000, 0))
	h := &readyHysteresis{clock: clk, success: 30 * time.Second, failure: 20 * time.Second}
	var current *metav1.Condition
	steps := []struct {
		after    time.Duration
		observed metav1.Condition
		want     metav1.Condition
		why      string
	}{
		{0, downCondition, downCondition, "the first observation is taken as is"},
		{10 * time.Second, upCondition, downCondition, "up, but not for 30s yet"},
		{25 * time.Second, upCondition, downCondition, "up for 25s"},
		{5 * time.Second, upCondition, upCondition, "up for 30s"},
		{10 * time.Second, downCondition, upCondition, "down, but not for 20s yet"},
		{10 * time.Second, upCondition, upCondition, "a blip does not flip it"},
		{1 * time.Second, downCondition, upCondition, "down again: the failure threshold restarts"},
		{19 * time.Second, downCondition, upCondition, "down for 19s"},
		{1 * time.Second, downCondition, downCondition, "down for 20s"},
		{1 * time.Second, notOKCondition, notOKCondition, "not True to not True is not delayed"},
	}
	for i, s := range steps {
		clk.SetTime(clk.Now().Add(s.after))
		got := h.adjust(s.observed, current)
		if got.Status != s.want.Status || got.Reason != s.want.Reason {
			t.Fatalf("step %d (%s): reported %s/%s, want %s/%s", i, s.why, got.Status, got.Reason, s.want.Status, s.want.Reason)
		}
		current = &got
	}
}

func TestReadyHysteresisWithoutACurrentCondition(t *testing.T) {
	clk := testingclock.NewFakePassiveClock(time.Unix(1000, 0))
	h := &readyHysteresis{clock: clk, success: 30 * time.Second, failure: 30 * time.Second}
	h.adjust(upCondition, &upCondition)
	clk.SetTime(clk.Now().Add(time.Second))
	if got := h.adjust(downCondition, nil); got.Status != metav1.ConditionFalse {
		t.Fatalf("a Cluster without Ready takes the observation as is, got %s", got.Status)
	}
}

func TestReadyHysteresisHoldsAnUnknownAgainstTrue(t *testing.T) {
	// The hub's cluster controller set Unknown while the agent was away; a
	// healthy observation still waits for the success threshold.
	clk := testingclock.NewFakePassiveClock(time.Unix(1000, 0))
	h := &readyHysteresis{clock: clk, success: 30 * time.Second, failure: 30 * time.Second}
	h.adjust(downCondition, &unknownCondition)
	clk.SetTime(clk.Now().Add(time.Second))
	if got := h.adjust(upCondition, &unknownCondition); got.Status != metav1.ConditionUnknown {
		t.Fatalf("reported %s, want the held Unknown", got.Status)
	}
}
