package faults

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

const handoverWorks = 600

// TestLeaderHandoverUnderLoad: two replicas of the agent for one cluster
// share the leader-election Lease. The leader is frozen (SIGSTOP) while it
// applies; the standby takes over; then the old leader is thawed. From the
// member's audit log (each replica has its own member identity): no write
// of the old leader's process is received after the new leader's first
// write, and the old leader exits rather than lead on.
func TestLeaderHandoverUnderLoad(t *testing.T) {
	s := newScenario(t, "handover")
	env := s.env
	userA, userB := s.memberUser("a"), s.memberUser("b")
	a := s.startAgent("a", "")
	a.WaitReady(t, 3*time.Minute)
	b := s.startAgent("b", "")
	mark := memberMark(t, env)
	created := s.createWorksAsync(handoverWorks)
	s.waitMemberCreates(mark, userA, handoverWorks/10, 5*time.Minute)
	if got := len(s.memberWrites(mark, userB, true)); got != 0 {
		t.Fatalf("the standby wrote %d times to the member while the leader was alive", got)
	}

	pid := a.Process().Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(thaw)
	frozenAt := time.Now()
	// Work that only the new leader can do: 100 Works change.
	for i := 0; i < 100; i++ {
		name := cmName(i)
		s.updateWork(name, func(w *workv1alpha1.Work) {
			w.Spec.Workload.Manifests = []workv1alpha1.Manifest{s.configMap(name, "v2")}
		})
	}
	var firstB testenv.AuditEvent
	testenv.Poll(t, 250*time.Millisecond, 2*time.Minute, "the standby takes over and writes", func(context.Context) (bool, error) {
		evs := s.memberWrites(mark, userB, true)
		for _, ev := range evs {
			if ev.Resource == "configmaps" {
				firstB = evs[0] // its first write of any kind: the Lease it took
				return true, nil
			}
		}
		return false, nil
	})
	takeover := time.Since(frozenAt)
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	thaw()
	thawedAt := time.Now()
	s.waitAllApplied(handoverWorks, 10*time.Minute)
	_, tl, converged := s.converge(3*time.Minute, nil)
	if !converged {
		t.Errorf("the member did not converge under the new leader: %s", tl)
	}
	// The old leader must notice it lost the Lease and exit.
	exitErr := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		_, done := a.Exited()
		return done, nil
	})
	code, _ := a.Exited()
	exited := time.Since(thawedAt)
	if exitErr != nil {
		t.Errorf("the old leader still runs %s after it was thawed, with its Lease taken", exited.Round(time.Second))
	}

	// A request the old leader had sent, or half sent, when it was frozen
	// reaches the apiserver when it is thawed; no gate in the process can
	// call it back. Those are the writes received within inFlight of the
	// thaw; any later one was started after the takeover.
	const inFlight = time.Second
	var late, frozen []testenv.AuditEvent
	for _, ev := range s.memberWrites(mark, userA, true) {
		switch {
		case ev.Received.Before(firstB.Received):
		case ev.Received.Before(thawedAt.Add(inFlight)):
			frozen = append(frozen, ev)
		default:
			late = append(late, ev)
		}
	}
	if len(late) != 0 {
		t.Errorf("the old leader started %d writes after the new leader's first write (%s at %s) and its thaw (%s): %s, first at %s",
			len(late), firstB.Verb+" "+firstB.Resource, firstB.Received.Format(time.RFC3339Nano), thawedAt.Format(time.RFC3339Nano),
			describe(late), late[0].Received.Format(time.RFC3339Nano))
	}
	if exitErr == nil && code == 0 {
		t.Errorf("the old leader exited with code 0 after losing its Lease, want non-zero")
	}
	if c, done := b.Exited(); done {
		t.Errorf("the new leader exited with code %d", c)
	}
	creates := s.successfulCreates(mark, userA)
	for name, n := range s.successfulCreates(mark, userB) {
		creates[name] += n
	}
	duplicated := 0
	for _, n := range creates {
		if n > 1 {
			duplicated++
		}
	}
	if duplicated != 0 {
		t.Errorf("%d objects were created more than once", duplicated)
	}
	report(t, "leader-handover", fmt.Sprintf("leader SIGSTOPped while applying %d Works, 100 of them edited while it is frozen, thawed after the standby took over", handoverWorks),
		"lost", len(tl.lost), "orphaned", len(tl.orphaned), "duplicated", duplicated, "old_leader_writes_after_takeover", len(late), "old_leader_in_flight_at_freeze", len(frozen),
		"takeover", takeover.Round(time.Millisecond), "old_leader_exited", exitErr == nil, "old_leader_exit_code", code, "old_leader_exit_after_thaw", exited.Round(time.Millisecond),
		"member_writes_a", len(s.memberWrites(mark, userA, false)), "member_writes_b", len(s.memberWrites(mark, userB, false)))
}
