package executionbench

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// unregisterWait is karmadactl unregister's default --wait: it deletes every
// Work of the cluster's execution namespace and waits this long for the
// namespace to empty (the agent removes each Work's finalizer once its
// member objects are deleted), then for the Cluster to go.
const unregisterWait = 60 * time.Second

// deleteAll deletes every Work of es at once, as karmadactl unregister (or
// an eviction of the whole cluster) does, while the agent runs normally,
// and reports how long until the namespace is empty and the member objects
// are gone, the most Works the bulk-deletion guard held meanwhile, and the
// agent's requests per Work.
func deleteAll(t *testing.T, env *testenv.Env, hub versioned.Interface, es string, n int, a *agent) {
	t.Helper()
	ctx := context.Background()
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	before := a.scrape(t)
	start := time.Now()
	testenv.Parallel(n, creators(), func(i int) {
		if err := hub.WorkV1alpha1().Works(es).Delete(ctx, fmt.Sprintf("w%05d", i), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
	deletedIn := time.Since(start)
	var emptyAt, goneAt time.Duration
	held := 0.0
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 10*time.Minute, true, func(ctx context.Context) (bool, error) {
		held = max(held, a.scrape(t).get("tether_deletion_held_works"))
		if emptyAt == 0 {
			list, err := hub.WorkV1alpha1().Works(es).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, nil
			}
			if len(list.Items) == 0 {
				emptyAt = time.Since(start)
			}
		}
		if goneAt == 0 {
			list, err := member.AppsV1().Deployments("bench").List(ctx, metav1.ListOptions{LabelSelector: workv1alpha1.ManagedLabel})
			if err != nil {
				return false, nil
			}
			if len(list.Items) == 0 {
				goneAt = time.Since(start)
			}
		}
		return emptyAt > 0 && goneAt > 0, nil
	})
	after := a.scrape(t)
	perWork := func(a, b float64) float64 { return (b - a) / float64(n) }
	window := max(emptyAt, goneAt).Seconds()
	latency := (sumOf(after, "rest_client_request_duration_seconds_sum") - sumOf(before, "rest_client_request_duration_seconds_sum")) /
		(sumOf(after, "rest_client_request_duration_seconds_count") - sumOf(before, "rest_client_request_duration_seconds_count"))
	fmt.Printf("BENCH sync delete_all works=%d deletes_sent_in_s=%.1f namespace_empty_s=%.1f member_objects_gone_s=%.1f guard_held_max=%.0f "+
		"hub_writes_per_work=%.2f member_writes_per_work=%.2f hub_requests_per_s=%.0f member_requests_per_s=%.0f agent_request_latency_mean_ms=%.0f agent_workers=%d "+
		"(every Work deleted at once while the agent runs, as karmadactl unregister does; its default --wait is %s; the agent's clients allow 200 requests/s each)\n",
		n, deletedIn.Seconds(), emptyAt.Seconds(), goneAt.Seconds(), held,
		perWork(before.hubWrites, after.hubWrites), perWork(before.memberWrites, after.memberWrites),
		(after.hub()-before.hub())/window, (after.memberReads+after.memberWrites-before.memberReads-before.memberWrites)/window,
		1000*latency, benchWorkers(), unregisterWait)
	if err != nil {
		t.Fatalf("after deleting every Work: namespace empty after %s, member objects gone after %s (0: not yet); %v", emptyAt, goneAt, err)
	}
	if held > 0 {
		t.Errorf("the bulk-deletion guard held up to %.0f Works while the agent ran normally", held)
	}
	if emptyAt > unregisterWait {
		t.Errorf("the execution namespace emptied after %s, beyond karmadactl unregister's default wait of %s", emptyAt.Round(time.Second), unregisterWait)
	}
}

// sumOf adds up every series of the sample whose key starts with prefix
// (a metric over all its label values).
func sumOf(s sample, prefix string) float64 {
	total := 0.0
	for k, v := range s.series {
		if strings.HasPrefix(k, prefix) {
			total += v
		}
	}
	return total
}
