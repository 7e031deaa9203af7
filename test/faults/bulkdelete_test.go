package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// TestBulkDeletionWhileAway is Karmada issue #5406: while the agent is
// stopped, 30 of its 40 Works are deleted on the hub (they wait behind
// their finalizer). Restarted, the agent holds those deletes: the member
// objects stay, the Cluster says DeletesHeld=True, a Warning Event and
// 'tether-agent get clusters' show it; an operator's confirmation releases
// them. A single deletion while away proceeds without confirmation.
func TestBulkDeletionWhileAway(t *testing.T) {
	const works, deleted = 40, 30
	s := newScenario(t, "bulk-delete")
	ctx := context.Background()
	user := s.memberUser("a")
	agent := s.startAgent("a", "")
	agent.WaitReady(t, 3*time.Minute)
	s.createWorks(works)
	s.waitAllApplied(works, 5*time.Minute)
	s.waitConverged(2 * time.Minute)
	if code := agent.Stop(); code != 0 {
		t.Errorf("agent exit code after SIGTERM = %d, want 0", code)
	}
	for i := 0; i < deleted; i++ {
		if err := retry(func() error {
			return s.hub.WorkV1alpha1().Works(s.es).Delete(ctx, cmName(i), metav1.DeleteOptions{})
		}); err != nil {
			t.Fatal(err)
		}
	}
	mark := memberMark(t, s.env)
	restartAt := time.Now()
	agent.Restart(t)
	agent.WaitReady(t, 3*time.Minute)
	testenv.Poll(t, 500*time.Millisecond, 2*time.Minute, "the Cluster reports DeletesHeld=True", func(ctx context.Context) (bool, error) {
		c, err := s.hub.ClusterV1alpha1().Clusters().Get(ctx, s.cluster, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if n := s.remaining(ctx); n >= 0 && n < works {
			t.Fatalf("%s after its restart the agent deleted %d of the %d member objects whose Works were deleted while it was away, without confirmation",
				time.Since(restartAt).Round(time.Millisecond), works-n, deleted)
		}
		return meta.IsStatusConditionTrue(c.Status.Conditions, clusterv1alpha1.ClusterConditionDeletesHeld), nil
	})
	held := time.Since(restartAt)
	if n := s.remaining(ctx); n != works {
		t.Fatalf("%d of %d member objects left while the deletes are held", n, works)
	}
	if evs := s.memberWrites(mark, user, false); countVerb(evs, "delete") != 0 {
		t.Fatalf("the agent deleted member objects while holding: %s", describe(evs))
	}
	warning := s.waitClusterWarning()
	out := s.tetherAgent(agent.Process().Exe, "get", "clusters", s.cluster)
	if !strings.Contains(strings.ToLower(out), "held") {
		t.Errorf("'tether-agent get clusters %s' does not show the held deletes:\n%s", s.cluster, out)
	}

	// The operator confirms with the CLI verb: the held deletes proceed.
	confirmAt := time.Now()
	confirmed := s.tetherAgent(agent.Process().Exe, "deletes", "confirm", s.cluster)
	if !strings.Contains(strings.ToLower(confirmed), "held") && !strings.Contains(confirmed, "30") {
		t.Logf("'tether-agent deletes confirm %s' said: %s", s.cluster, confirmed)
	}
	testenv.Poll(t, 500*time.Millisecond, 2*time.Minute, "the confirmed deletes done and their Works gone", func(ctx context.Context) (bool, error) {
		list, err := s.hub.WorkV1alpha1().Works(s.es).List(ctx, metav1.ListOptions{})
		return err == nil && len(list.Items) == works-deleted && s.remaining(ctx) == works-deleted, err
	})
	released := time.Since(confirmAt)
	s.waitConverged(time.Minute)
	testenv.Poll(t, 500*time.Millisecond, time.Minute, "DeletesHeld leaves True after the confirmation", func(ctx context.Context) (bool, error) {
		c, err := s.hub.ClusterV1alpha1().Clusters().Get(ctx, s.cluster, metav1.GetOptions{})
		return err == nil && !meta.IsStatusConditionTrue(c.Status.Conditions, clusterv1alpha1.ClusterConditionDeletesHeld), err
	})

	// One Work deleted while away: below the threshold, it proceeds.
	agent.Stop()
	single := cmName(deleted)
	if err := s.hub.WorkV1alpha1().Works(s.es).Delete(ctx, single, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	singleAt := time.Now()
	agent.Restart(t)
	testenv.Poll(t, 500*time.Millisecond, 2*time.Minute, "the single deletion while away proceeds", func(ctx context.Context) (bool, error) {
		_, err := s.member.CoreV1().ConfigMaps(s.ns).Get(ctx, single, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			return false, err
		}
		_, err = s.hub.WorkV1alpha1().Works(s.es).Get(ctx, single, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	c, err := s.hub.ClusterV1alpha1().Clusters().Get(ctx, s.cluster, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if meta.IsStatusConditionTrue(c.Status.Conditions, clusterv1alpha1.ClusterConditionDeletesHeld) {
		t.Error("a single deletion while away was held")
	}
	report(t, "bulk-delete", fmt.Sprintf("agent stopped; %d of %d Works deleted on the hub; confirmed with tether-agent deletes confirm; then 1 deleted while away", deleted, works),
		"lost", 0, "orphaned", 0, "duplicated", 0, "deleted_before_confirm", 0, "held_after_restart", held.Round(time.Millisecond),
		"warning_event", warning, "released_after_confirm", released.Round(time.Millisecond),
		"single_delete", time.Since(singleAt).Round(time.Millisecond), "converge", released.Round(time.Millisecond))
}

// remaining is the number of the scenario's ConfigMaps on the member (-1 on error).
func (s *scenario) remaining(ctx context.Context) int {
	list, err := s.member.CoreV1().ConfigMaps(s.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return -1
	}
	n := 0
	for _, cm := range list.Items {
		if strings.HasPrefix(cm.Name, "cm-") {
			n++
		}
	}
	return n
}

// waitClusterWarning waits for a Warning Event on the hub about a held
// delete (on a held Work, or on the Cluster) and returns its reason.
func (s *scenario) waitClusterWarning() string {
	s.t.Helper()
	var reason string
	testenv.Poll(s.t, 500*time.Millisecond, time.Minute, "a Warning Event about the held deletes", func(ctx context.Context) (bool, error) {
		for _, q := range []struct{ ns, selector string }{
			{s.es, "type=Warning"},
			{metav1.NamespaceAll, "type=Warning,involvedObject.kind=Cluster,involvedObject.name=" + s.cluster},
		} {
			list, err := s.hubKube.CoreV1().Events(q.ns).List(ctx, metav1.ListOptions{FieldSelector: q.selector})
			if err != nil {
				return false, err
			}
			for _, ev := range list.Items {
				if ev.Type == corev1.EventTypeWarning {
					reason = ev.Reason
					return true, nil
				}
			}
		}
		return false, nil
	})
	return reason
}

// tetherAgent runs a tether-agent command against the hub (admin
// kubeconfig) and returns its output; it fails the test when the command does.
func (s *scenario) tetherAgent(bin string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command(bin, append(args, "--kubeconfig", s.env.Hub.Kubeconfig)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.env.Hub.Kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("tether-agent %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func countVerb(evs []testenv.AuditEvent, verb string) int {
	n := 0
	for _, ev := range evs {
		if ev.Verb == verb {
			n++
		}
	}
	return n
}
