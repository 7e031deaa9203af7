package faults

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

const bulkWorks = 1000

// TestMemberRestartMidSync: the member apiserver is stopped and started
// again while the agent applies 1,000 Works. Everything converges with no
// object lost, orphaned or created twice, and the agent does not fall back
// to dry runs for good: Works re-reconciled afterwards are judged unchanged
// locally.
func TestMemberRestartMidSync(t *testing.T) {
	s := newScenario(t, "member-restart")
	env, ctx := s.env, context.Background()
	user := s.memberUser("a")
	agent := s.startAgent("a", "")
	agent.WaitReady(t, 3*time.Minute)
	mark := memberMark(t, env)
	start := time.Now()
	created := s.createWorksAsync(bulkWorks)
	s.waitMemberCreates(mark, user, bulkWorks/10, 5*time.Minute)
	createdBefore := len(s.successfulCreates(mark, user))
	if err := env.StopAPIServer(env.Members[0]); err != nil {
		t.Fatal(err)
	}
	if err := env.StartAPIServer(ctx, env.Members[0]); err != nil {
		t.Fatal(err)
	}
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	// The agent may lose its Lease (it lives in the member) while the member
	// is down, and exit; its Deployment would start it again, so does this.
	restarts := 0
	keepAlive := func() {
		if _, done := agent.Exited(); done {
			restarts++
			agent.Restart(t)
		}
	}
	testenv.Poll(t, time.Second, 10*time.Minute, "all Works Applied", func(ctx context.Context) (bool, error) {
		keepAlive()
		n, err := s.appliedCount(ctx)
		return n >= bulkWorks, err
	})
	if _, last, ok := s.converge(3*time.Minute, keepAlive); !ok {
		t.Fatalf("the member did not converge after its apiserver restarted: %s", last)
	}
	converge := time.Since(restarted)
	agent.WaitReady(t, 2*time.Minute)

	writes := s.memberWrites(mark, user, false)
	creates := s.successfulCreates(mark, user)
	duplicated, deletes := 0, 0
	for _, n := range creates {
		if n > 1 {
			duplicated++
		}
	}
	for _, ev := range writes {
		if ev.Verb == "delete" {
			deletes++
		}
	}
	if duplicated != 0 || deletes != 0 {
		t.Errorf("the agent created %d objects more than once and deleted %d objects (nothing was removed)", duplicated, deletes)
	}
	if len(creates) != bulkWorks {
		t.Errorf("the agent created %d distinct ConfigMaps, want %d", len(creates), bulkWorks)
	}

	// No permanent fallback to dry runs: 50 Works gain a second manifest, so
	// their first object is judged again; it is unchanged, which the local
	// check must tell without a dry run.
	dryBefore := metric(t, agent, "tether_apply_requests_total", "request", "dry_run")
	for i := 0; i < 50; i++ {
		name := cmName(i)
		s.updateWork(name, func(w *workv1alpha1.Work) {
			w.Spec.Workload.Manifests = append(w.Spec.Workload.Manifests, s.configMap(name+"-b", "v1"))
		})
	}
	if _, last, ok := s.converge(3*time.Minute, keepAlive); !ok {
		t.Fatalf("the member did not converge after 50 Works gained a manifest: %s", last)
	}
	dryRuns := metric(t, agent, "tether_apply_requests_total", "request", "dry_run") - dryBefore
	if dryRuns > 5 {
		t.Errorf("%.0f dry runs to re-judge 50 unchanged objects after the member came back: the agent fell back to dry runs", dryRuns)
	}
	report(t, "member-restart", fmt.Sprintf("member apiserver stopped and started after %d of %d objects created", createdBefore, bulkWorks),
		"lost", 0, "orphaned", 0, "duplicated", duplicated, "member_deletes", deletes,
		"member_writes", len(writes), "dry_runs_after_convergence", dryRuns, "agent_restarts_lease_lost", restarts,
		"converge", converge.Round(time.Millisecond), "total", time.Since(start).Round(time.Millisecond))
}

// successfulCreates counts, per ConfigMap of the scenario, the creates a
// member user made after mark that succeeded (a server-side apply that
// creates answers 201).
func (s *scenario) successfulCreates(mark testenv.AuditMark, user string) map[string]int {
	out := map[string]int{}
	for _, ev := range s.memberWrites(mark, user, false) {
		if ev.Resource == "configmaps" && ev.Namespace == s.ns && ev.Code == http.StatusCreated {
			out[ev.Name]++
		}
	}
	return out
}

// waitMemberCreates waits until the agent has created n of the scenario's ConfigMaps.
func (s *scenario) waitMemberCreates(mark testenv.AuditMark, user string, n int, timeout time.Duration) {
	s.t.Helper()
	testenv.Poll(s.t, 250*time.Millisecond, timeout, fmt.Sprintf("%d ConfigMaps created by the agent", n), func(context.Context) (bool, error) {
		return len(s.successfulCreates(mark, user)) >= n, nil
	})
}

// TestAgentKilledMidApply: the agent is SIGKILLed while it applies 1,000
// Works. While it is down, some Works are edited (new data, or a renamed
// object) and some deleted. Restarted, it converges with no orphan, and
// writes no object again whose content did not change.
func TestAgentKilledMidApply(t *testing.T) {
	s := newScenario(t, "agent-kill")
	env, ctx := s.env, context.Background()
	user := s.memberUser("a")
	agent := s.startAgent("a", "")
	agent.WaitReady(t, 3*time.Minute)
	mark := memberMark(t, env)
	created := s.createWorksAsync(bulkWorks)
	s.waitMemberCreates(mark, user, bulkWorks/10, 5*time.Minute)
	agent.Kill()
	if err := <-created; err != nil {
		t.Fatal(err)
	}

	// While the agent is down: every 20th Work gets new data, the next one
	// renames its object, the next one is deleted.
	changed := map[string]bool{} // objects whose content or existence changes
	var deleted []string
	for i := 0; i < bulkWorks; i += 20 {
		edit, rename, del := cmName(i), cmName(i+1), cmName(i+2)
		s.updateWork(edit, func(w *workv1alpha1.Work) {
			w.Spec.Workload.Manifests = []workv1alpha1.Manifest{s.configMap(edit, "v2")}
		})
		s.updateWork(rename, func(w *workv1alpha1.Work) {
			w.Spec.Workload.Manifests = []workv1alpha1.Manifest{s.configMap(rename+"-r", "v1")}
		})
		if err := retry(func() error {
			return s.hub.WorkV1alpha1().Works(s.es).Delete(ctx, del, metav1.DeleteOptions{})
		}); err != nil {
			t.Fatal(err)
		}
		changed[edit], changed[rename], changed[rename+"-r"], changed[del] = true, true, true, true
		deleted = append(deleted, del)
	}
	before := s.successfulCreates(mark, user) // objects applied before the kill
	restartAt := time.Now()
	agent.Restart(t)
	s.waitAllApplied(bulkWorks-len(deleted), 10*time.Minute)
	testenv.Poll(t, time.Second, 3*time.Minute, "the deleted Works are gone", func(ctx context.Context) (bool, error) {
		list, err := s.hub.WorkV1alpha1().Works(s.es).List(ctx, metav1.ListOptions{})
		return err == nil && len(list.Items) == bulkWorks-len(deleted), err
	})
	_, tl, ok := s.converge(3*time.Minute, nil)
	if !ok {
		t.Errorf("the member did not converge after the restart: %s", tl)
	}
	converge := time.Since(restartAt)

	// Per object, the agent's writes after the restart.
	after := map[string]int{}
	total := 0
	for _, ev := range s.memberWrites(mark, user, false) {
		if ev.Received.After(restartAt) && ev.Resource == "configmaps" && ev.Namespace == s.ns {
			after[ev.Name]++
			total++
		}
	}
	var rewritten []string
	for name := range before {
		if !changed[name] && after[name] > 0 {
			rewritten = append(rewritten, name)
		}
	}
	duplicated := 0
	for _, n := range s.successfulCreates(mark, user) {
		if n > 1 {
			duplicated++
		}
	}
	if len(rewritten) != 0 {
		t.Errorf("after the restart the agent wrote %d objects again that it had applied with the same content before the kill: %s",
			len(rewritten), sample(rewritten))
	}
	if duplicated != 0 {
		t.Errorf("%d objects were created more than once", duplicated)
	}
	report(t, "agent-kill", fmt.Sprintf("agent SIGKILLed after %d of %d objects created; %d Works edited, %d renamed, %d deleted while down",
		len(before), bulkWorks, len(deleted), len(deleted), len(deleted)),
		"lost", len(tl.lost), "orphaned", len(tl.orphaned), "duplicated", duplicated, "member_writes_after_restart", total,
		"unchanged_objects_rewritten", len(rewritten), "converged", ok, "converge", converge.Round(time.Millisecond))
}

// updateWork changes a Work, retrying conflicts and transient errors.
func (s *scenario) updateWork(name string, change func(*workv1alpha1.Work)) {
	s.t.Helper()
	ctx := context.Background()
	if err := retry(func() error {
		w, err := s.hub.WorkV1alpha1().Works(s.es).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		change(w)
		_, err = s.hub.WorkV1alpha1().Works(s.es).Update(ctx, w, metav1.UpdateOptions{})
		return err
	}); err != nil {
		s.t.Fatalf("update Work %s: %v", name, err)
	}
}
