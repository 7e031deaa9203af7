package agent

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-io/tether/test/testenv"
)

// An agent started while the hub is unreachable leads, retries the join
// (logging each failure), is live but not ready meanwhile, and joins and
// applies Works once the hub is back. Before the fix, the first failed join
// ended the leader's work for good while the Lease was kept and /readyz
// said ok: the "never applied another Work".
func TestAgentStartedWhileTheHubIsUnreachable(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	const cluster = "hub-unreachable"
	proxy, err := testenv.NewProxy(env.Hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	kubeconfig, err := env.Hub.AgentKubeconfig(ctx, cluster, proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	memberNamespace(t, cluster)
	if _, err := hub(t).WorkV1alpha1().Works("karmada-es-"+cluster).Create(ctx, configMapWork(t, cluster, cluster, "cm"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	a := testenv.StartAgent(t, testenv.Require(t), testenv.AgentOptions{Cluster: cluster, HubKubeconfig: kubeconfig, Args: electionArgs})

	testenv.Eventually(t, 60*time.Second, "the agent leads and has logged two failed joins", func() (bool, error) {
		if _, done := a.Exited(); done {
			t.Fatal("the agent exited while the hub was unreachable")
		}
		holder, err := leaseHolder(t, cluster)
		if err != nil || holder == "" {
			return false, fmt.Errorf("no leader yet (holder %q): %v", holder, err)
		}
		if n := logCount(t, a, "Joining the hub failed; retrying"); n < 2 {
			return false, fmt.Errorf("the leader has logged %d failed joins", n)
		}
		return true, nil
	})
	if code := a.Readyz(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d while the leader has not joined, want 503", code)
	}
	if code := a.Healthz(); code != http.StatusOK {
		t.Errorf("/healthz answered %d while waiting for the hub, want 200 (a restart would not help)", code)
	}

	proxy.Restore()
	a.WaitReady(t, 90*time.Second)
	if _, err := hub(t).ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{}); err != nil {
		t.Fatalf("the Cluster after the hub came back: %v", err)
	}
	t.Cleanup(func() {
		_ = hub(t).ClusterV1alpha1().Clusters().Delete(context.Background(), cluster, metav1.DeleteOptions{})
	})
	testenv.Eventually(t, 60*time.Second, "the Work's ConfigMap applied in the member", func() (bool, error) {
		_, err := member(t).CoreV1().ConfigMaps(cluster).Get(ctx, "cm", metav1.GetOptions{})
		return err == nil, err
	})
}
