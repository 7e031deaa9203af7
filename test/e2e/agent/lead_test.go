package agent

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-io/tether/test/testenv"
)

// When the leader's controllers stop while the process is meant to run,
// the process gives up the Lease and exits non-zero, so that it restarts,
// instead of holding the Lease with nothing running (the zombie leader).
//
// The trigger is a real one: --cluster-success-threshold=-1s passes the
// flag validation but the cluster status controller refuses it when the
// leader builds it, after the join. If the flag validation learns to
// refuse it, this test needs another way to make the controllers stop.
func TestControllersStoppingEndsTheProcessAndReleasesTheLease(t *testing.T) {
	const cluster = "lead-exit"
	args := append([]string{"--cluster-success-threshold=-1s"}, electionArgs...)
	a := testenv.StartAgent(t, testenv.Require(t), testenv.AgentOptions{Cluster: cluster, Args: args})
	t.Cleanup(func() {
		_ = hub(t).ClusterV1alpha1().Clusters().Delete(context.Background(), cluster, metav1.DeleteOptions{})
	})

	var code int
	testenv.Eventually(t, 60*time.Second, "the agent exits after its controllers stopped", func() (bool, error) {
		var done bool
		code, done = a.Exited()
		return done, nil
	})
	if code == 0 {
		t.Errorf("the agent exited with code 0 after its controllers stopped, want non-zero")
	}
	holder, err := leaseHolder(t, cluster)
	if err != nil {
		t.Fatalf("the leader-election Lease: %v", err)
	}
	if holder != "" {
		t.Errorf("the Lease is still held by %q after the agent exited, want it released", holder)
	}
	if n := logCount(t, a, "Agent exiting"); n != 1 {
		t.Errorf("the exit reason was logged %d times, want once", n)
	}
	if logCount(t, a, "durations must not be negative") == 0 {
		t.Error("the exit reason does not name the controllers' error")
	}
}
