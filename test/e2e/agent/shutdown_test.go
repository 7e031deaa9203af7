package agent

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// SIGTERM in the middle of applying Works (they are still being created):
// the agent exits, releases its
// Lease, and the release is its last write. No write of its identity, in
// the member or on the hub, reaches an apiserver after the Lease was
// released, so a new leader never writes alongside it. Before the fix,
// the Lease was released as soon as the signal came while reconciles
// carried on without a deadline of their own.
func TestSIGTERMDuringWorkWritesNothingAfterTheRelease(t *testing.T) {
	env := testenv.Require(t)
	const cluster, works = "sigterm", 1000
	memberUser := "tether-agent-" + cluster
	memberKubeconfig, err := env.Members[0].IdentityKubeconfig(memberUser, "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	memberNamespace(t, cluster)
	args := append([]string{"--kubeconfig", memberKubeconfig}, electionArgs...)
	a := testenv.StartAgent(t, testenv.Require(t), testenv.AgentOptions{Cluster: cluster, Args: args})
	t.Cleanup(func() {
		_ = hub(t).ClusterV1alpha1().Clusters().Delete(context.Background(), cluster, metav1.DeleteOptions{})
	})
	a.WaitReady(t, 90*time.Second)

	memberMark, err := env.Members[0].AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	hubMark, err := env.Hub.AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	created := make(chan struct{})
	go func() { defer close(created); createWorks(t, cluster, works) }()
	defer func() { <-created }()
	testenv.Eventually(t, 60*time.Second, "the agent is applying Works", func() (bool, error) {
		applied, err := env.Members[0].AuditEvents(memberMark, func(e testenv.AuditEvent) bool {
			return e.User == memberUser && e.IsWrite() && e.Resource == "configmaps"
		})
		return len(applied) >= 20, err
	})
	if code := a.Stop(); code != 0 {
		t.Errorf("the agent exited with code %d after SIGTERM, want 0", code)
	}
	if holder, err := leaseHolder(t, cluster); err != nil || holder != "" {
		t.Fatalf("after SIGTERM the Lease is held by %q (%v), want it released", holder, err)
	}
	assertNoWriteAfterRelease(t, env, memberMark, hubMark, memberUser, clusterv1alpha1.AgentUser(cluster))
}

// createWorks creates n ConfigMap Works for cluster, 16 at a time.
func createWorks(t *testing.T, cluster string, n int) {
	works := hub(t).WorkV1alpha1().Works("karmada-es-" + cluster)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		w := configMapWork(t, cluster, cluster, fmt.Sprintf("cm-%03d", i))
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := works.Create(context.Background(), w, metav1.CreateOptions{}); err != nil {
				t.Errorf("create Work %s: %v", w.Name, err)
			}
		}()
	}
	wg.Wait()
}

// assertNoWriteAfterRelease finds the agent's last write to its Lease in
// the member (the release) and fails for every write of the agent, in the
// member or on the hub, that the apiserver received after it.
func assertNoWriteAfterRelease(t *testing.T, env *testenv.Env, memberMark, hubMark testenv.AuditMark, memberUser, hubUser string) {
	t.Helper()
	var memberWrites, hubWrites []testenv.AuditEvent
	// The audit log is written as requests complete: poll until the
	// release is there.
	testenv.Eventually(t, 10*time.Second, "the Lease release in the member's audit log", func() (bool, error) {
		var err error
		if memberWrites, err = env.Members[0].AuditEvents(memberMark, testenv.WritesBy(memberUser)); err != nil {
			return false, err
		}
		for _, e := range memberWrites {
			if e.Resource == "leases" {
				return true, nil
			}
		}
		return false, nil
	})
	hubWrites, err := env.Hub.AuditEvents(hubMark, testenv.WritesBy(hubUser))
	if err != nil {
		t.Fatal(err)
	}
	var release testenv.AuditEvent
	for _, e := range memberWrites {
		if e.Resource == "leases" && e.Received.After(release.Received) {
			release = e
		}
	}
	late := 0
	for _, e := range append(memberWrites, hubWrites...) {
		if e.Resource == "leases" && e.Namespace == release.Namespace {
			continue
		}
		if !e.Received.Before(release.Received) {
			late++
			if late <= 10 {
				t.Errorf("written after the Lease was released (%s): %s", release.Received.Format(time.RFC3339Nano), describe(e))
			}
		}
	}
	t.Logf("%d member and %d hub writes by the agent; %d after the release", len(memberWrites), len(hubWrites), late)
}
