package fleetbench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	informers "github.com/tether-io/tether/pkg/generated/informers/externalversions"
	"github.com/tether-io/tether/test/testenv"
)

// workName is the fan-out Work of every cluster, in its execution namespace.
const workName = "fleet-web"

// tracker records, per Work, when it was created or changed and when the
// hub first showed it Applied (the Applied condition of that generation)
// and Healthy, from an informer on every execution namespace.
type tracker struct {
	mu                      sync.Mutex
	want                    map[string]int64 // Work key -> the generation awaited
	start, applied, healthy map[string]time.Time
}

func newTracker() *tracker {
	return &tracker{want: map[string]int64{}, start: map[string]time.Time{}, applied: map[string]time.Time{}, healthy: map[string]time.Time{}}
}

// expect starts a measurement of key until it shows generation gen.
func (tr *tracker) expect(key string, gen int64, at time.Time) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.want[key], tr.start[key] = gen, at
	delete(tr.applied, key)
	delete(tr.healthy, key)
}

func (tr *tracker) observe(obj any) {
	w, ok := obj.(*workv1alpha1.Work)
	if !ok {
		return
	}
	now := time.Now()
	key := w.Namespace + "/" + w.Name
	tr.mu.Lock()
	defer tr.mu.Unlock()
	gen, ok := tr.want[key]
	if !ok {
		return
	}
	c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration < gen {
		return
	}
	if _, seen := tr.applied[key]; !seen {
		tr.applied[key] = now
	}
	if _, seen := tr.healthy[key]; !seen && len(w.Status.ManifestStatuses) == 1 && w.Status.ManifestStatuses[0].Health == workv1alpha1.ResourceHealthy {
		tr.healthy[key] = now
	}
}

// counts is how many awaited Works are Applied and Healthy.
func (tr *tracker) counts() (applied, healthy int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.applied), len(tr.healthy)
}

// latencies are the times from start to applied and to healthy.
func (tr *tracker) latencies() (applied, healthy []time.Duration) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for key, at := range tr.applied {
		applied = append(applied, at.Sub(tr.start[key]))
	}
	for key, at := range tr.healthy {
		healthy = append(healthy, at.Sub(tr.start[key]))
	}
	return applied, healthy
}

func (f *fleet) watchWorks(t *testing.T) *tracker {
	tr := newTracker()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	factory := informers.NewSharedInformerFactory(f.hub, 0)
	inf := factory.Work().V1alpha1().Works().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: tr.observe, UpdateFunc: func(_, obj any) { tr.observe(obj) }}); err != nil {
		t.Fatal(err)
	}
	factory.Start(stop)
	factory.WaitForCacheSync(stop)
	return tr
}

// deployment is the fan-out manifest of a cluster: one replica of image.
func deployment(ns, image string) workv1alpha1.Manifest {
	labels := map[string]any{"app": "web"}
	raw, err := json.Marshal(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": ns, "labels": labels},
		"spec": map[string]any{"replicas": 1, "selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": image}}}}}})
	if err != nil {
		panic(err) // plain values always marshal
	}
	return workv1alpha1.Manifest{RawExtension: runtime.RawExtension{Raw: raw}}
}

// fanOut creates one Work per cluster at once (32 creators), waits until
// all are Applied and Healthy, then changes each (the image) and waits
// again; it prints both rounds' latencies and the agents' usage.
func (f *fleet) fanOut(tr *tracker) (createP99, changeP99 time.Duration) {
	f.t.Helper()
	ps0, cpu0, t0 := sampleProcs(f.pids), f.cpuSample(), time.Now()
	createP99 = f.fanOutRound(tr, "create", 1, func(ctx context.Context, i int) error {
		es := workv1alpha1.ExecutionNamespace(f.clusters[i])
		w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: workName, Namespace: es, Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
			Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{deployment(f.clusters[i], "nginx:1.0")}}}}
		_, err := f.hub.WorkV1alpha1().Works(es).Create(ctx, w, metav1.CreateOptions{})
		return err
	})
	changeP99 = f.fanOutRound(tr, "change", 2, func(ctx context.Context, i int) error {
		es := workv1alpha1.ExecutionNamespace(f.clusters[i])
		patch, err := json.Marshal(map[string]any{"spec": map[string]any{"workload": map[string]any{
			"manifests": []workv1alpha1.Manifest{deployment(f.clusters[i], "nginx:1.1")}}}})
		if err != nil {
			return err
		}
		_, err = f.hub.WorkV1alpha1().Works(es).Patch(ctx, workName, types.MergePatchType, patch, metav1.PatchOptions{})
		return err
	})
	bench(f.k, "fanout agents", "%s (over both rounds, %.0f s; RSS at the end)", usage(ps0, sampleProcs(f.pids), time.Since(t0).Seconds()), time.Since(t0).Seconds())
	bench(f.k, "fanout cpu", "%s", f.cpuSince(cpu0))
	return createP99, changeP99
}

func (f *fleet) fanOutRound(tr *tracker, what string, gen int64, do func(ctx context.Context, i int) error) time.Duration {
	f.t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var errs []error
	hubMark, memberMarks := f.hubMark(), f.memberMarks()
	t0 := time.Now()
	testenv.Parallel(f.k, 32, func(i int) {
		key := workv1alpha1.ExecutionNamespace(f.clusters[i]) + "/" + workName
		tr.expect(key, gen, time.Now())
		if err := do(ctx, i); err != nil {
			mu.Lock()
			errs = append(errs, fmt.Errorf("%s Work %s: %w", what, key, err))
			mu.Unlock()
		}
	})
	issued := time.Since(t0)
	if len(errs) > 0 {
		f.t.Fatalf("%d errors, first: %v", len(errs), errs[0])
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 10*time.Minute, true, func(context.Context) (bool, error) {
		a, h := tr.counts()
		return a == f.k && h == f.k, nil
	})
	applied, healthy := tr.latencies()
	if err != nil {
		f.agentsAlive()
		f.t.Fatalf("fan-out %s: %d of %d Works Applied, %d Healthy after 10 min", what, len(applied), f.k, len(healthy))
	}
	ms := func(d []time.Duration, p float64) int64 { return Percentile(d, p).Milliseconds() }
	bench(f.k, "fanout "+what, "to_applied_p50_ms=%d p99_ms=%d max_ms=%d to_healthy_p50_ms=%d p99_ms=%d max_ms=%d issued_in_ms=%d all_healthy_s=%.1f",
		ms(applied, 50), ms(applied, 99), ms(applied, 100), ms(healthy, 50), ms(healthy, 99), ms(healthy, 100),
		issued.Milliseconds(), time.Since(t0).Seconds())
	f.fanOutSplit(tr, what, hubMark, memberMarks, t0)
	return Percentile(applied, 99)
}

// fanOutSplit prints where a round's time went, per Work, from the
// audit logs: from the Work's creation or change to the agent's member
// write of the Deployment, from there to the agent's first works/status
// write on the hub after it, and from that write to the benchmark's
// informer seeing Applied.
func (f *fleet) fanOutSplit(tr *tracker, what string, hubMark testenv.AuditMark, memberMarks []testenv.AuditMark, t0 time.Time) {
	f.t.Helper()
	memberWrite := map[string]time.Time{} // cluster -> first Deployment write
	for i, m := range f.env.Members {
		evs, err := m.AuditEvents(memberMarks[i], func(ev testenv.AuditEvent) bool {
			return ev.Resource == "deployments" && ev.IsWrite() && strings.HasPrefix(ev.User, memberUserPrefix)
		})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, ev := range Requests(evs, t0) {
			if _, ok := memberWrite[ev.Namespace]; !ok {
				memberWrite[ev.Namespace] = ev.Received
			}
		}
	}
	statusWrites := filter(Requests(f.hubEvents(hubMark), t0), func(ev testenv.AuditEvent) bool {
		return isAgentUser(ev.User) && ev.Resource == "works" && ev.Subresource == "status" && ev.IsWrite()
	})
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var toMember, toStatus, toSeen, total []time.Duration
	for i, cluster := range f.clusters {
		key := workv1alpha1.ExecutionNamespace(cluster) + "/" + workName
		mw, ok := memberWrite[cluster]
		if !ok {
			continue
		}
		toMember = append(toMember, mw.Sub(tr.start[key]))
		for _, ev := range statusWrites {
			if ev.Namespace == workv1alpha1.ExecutionNamespace(f.clusters[i]) && !ev.Received.Before(mw) {
				toStatus = append(toStatus, ev.Received.Sub(mw))
				total = append(total, ev.Time.Sub(tr.start[key]))
				if seen, ok := tr.applied[key]; ok {
					toSeen = append(toSeen, seen.Sub(ev.Time))
				}
				break
			}
		}
	}
	ms := func(d []time.Duration, p float64) int64 { return Percentile(d, p).Milliseconds() }
	bench(f.k, "fanout "+what+" split", "to_status_write_done_p50_ms=%d p99_ms=%d max_ms=%d (by the hub's audit log) = to_member_write_p50_ms=%d p99_ms=%d + "+
		"member_write_to_status_write_p50_ms=%d p99_ms=%d; status_write_to_seen_by_the_bench_p50_ms=%d p99_ms=%d works=%d",
		ms(total, 50), ms(total, 99), ms(total, 100), ms(toMember, 50), ms(toMember, 99), ms(toStatus, 50), ms(toStatus, 99), ms(toSeen, 50), ms(toSeen, 99), len(toMember))
}
