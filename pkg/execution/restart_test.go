package execution

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// TestRestartWritesNothing applies N Works, restarts the controller, and
// checks the restarted one reconciles every Work with zero member writes and
// zero hub writes (no Work status rewrites).
func TestRestartWritesNothing(t *testing.T) {
	const n = 30
	es2 := workv1alpha1.ExecutionNamespace("member2")
	memberNamespace(t, 1, "restart")
	first := startAgent(t, "member2", 1, nil)
	for i := range n {
		deploy := fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d%d","namespace":"restart"},
"spec":{"replicas":1,"selector":{"matchLabels":{"app":"d%d"}},"template":{"metadata":{"labels":{"app":"d%d"}},
"spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}]}]}}}}`, i, i, i)
		svc := fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s%d","namespace":"restart"},"spec":{"selector":{"app":"d%d"},"ports":[{"port":80}]}}`, i, i)
		createWork(t, newWork("member2", fmt.Sprintf("restart-%d", i), manifests(t, deploy, svc, configMap("restart", fmt.Sprintf("c%d", i), map[string]string{"k": "v"}))))
	}
	for i := range n {
		waitApplied(t, es2, fmt.Sprintf("restart-%d", i), metav1.ConditionTrue)
	}
	// Every rollout finished and reported: a restart then has nothing new to say.
	testenv.Eventually(t, time.Minute, "all manifests Healthy", func() (bool, error) {
		ctx := context.Background()
		list, err := hubClient(t).WorkV1alpha1().Works(es2).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, w := range list.Items {
			for _, ms := range w.Status.ManifestStatuses {
				if ms.Health != workv1alpha1.ResourceHealthy {
					return false, nil
				}
			}
		}
		return true, nil
	})
	waitIdle(t, first)
	first.stop(t)

	second := startAgent(t, "member2", 1, nil)
	defer second.stop(t)
	waitIdle(t, second)
	if got, writes := writeLines(second.member); got != 0 {
		t.Errorf("restart caused %d member writes: %v", got, writes)
	}
	if got, writes := writeLines(second.hubPeek); got != 0 {
		t.Errorf("restart caused %d hub writes: %v", got, writes)
	}
	st := second.ctrl.Stats()
	t.Logf("restart with %d Works (%d objects): gets=%d dryRuns=%d unchanged-by-fieldset=%d applies=%d",
		n, 3*n, st.Gets, st.DryRuns, st.LocalSame, st.Applies)
	if st.Applies != 0 {
		t.Errorf("restart applied %d objects", st.Applies)
	}
}

// waitIdle waits until the controller has had nothing to do for a second:
// the initial list processed, no status write pending.
func waitIdle(t *testing.T, a *agent) {
	t.Helper()
	var since time.Time
	testenv.Eventually(t, time.Minute, "controller idle", func() (bool, error) {
		if !a.ctrl.Idle() {
			since = time.Time{}
			return false, nil
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) > time.Second, nil
	})
}
