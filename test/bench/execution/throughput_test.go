package executionbench

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// TestBenchBacklogThroughput measures Tether on a backlog (every Work
// created first, the agent started after) against two limits measured in
// the same run on the same machine: the bare member SSA loop (8 workers,
// one apply per Work, no hub cost at all) and a fair limit, a bare client
// that pays what Tether must pay per Work and nothing more: one member
// apply and one hub works/status patch, with 8 workers.
func TestBenchBacklogThroughput(t *testing.T) {
	env := testenv.Require(t)
	n := works()
	memberCfg := env.Members[0].Config
	member := kubernetes.NewForConfigOrDie(memberCfg)
	hubKube := kubernetes.NewForConfigOrDie(env.Hub.Config)
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	for _, ns := range []string{"raw-limit", "fair", "bench"} {
		createNamespace(t, member, ns)
	}
	fairES := workv1alpha1.ExecutionNamespace("fair-limit") // no agent serves it
	es := workv1alpha1.ExecutionNamespace(env.Members[0].Name)
	for _, ns := range []string{fairES, es} {
		createNamespace(t, hubKube, ns)
	}

	raw := rawSSARate(t, memberCfg, "raw-limit", n)
	createWorks(t, hub, fairES, "fair", n, false)
	fair := fairRate(t, memberCfg, env.Hub.Config, fairES, n)
	// Let the member's controllers, scheduler and kwok finish both loops'
	// Deployments, so that their backlog does not land on Tether's run.
	available(t, member, "raw-limit", n)
	available(t, member, "fair", n)

	bin := testenv.AgentBinary(t)
	if out, err := exec.Command(bin, "hub", "init", "--kubeconfig", env.Hub.Kubeconfig).CombinedOutput(); err != nil {
		t.Fatalf("hub init: %v\n%s", err, out)
	}
	createWorks(t, hub, es, "bench", n, true)
	life := newLifecycle(n)
	life.watch(t, hub, es, memberCfg)
	start := time.Now()
	ag := startAgent(t, env, bin, "agent-backlog")
	readyIn := time.Since(start)
	select {
	case <-life.allApplied:
	case <-time.After(20 * time.Minute):
		t.Fatalf("not all of %d Works became Applied", n)
	}
	elapsed := time.Since(start)
	s := ag.scrape(t)
	rate := float64(n) / elapsed.Seconds()
	fmt.Printf("BENCH backlog works=%d agent_workers=%d limit_workers=8 raw_ssa_per_s=%.0f fair_ssa_and_status_per_s=%.0f "+
		"tether_backlog_per_s=%.0f ratio_to_raw=%.2f ratio_to_fair=%.2f agent_ready_s=%.1f all_applied_s=%.1f "+
		"(Works created first, the agent started after; its time counts from the process start)\n",
		n, benchWorkers(), raw, fair, rate, rate/raw, rate/fair, readyIn.Seconds(), elapsed.Seconds())
	perWork := func(v float64) float64 { return v / float64(n) }
	fmt.Printf("BENCH backlog member_writes_per_work=%.2f member_reads_per_work=%.2f hub_writes_per_work=%.2f hub_reads_per_work=%.2f "+
		"(every request of the agent from its start until the last Work was Applied, lists and heartbeat included)\n",
		perWork(s.memberWrites), perWork(s.memberReads), perWork(s.hubWrites), perWork(s.hubReads))
	deleteAll(t, env, hub, es, n, ag)
	ag.stop()
}

// fairRate is the rate of a bare 8-worker loop that does for each Work of
// es exactly one member server-side apply of its Deployment and one hub
// works/status patch saying it is applied.
func fairRate(t *testing.T, memberCfg, hubCfg *rest.Config, es string, n int) float64 {
	t.Helper()
	mc, hc := rest.CopyConfig(memberCfg), rest.CopyConfig(hubCfg)
	mc.QPS, mc.Burst, hc.QPS, hc.Burst = 1000, 2000, 1000, 2000
	dyn := dynamic.NewForConfigOrDie(mc)
	hub := versioned.NewForConfigOrDie(hc)
	start := time.Now()
	testenv.Parallel(n, 8, func(i int) {
		ctx := context.Background()
		name := fmt.Sprintf("w%05d", i)
		d := deployment("fair", name)
		if _, err := dyn.Resource(deploymentsGVR).Namespace("fair").Apply(ctx, name, d, metav1.ApplyOptions{FieldManager: "fair", Force: true}); err != nil {
			t.Error(err)
			return
		}
		if _, err := hub.WorkV1alpha1().Works(es).Patch(ctx, name, types.MergePatchType, appliedStatus(name), metav1.PatchOptions{}, "status"); err != nil {
			t.Error(err)
		}
	})
	return float64(n) / time.Since(start).Seconds()
}

// appliedStatus is a Work status as an agent reports a Deployment just
// applied: the Applied condition and the manifest's identifier.
func appliedStatus(name string) []byte {
	now := metav1.Now().UTC().Format(time.RFC3339)
	raw, _ := json.Marshal(map[string]any{"status": map[string]any{
		"conditions": []any{map[string]any{"type": workv1alpha1.WorkApplied, "status": "True", "reason": workv1alpha1.ReasonAppliedSuccessful,
			"message": workv1alpha1.MessageAppliedSuccessful, "lastTransitionTime": now, "observedGeneration": 1}},
		"manifestStatuses": []any{map[string]any{
			"identifier": map[string]any{"ordinal": 0, "group": "apps", "version": "v1", "kind": "Deployment", "resource": "deployments", "namespace": "fair", "name": name},
			"health":     "Unknown"}},
	}})
	return raw
}

// createWorks creates n Works w00000... in es, each with one Deployment for
// member namespace ns; with finalizer, as the hub's execution controller
// creates them for an agent.
func createWorks(t *testing.T, hub versioned.Interface, es, ns string, n int, finalizer bool) {
	t.Helper()
	testenv.Parallel(n, creators(), func(i int) {
		name := fmt.Sprintf("w%05d", i)
		raw, _ := deployment(ns, name).MarshalJSON()
		w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: es},
			Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: raw}}}}}}
		if finalizer {
			w.Finalizers = []string{workv1alpha1.ExecutionControllerFinalizer}
		}
		if _, err := hub.WorkV1alpha1().Works(es).Create(context.Background(), w, metav1.CreateOptions{}); err != nil {
			t.Error(err)
		}
	})
}

func createNamespace(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	_, err := c.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// available waits until the n Deployments of ns are Available.
func available(t *testing.T, member kubernetes.Interface, ns string, n int) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), time.Second, 10*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := member.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, d := range list.Items {
			if d.Status.AvailableReplicas != 1 {
				return false, nil
			}
		}
		return len(list.Items) == n, nil
	}); err != nil {
		t.Fatalf("the Deployments of %s did not become available: %v", ns, err)
	}
}
