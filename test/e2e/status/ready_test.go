package status

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	statuscluster "github.com/tether-io/tether/pkg/status/cluster"
)

// TestReadyFollowsTheMemberWithHysteresis breaks the member's connection
// (every request fails) and its health (/readyz answers 503) and checks that
// Ready follows with Karmada's reasons, and that crossing between True and
// not True waits for the threshold (5s here, 30s by default).
func TestReadyFollowsTheMemberWithHysteresis(t *testing.T) {
	const threshold = 5 * time.Second
	a := newAgent(t, "flaky")
	a.join(t)
	a.runStatus(t, statuscluster.StatusConfig{
		Interval: 500 * time.Millisecond, SuccessThreshold: threshold, FailureThreshold: threshold, ProbeTimeout: 2 * time.Second,
	})
	waitCluster(t, a.name, time.Minute, "become Ready", readyIs(metav1.ConditionTrue, clusterv1alpha1.ReasonClusterReady))

	down := time.Now()
	a.memberDown.set(memberUnreachable)
	c := waitCluster(t, a.name, time.Minute, "report the member unreachable",
		readyIs(metav1.ConditionFalse, clusterv1alpha1.ReasonClusterNotReachable))
	if took := time.Since(down); took < threshold {
		t.Errorf("Ready left True %s after the member went away, before the %s failure threshold", took, threshold)
	}
	if cond := findCondition(c, clusterv1alpha1.ClusterConditionReady); cond.Message != clusterv1alpha1.MessageClusterNotReachable {
		t.Errorf("message %q, want %q", cond.Message, clusterv1alpha1.MessageClusterNotReachable)
	}

	// Not True to not True is not held.
	unhealthy := time.Now()
	a.memberDown.set(memberUnhealthy)
	waitCluster(t, a.name, time.Minute, "report the member unhealthy", readyIs(metav1.ConditionFalse, clusterv1alpha1.ReasonClusterNotReady))
	if took := time.Since(unhealthy); took >= threshold {
		t.Errorf("ClusterNotReachable to ClusterNotReady took %s: it must not wait for the threshold", took)
	}

	up := time.Now()
	a.memberDown.set(memberUp)
	waitCluster(t, a.name, time.Minute, "become Ready again", readyIs(metav1.ConditionTrue, clusterv1alpha1.ReasonClusterReady))
	if took := time.Since(up); took < threshold {
		t.Errorf("Ready became True %s after the member came back, before the %s success threshold", took, threshold)
	}
}
