// Package executionbench benchmarks the Work sync path on a real hub and member, with
// the agent (tether-agent run) in its own process:
// Works/s from creation to Applied=True against the member apiserver's raw
// server-side-apply rate, requests per Work on each side, the agent's RSS,
// and what a restart costs. It runs only with TETHER_BENCH=1 ('make bench').
package executionbench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv("TETHER_BENCH") == "" {
		fmt.Println("test/bench/execution: skipped (set TETHER_BENCH=1, or run 'make bench')")
		os.Exit(0)
	}
	testenv.Main(m, testenv.Options{Members: 1, Nodes: 3, Audit: true,
		NodeCapacity: map[string]string{"cpu": "1000", "memory": "4000Gi", "pods": "3000"}})
}

func works() int {
	if n, err := strconv.Atoi(os.Getenv("TETHER_BENCH_WORKS")); err == nil && n > 0 {
		return n
	}
	return 2000
}

// benchWorkers is the agent's --concurrent-work-syncs in the bench
// (TETHER_BENCH_WORKERS; default: the agent's own default, 16).
func benchWorkers() int {
	if n, err := strconv.Atoi(os.Getenv("TETHER_BENCH_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 16
}

// creators is how many clients create the Works on the hub at once
// (TETHER_BENCH_CREATORS, default 32), enough that the load generator is
// not what limits the rate.
func creators() int {
	if n, err := strconv.Atoi(os.Getenv("TETHER_BENCH_CREATORS")); err == nil && n > 0 {
		return n
	}
	return 32
}

func deployment(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"app": name}},
		"spec": map[string]any{"replicas": int64(1),
			"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": name}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx"}}}}},
	}}
}

func TestBenchSync(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	n := works()
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	for _, ns := range []string{"raw", "bench"} {
		_, err := member.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	raw := rawSSARate(t, env.Members[0].Config, "raw", n)
	fmt.Printf("BENCH sync raw_ssa_deployments_per_s=%.0f workers=8 n=%d\n", raw, n)
	// The raw loop outruns the deployment controller, scheduler and kwok; let
	// them finish its Deployments so their backlog does not land on Tether's run.
	settled := time.Now()
	available(t, member, "raw", n)
	rawEffective := float64(n) / (time.Since(settled).Seconds() + float64(n)/raw)
	fmt.Printf("BENCH sync raw_deployments_until_available_per_s=%.0f (the same Deployments, until the controllers, scheduler and kwok made them Available)\n", rawEffective)

	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	es := workv1alpha1.ExecutionNamespace("member1")
	_, err := kubernetes.NewForConfigOrDie(env.Hub.Config).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: es}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bin := testenv.AgentBinary(t)
	// The hub is prepared as for any agent (the heartbeat's namespace, RBAC).
	if out, err := exec.Command(bin, "hub", "init", "--kubeconfig", env.Hub.Kubeconfig).CombinedOutput(); err != nil {
		t.Fatalf("hub init: %v\n%s", err, out)
	}
	ag := startAgent(t, env, bin, "agent")
	before := ag.scrape(t)
	cpuBefore := testenv.ProcCPUSeconds(ag.proc.Pid)

	life := newLifecycle(n)
	life.watch(t, hub, es, env.Members[0].Config)
	mark, err := env.Hub.AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	testenv.Parallel(n, creators(), func(i int) {
		name := fmt.Sprintf("w%05d", i)
		raw, _ := deployment("bench", name).MarshalJSON()
		w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: es, Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
			Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: raw}}}}}}
		at := time.Now()
		if _, err := hub.WorkV1alpha1().Works(es).Create(ctx, w, metav1.CreateOptions{}); err != nil {
			t.Error(err)
		}
		life.create(name, at)
	})
	createdIn := time.Since(start)
	select {
	case <-life.allApplied:
	case <-time.After(20 * time.Minute):
		t.Fatalf("not all of %d Works became Applied", n)
	}
	elapsed := time.Since(start)
	after := ag.scrape(t)
	cpu := testenv.ProcCPUSeconds(ag.proc.Pid) - cpuBefore
	rss := testenv.ProcStatusMiB(ag.proc.Pid, "VmRSS")
	lat := life.since(life.created, life.applied)
	rate := float64(n) / elapsed.Seconds()
	perWork := func(a, b float64) float64 { return (b - a) / float64(n) }
	fmt.Printf("BENCH sync agent_workers=%d (tether-agent run, its own process)\n", benchWorkers())
	fmt.Printf("BENCH sync created_in_s=%.1f creators=%d\n", createdIn.Seconds(), creators())
	fmt.Printf("BENCH sync works=%d time_to_all_applied_s=%.1f works_per_s=%.0f ratio_to_raw_ssa=%.2f ratio_to_raw_until_available=%.2f applied_latency_p50_ms=%d p99_ms=%d\n",
		n, elapsed.Seconds(), rate, rate/raw, rate/rawEffective, pct(lat, 50).Milliseconds(), pct(lat, 99).Milliseconds())
	appliedWrites, appliedStatus := hubWrites(t, env, mark)
	fmt.Printf("BENCH sync hub_writes_per_work=%.2f (work_status_writes_per_work=%.2f; from the hub's audit log) hub_reads_per_work=%.2f member_requests_per_work=%.2f (all of the agent's requests until the last Work was Applied, heartbeat and cluster status included)\n",
		float64(appliedWrites)/float64(n), float64(appliedStatus)/float64(n),
		perWork(before.hubReads, after.hubReads), perWork(before.memberReads+before.memberWrites, after.memberReads+after.memberWrites))
	fmt.Printf("BENCH sync agent_rss_mib=%d agent_cpu_s=%.1f agent_cpu_ms_per_work=%.2f\n", rss, cpu, cpu*1000/float64(n))

	// Lifecycle: create -> Applied -> Healthy, and the agent's hub writes
	// per Work, counted in the hub's audit log.
	select {
	case <-life.allHealthy:
	case <-time.After(20 * time.Minute):
		t.Fatalf("not all of %d Works became Healthy", n)
	}
	healthy := ag.scrape(t)
	life.report()
	allWrites, statusPatches := hubWrites(t, env, mark)
	fmt.Printf("BENCH sync hub_writes_per_work_lifecycle=%.2f work_status_writes_per_work_lifecycle=%.2f (create -> Applied -> Healthy; from the hub's audit log: every write of the agent, heartbeat and cluster status included) agent_peak_rss_mib=%d\n",
		float64(allWrites)/float64(n), float64(statusPatches)/float64(n), testenv.ProcStatusMiB(ag.proc.Pid, "VmHWM"))
	if os.Getenv("TETHER_BENCH_QUICK") != "" {
		fmt.Printf("BENCH sync apply_duration_mean_ms=%.1f queue_wait_mean_ms=%.0f reconciles_per_work=%.2f\n",
			1000*(after.get("tether_work_apply_duration_seconds_sum")-before.get("tether_work_apply_duration_seconds_sum"))/
				(after.get("tether_work_apply_duration_seconds_count")-before.get("tether_work_apply_duration_seconds_count")),
			1000*(after.get(`workqueue_queue_duration_seconds_sum{name="work"}`)-before.get(`workqueue_queue_duration_seconds_sum{name="work"}`))/
				(after.get(`workqueue_queue_duration_seconds_count{name="work"}`)-before.get(`workqueue_queue_duration_seconds_count{name="work"}`)),
			perWork(before.get(`workqueue_queue_duration_seconds_count{name="work"}`), after.get(`workqueue_queue_duration_seconds_count{name="work"}`)))
		deleteAll(t, env, hub, es, n, ag)
		ag.stop()
		return // TETHER_BENCH_QUICK: the throughput, lifecycle and delete-all figures only
	}
	idleWindow := 30 * time.Second
	<-time.After(idleWindow) // a measurement window, not a wait for a condition
	idle := ag.scrape(t)
	fmt.Printf("BENCH sync idle_hub_requests_per_min=%.1f (the whole agent: heartbeat and cluster status included)\n",
		(idle.hub()-healthy.hub())*float64(time.Minute)/float64(idleWindow))

	// Restart: a new agent process over the same applied Works.
	ag.stop()
	restartStart := time.Now()
	restarted := startAgent(t, env, bin, "agent-restarted")
	idleAfter := waitReconciled(t, restarted, n).Sub(restartStart)
	if minute := time.Until(restartStart.Add(time.Minute)); minute > 0 {
		<-time.After(minute) // a measurement window: the full minute the target names
	}
	r := restarted.scrape(t)
	fmt.Printf("BENCH sync restart works=%d idle_after_s=%.1f member_writes_first_minute=%.0f hub_writes_first_minute=%.0f work_status_writes_first_minute=%.0f gets=%.0f dry_runs=%.0f unchanged_by_fieldset=%.0f\n",
		n, idleAfter.Seconds(), r.memberWrites, r.hubWrites, r.get(statusWrites), r.get(`tether_apply_requests_total{request="get"}`),
		r.get(`tether_apply_requests_total{request="dry_run"}`), r.get("tether_apply_unchanged_local_total"))
	if r.memberWrites != 0 {
		t.Errorf("restart made %.0f member writes", r.memberWrites)
	}
	if w := r.get(statusWrites); w != 0 {
		t.Errorf("restart rewrote %.0f Work statuses", w)
	}
	p50, p99, samples := statusLatency(t, env, hub, es, min(n, 100))
	fmt.Printf("BENCH status work_status_latency_p50_ms=%d p99_ms=%d samples=%d (member Deployment status change -> Work status on the hub)\n",
		p50.Milliseconds(), p99.Milliseconds(), samples)
	deleteAll(t, env, hub, es, n, restarted)
	restarted.stop()
}

const statusWrites = "tether_work_status_writes_total"

// waitReconciled waits until the agent has taken every Work through its
// queue once and has nothing queued or pending, and returns when.
func waitReconciled(t *testing.T, a *agent, n int) time.Time {
	t.Helper()
	var at time.Time
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 10*time.Minute, true, func(context.Context) (bool, error) {
		s := a.scrape(t)
		done := s.get(`workqueue_work_duration_seconds_count{name="work"}`) >= float64(n) &&
			s.get(`workqueue_depth{name="work"}`) == 0 && s.get("tether_work_status_pending") == 0
		if done && at.IsZero() {
			at = time.Now()
		}
		return done, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// rawSSARate is the member apiserver's server-side-apply create rate for the
// same Deployments, in namespace ns, with a bare 8-worker loop.
func rawSSARate(t *testing.T, cfg *rest.Config, ns string, n int) float64 {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 1000, 2000
	dyn := dynamic.NewForConfigOrDie(c)
	gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	start := time.Now()
	testenv.Parallel(n, 8, func(i int) {
		d := deployment(ns, fmt.Sprintf("r%05d", i))
		if _, err := dyn.Resource(gvr).Namespace(ns).Apply(context.Background(), d.GetName(), d, metav1.ApplyOptions{FieldManager: "raw", Force: true}); err != nil {
			t.Error(err)
		}
	})
	return float64(n) / time.Since(start).Seconds()
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[(len(d)-1)*p/100]
}

// statusLatency deletes the pod of k Deployments and measures, per
// Deployment, the time from the member's status change (readyReplicas 1 -> 0,
// seen by a watch on the member) to the Work status showing it (seen by a
// watch on the hub).
func statusLatency(t *testing.T, env *testenv.Env, hub versioned.Interface, es string, k int) (p50, p99 time.Duration, samples int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	var mu sync.Mutex
	memberAt, hubAt := map[string]time.Time{}, map[string]time.Time{}
	mw, err := member.AppsV1().Deployments("bench").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Stop()
	hw, err := hub.WorkV1alpha1().Works(es).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer hw.Stop()
	go func() {
		for ev := range mw.ResultChan() {
			if d, ok := ev.Object.(*appsv1.Deployment); ok && d.Status.ReadyReplicas == 0 {
				mu.Lock()
				if _, seen := memberAt[d.Name]; !seen {
					memberAt[d.Name] = time.Now()
				}
				mu.Unlock()
			}
		}
	}()
	go func() {
		for ev := range hw.ResultChan() {
			w, ok := ev.Object.(*workv1alpha1.Work)
			if !ok || len(w.Status.ManifestStatuses) != 1 || w.Status.ManifestStatuses[0].Status == nil {
				continue
			}
			var st struct {
				ReadyReplicas int `json:"readyReplicas"`
			}
			_ = json.Unmarshal(w.Status.ManifestStatuses[0].Status.Raw, &st)
			if st.ReadyReplicas == 0 {
				mu.Lock()
				if _, seen := hubAt[w.Name]; !seen {
					hubAt[w.Name] = time.Now()
				}
				mu.Unlock()
			}
		}
	}()
	// Cordon every node so the deleted pods stay away and the change lasts.
	nodes, err := member.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cordon := func(v bool) {
		for _, node := range nodes.Items {
			_, _ = member.CoreV1().Nodes().Patch(ctx, node.Name, types.MergePatchType, []byte(fmt.Sprintf(`{"spec":{"unschedulable":%v}}`, v)), metav1.PatchOptions{})
		}
	}
	cordon(true)
	defer cordon(false)
	for i := range k {
		name := fmt.Sprintf("w%05d", i)
		_ = member.CoreV1().Pods("bench").DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}, metav1.ListOptions{LabelSelector: "app=" + name})
	}
	_ = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(context.Context) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return len(hubAt) >= k, nil
	})
	mu.Lock()
	defer mu.Unlock()
	var lat []time.Duration
	for name, h := range hubAt {
		if m, ok := memberAt[name]; ok {
			lat = append(lat, max(h.Sub(m), 0))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return pct(lat, 50), pct(lat, 99), len(lat)
}
