package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// Leader election as deployed, but with a short Lease, so that an agent
// restarted after SIGKILL, or a standby replica, takes over in seconds
// rather than the default 15 s; generous enough for a loaded machine.
var leaseArgs = []string{"--leader-elect-lease-duration=8s", "--leader-elect-renew-deadline=6s", "--leader-elect-retry-period=1s"}

// scenario is one fault scenario: a cluster name of its own on the hub (its
// execution namespace karmada-es-<cluster>), and a member namespace of the
// same name on member1 for its objects.
type scenario struct {
	t       *testing.T
	env     *testenv.Env
	cluster string
	es, ns  string
	hub     versioned.Interface
	hubKube kubernetes.Interface
	member  kubernetes.Interface
	// hubUser is the agent's user on the hub.
	hubUser string
}

func newScenario(t *testing.T, cluster string) *scenario {
	t.Helper()
	env := testenv.Require(t)
	s := &scenario{t: t, env: env, cluster: cluster, es: workv1alpha1.ExecutionNamespace(cluster), ns: cluster,
		hub: versioned.NewForConfigOrDie(env.Hub.Config), hubKube: kubernetes.NewForConfigOrDie(env.Hub.Config),
		member: kubernetes.NewForConfigOrDie(env.Members[0].Config), hubUser: clusterv1alpha1.AgentUser(cluster)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The hub side as register leaves it (execution namespace, RBAC), so
	// that Works can be created before any agent ran.
	if err := env.Hub.GrantAgent(ctx, cluster); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.ns}}
	if _, err := s.member.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return s
}

// memberUser is the member identity of an agent replica: each replica gets
// its own client certificate (system:masters, as an agent's in-cluster
// ServiceAccount is bound to cluster-admin), so that the member's audit log
// tells its writes from the test's and from another replica's.
func (s *scenario) memberUser(replica string) string {
	return "tether-agent:" + s.cluster + ":" + replica
}

// startAgent runs an agent replica for the scenario's cluster, with its own
// member identity (memberUser(replica)). hubKubeconfig "" is a direct
// kubeconfig to the hub.
func (s *scenario) startAgent(replica, hubKubeconfig string, extra ...string) *testenv.AgentProcess {
	s.t.Helper()
	kc, err := s.env.Members[0].IdentityKubeconfig(s.memberUser(replica), "system:masters")
	if err != nil {
		s.t.Fatal(err)
	}
	args := append([]string{"--kubeconfig", kc}, leaseArgs...)
	return testenv.StartAgent(s.t, s.env, testenv.AgentOptions{Cluster: s.cluster, HubKubeconfig: hubKubeconfig,
		Args: append(args, extra...)})
}

// configMap is the manifest of a ConfigMap in the scenario's namespace.
func (s *scenario) configMap(name, value string) workv1alpha1.Manifest {
	return rawManifest(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": s.ns}, "data": map[string]any{"k": value}})
}

func rawManifest(obj map[string]any) workv1alpha1.Manifest {
	raw, err := json.Marshal(obj)
	if err != nil {
		panic(err) // a map of plain values always marshals
	}
	return workv1alpha1.Manifest{RawExtension: runtime.RawExtension{Raw: raw}}
}

// work is a Work as Karmada creates it: with the execution controller's finalizer.
func (s *scenario) work(name string, manifests ...workv1alpha1.Manifest) *workv1alpha1.Work {
	return &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.es, Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
		Spec:       workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: manifests}},
	}
}

func (s *scenario) createWork(w *workv1alpha1.Work) {
	s.t.Helper()
	if _, err := s.hub.WorkV1alpha1().Works(s.es).Create(context.Background(), w, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("create Work %s/%s: %v", w.Namespace, w.Name, err)
	}
}

// cmName is the name of the i-th Work of a bulk scenario and of its ConfigMap.
func cmName(i int) string { return fmt.Sprintf("cm-%04d", i) }

// createWorks creates n Works cm-0000..., one ConfigMap each (data k=v1),
// with 8 concurrent creators through the hub admin client.
func (s *scenario) createWorks(n int) {
	s.t.Helper()
	if err := s.createWorksErr(n); err != nil {
		s.t.Fatal(err)
	}
}

// createWorksAsync is createWorks in the background, so that a fault can be
// injected while the Works arrive; the channel gets its error (or nil).
func (s *scenario) createWorksAsync(n int) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.createWorksErr(n) }()
	return done
}

func (s *scenario) createWorksErr(n int) error {
	var failed atomic.Int64
	var first sync.Once
	var firstErr error
	testenv.Parallel(n, 8, func(i int) {
		w := s.work(cmName(i), s.configMap(cmName(i), "v1"))
		err := retry(func() error {
			_, err := s.hub.WorkV1alpha1().Works(s.es).Create(context.Background(), w, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			return err
		})
		if err != nil {
			failed.Add(1)
			first.Do(func() { firstErr = err })
		}
	})
	if failed.Load() > 0 {
		return fmt.Errorf("%d of %d Works not created, e.g.: %w", failed.Load(), n, firstErr)
	}
	return nil
}

// retry retries a request that a loaded apiserver answered with a
// transient error (timeouts, 429, 5xx).
func retry(f func() error) error {
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		last = f()
		return last == nil, nil
	})
	if err != nil {
		return last
	}
	return nil
}

// applied reports whether a Work's Applied condition is True for its
// current generation.
func applied(w *workv1alpha1.Work) bool {
	c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
	return c != nil && c.Status == metav1.ConditionTrue && w.DeletionTimestamp == nil
}

// appliedCount is the number of the scenario's Works that are Applied.
func (s *scenario) appliedCount(ctx context.Context) (int, error) {
	list, err := s.hub.WorkV1alpha1().Works(s.es).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range list.Items {
		if applied(&list.Items[i]) {
			n++
		}
	}
	return n, nil
}

// waitAllApplied waits until n Works are Applied, and returns how long it took.
func (s *scenario) waitAllApplied(n int, timeout time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	testenv.Poll(s.t, time.Second, timeout, fmt.Sprintf("%d Works of %s Applied", n, s.cluster), func(ctx context.Context) (bool, error) {
		got, err := s.appliedCount(ctx)
		return got >= n, err
	})
	return time.Since(start)
}

// waitWork waits until the Work satisfies cond and returns it.
func (s *scenario) waitWork(name string, timeout time.Duration, what string, cond func(*workv1alpha1.Work) bool) *workv1alpha1.Work {
	s.t.Helper()
	var w *workv1alpha1.Work
	testenv.Poll(s.t, 250*time.Millisecond, timeout, fmt.Sprintf("Work %s: %s", name, what), func(ctx context.Context) (bool, error) {
		var err error
		w, err = s.hub.WorkV1alpha1().Works(s.es).Get(ctx, name, metav1.GetOptions{})
		return err == nil && cond(w), err
	})
	return w
}

// tryWork is waitWork that does not fail the test: it returns the last
// Work read and whether cond held before timeout.
func (s *scenario) tryWork(name string, timeout time.Duration, cond func(*workv1alpha1.Work) bool) (*workv1alpha1.Work, bool) {
	w := &workv1alpha1.Work{}
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		got, err := s.hub.WorkV1alpha1().Works(s.es).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		w = got
		return cond(w), nil
	})
	return w, err == nil
}

// appliedCondition is the Work's Applied condition, or an empty one.
func appliedCondition(w *workv1alpha1.Work) metav1.Condition {
	if c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// expected is what the member should hold: ConfigMap name -> data k, from
// the scenario's current (not terminating) Works, whose manifests are all
// ConfigMaps made by configMap.
func (s *scenario) expected(ctx context.Context) (map[string]string, error) {
	list, err := s.hub.WorkV1alpha1().Works(s.es).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, w := range list.Items {
		if w.DeletionTimestamp != nil {
			continue
		}
		for _, m := range w.Spec.Workload.Manifests {
			var cm corev1.ConfigMap
			if err := json.Unmarshal(m.Raw, &cm); err != nil {
				return nil, fmt.Errorf("Work %s: %w", w.Name, err)
			}
			if cm.Kind == "ConfigMap" && cm.Namespace == s.ns {
				out[cm.Name] = cm.Data["k"]
			}
		}
	}
	return out, nil
}

// tally compares the member with the Works: lost are manifests with no
// member object or one with other data, orphaned are managed member objects
// in the scenario's namespace that no current manifest names.
type tally struct{ lost, orphaned []string }

func (t tally) converged() bool { return len(t.lost) == 0 && len(t.orphaned) == 0 }

func (t tally) String() string {
	return fmt.Sprintf("lost=%d %s orphaned=%d %s", len(t.lost), sample(t.lost), len(t.orphaned), sample(t.orphaned))
}

func sample(names []string) string {
	if len(names) > 5 {
		return fmt.Sprintf("%v...", names[:5])
	}
	return fmt.Sprint(names)
}

func (s *scenario) tally(ctx context.Context) (tally, error) {
	want, err := s.expected(ctx)
	if err != nil {
		return tally{}, err
	}
	list, err := s.member.CoreV1().ConfigMaps(s.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return tally{}, err
	}
	var out tally
	have := map[string]string{}
	for _, cm := range list.Items {
		have[cm.Name] = cm.Data["k"]
		if _, ok := want[cm.Name]; !ok && cm.Labels[workv1alpha1.ManagedLabel] == workv1alpha1.ManagedLabelValue {
			out.orphaned = append(out.orphaned, cm.Name)
		}
	}
	for name, v := range want {
		if got, ok := have[name]; !ok || got != v {
			out.lost = append(out.lost, name)
		}
	}
	return out, nil
}

// waitConverged waits until the member matches the Works (0 lost, 0
// orphaned) and returns how long it took; on timeout the test fails with
// the last tally.
func (s *scenario) waitConverged(timeout time.Duration) time.Duration {
	s.t.Helper()
	took, last, ok := s.converge(timeout, nil)
	if !ok {
		s.t.Fatalf("the member of %s did not converge in %s: %s", s.cluster, timeout, last)
	}
	return took
}

// converge waits until the member matches the Works, calling tick (when not
// nil) on every check, and returns how long it took, the last tally, and
// whether it converged before timeout. It does not fail the test.
func (s *scenario) converge(timeout time.Duration, tick func()) (time.Duration, tally, bool) {
	start := time.Now()
	var last tally
	err := wait.PollUntilContextTimeout(context.Background(), time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		if tick != nil {
			tick()
		}
		t, err := s.tally(ctx)
		if err != nil {
			return false, nil
		}
		last = t
		return t.converged(), nil
	})
	return time.Since(start), last, err == nil
}

// memberWrites are the writes of a member user after mark, leases (leader
// election) left out unless keepLeases.
func (s *scenario) memberWrites(mark testenv.AuditMark, user string, keepLeases bool) []testenv.AuditEvent {
	s.t.Helper()
	evs, err := s.env.Members[0].AuditEvents(mark, func(ev testenv.AuditEvent) bool {
		return ev.User == user && ev.IsWrite() && (keepLeases || ev.Resource != "leases")
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return evs
}

// hubWrites are the agent's writes on the hub after mark.
func (s *scenario) hubWrites(mark testenv.AuditMark) []testenv.AuditEvent {
	s.t.Helper()
	evs, err := s.env.Hub.AuditEvents(mark, testenv.WritesBy(s.hubUser))
	if err != nil {
		s.t.Fatal(err)
	}
	return evs
}

func memberMark(t *testing.T, env *testenv.Env) testenv.AuditMark {
	t.Helper()
	m, err := env.Members[0].AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func hubMark(t *testing.T, env *testenv.Env) testenv.AuditMark {
	t.Helper()
	m, err := env.Hub.AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// describe summarises audit events as "verb resource/subresource ns/name" counts.
func describe(evs []testenv.AuditEvent) string {
	counts := map[string]int{}
	for _, ev := range evs {
		r := ev.Resource
		if ev.Subresource != "" {
			r += "/" + ev.Subresource
		}
		counts[ev.Verb+" "+r]++
	}
	parts := make([]string, 0, len(counts))
	for k, v := range counts {
		parts = append(parts, fmt.Sprintf("%s=%d", strings.ReplaceAll(k, " ", ":"), v))
	}
	return strings.Join(parts, ",")
}

// report logs a scenario's measurements on one line with the FAULT prefix.
func report(t *testing.T, scenario, injected string, kv ...any) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "FAULT scenario=%s injected=%q", scenario, injected)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	t.Log(b.String())
}

// metric is the value of one series of the agent's metrics ("name" or
// "name{label=value}" with one label), 0 when absent.
func metric(t *testing.T, a *testenv.AgentProcess, name, label, value string) float64 {
	t.Helper()
	families, err := a.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	f := families[name]
	if f == nil {
		return 0
	}
	sum := 0.0
	for _, m := range f.GetMetric() {
		match := label == ""
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				match = true
			}
		}
		if !match {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}
