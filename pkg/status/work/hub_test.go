package work

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/generated/informers/externalversions"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
	"github.com/tether-io/tether/pkg/status/interpret"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{HubOnly: true}) }

// statusWrites returns the Work status writes (patches of works/status)
// that left the writer's client, whether or not they reached the hub (the
// link to it is a TCP proxy that a test cuts).
func statusWrites(rec *testenv.Recorder) []testenv.Request {
	return rec.Requests(func(r testenv.Request) bool {
		return r.Method == http.MethodPatch && strings.HasSuffix(r.Path, "/status")
	})
}

// countWrites returns the number of status writes, and of those over minBytes.
func countWrites(rec *testenv.Recorder, minBytes int) (all, big int) {
	writes := statusWrites(rec)
	for _, r := range writes {
		if len(r.Body) > minBytes {
			big++
		}
	}
	return len(writes), big
}

// hubWriter is a Writer on the test hub for the Works of one namespace, its
// member objects given by live and judged by health.
type hubWriter struct {
	*Writer
	requests *testenv.Recorder   // what the writer's client sent
	proxy    *testenv.Proxy      // between the writer and the hub, to cut the link
	hub      versioned.Interface // not counted
	logged   *lineLog
}

type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.lines {
		if strings.Contains(s, `"error"=`) {
			out = append(out, s)
		}
	}
	return out
}

func startHubWriter(t *testing.T, ns string, live LiveSource, health func(*unstructured.Unstructured) workv1alpha1.ResourceHealth) *hubWriter {
	t.Helper()
	env := testenv.Require(t)
	ctx, cancel := context.WithCancel(context.Background())
	kube := kubernetes.NewForConfigOrDie(env.Hub.Config)
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	requests := &testenv.Recorder{}
	proxy, err := testenv.NewProxy(env.Hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	cfg := rest.CopyConfig(env.Hub.Config)
	cfg.Host = proxy.URL()
	requests.Wrap(cfg)
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	factory := externalversions.NewSharedInformerFactoryWithOptions(hub, 0, externalversions.WithNamespace(ns))
	informer := factory.Work().V1alpha1().Works()
	w := New(Config{Client: versioned.NewForConfigOrDie(cfg).WorkV1alpha1(), Lister: informer.Lister(),
		Live: live, Reflect: interpret.ReflectStatus, Window: 50 * time.Millisecond,
		Health: func(obj *unstructured.Unstructured) (workv1alpha1.ResourceHealth, error) { return health(obj), nil }})
	touch := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			w.Touch(key)
		}
	}
	_, _ = informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: touch, UpdateFunc: func(old, obj any) {
		if old.(*workv1alpha1.Work).Generation != obj.(*workv1alpha1.Work).Generation {
			touch(obj)
		}
	}})
	logged := &lineLog{}
	ctx = klog.NewContext(ctx, funcr.New(func(prefix, args string) {
		logged.mu.Lock()
		logged.lines = append(logged.lines, args)
		logged.mu.Unlock()
	}, funcr.Options{}))
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx, 4) }()
	t.Cleanup(func() {
		cancel()
		<-done
		factory.Shutdown()
	})
	return &hubWriter{Writer: w, requests: requests, proxy: proxy, hub: hub, logged: logged}
}

// widgets is a Work of n manifests of a custom kind, which the writer
// reflects whole.
func widgets(ns, name string, n int) *workv1alpha1.Work {
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	for i := range n {
		raw := fmt.Sprintf(`{"apiVersion":"example.io/v1","kind":"Widget","metadata":{"name":"widget-%d","namespace":"apps"}}`, i)
		work.Spec.Workload.Manifests = append(work.Spec.Workload.Manifests, workv1alpha1.Manifest{RawExtension: runtime.RawExtension{Raw: []byte(raw)}})
	}
	return work
}

// liveWidgets serves a member Widget for every manifest, with a status of
// about size bytes that names version.
type liveWidgets struct {
	size    atomic.Int64
	version atomic.Int64
}

func (l *liveWidgets) live(id manifest.Identity) member.Answer {
	obj := objectOf(id)
	obj.Object["status"] = map[string]any{"phase": "Ready", "version": l.version.Load(),
		"detail": strings.Repeat("x", int(l.size.Load()))}
	return member.Answer{State: member.Present, ID: id, Object: obj}
}

func (w *hubWriter) get(t *testing.T, ns, name string) *workv1alpha1.Work {
	t.Helper()
	work, err := w.hub.WorkV1alpha1().Works(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return work
}

// idle is a condition for testenv.Eventually: the writer has nothing
// pending or in flight.
func (w *hubWriter) idle() (bool, error) { return w.Idle(), nil }

// touchAll schedules a write of every Work of ns, as member events do.
func (w *hubWriter) touchAll(ns string, names ...string) {
	for _, n := range names {
		w.Touch(ns + "/" + n)
	}
}

// A status the hub refuses for its size (here etcd's request limit, with
// 1,000 manifests of 2 KiB reflected statuses) is written reduced, with a
// StatusTruncated condition, after one refused attempt; member changes that
// keep its size do not send it again; once it shrinks, it is written whole.
func TestTooLargeStatusIsReducedOnce(t *testing.T) {
	const ns, name, n = "too-large", "widgets", 1000
	objs := &liveWidgets{}
	objs.size.Store(StatusLimit - 100)
	w := startHubWriter(t, ns, objs.live, interpret.Health)
	if _, err := w.hub.WorkV1alpha1().Works(ns).Create(context.Background(), widgets(ns, name, n), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const big = 1 << 20 // a full status here is about 2 MiB, a reduced one about 200 KiB
	truncated := func(work *workv1alpha1.Work) *metav1.Condition {
		return meta.FindStatusCondition(work.Status.Conditions, ConditionStatusTruncated)
	}
	t.Cleanup(func() {
		if t.Failed() {
			all, bigOnes := countWrites(w.requests, big)
			var sizes []int
			for _, r := range statusWrites(w.requests) {
				sizes = append(sizes, len(r.Body))
			}
			w.logged.mu.Lock()
			t.Logf("status writes: %d (%d full), sizes %v; log:\n%s", all, bigOnes, sizes, strings.Join(w.logged.lines, "\n"))
			w.logged.mu.Unlock()
		}
	})
	testenv.Eventually(t, time.Minute, "a reduced status with StatusTruncated", func() (bool, error) {
		c := truncated(w.get(t, ns, name))
		return c != nil && c.Status == metav1.ConditionTrue, nil
	})
	work := w.get(t, ns, name)
	t.Logf("StatusTruncated: %s", truncated(work).Message)
	if len(work.Status.ManifestStatuses) != n {
		t.Fatalf("%d manifest statuses, want %d", len(work.Status.ManifestStatuses), n)
	}
	for i, ms := range work.Status.ManifestStatuses {
		if ms.Identifier.Kind != "Widget" || ms.Identifier.Name != fmt.Sprintf("widget-%d", i) || ms.Identifier.Ordinal != i || ms.Status != nil {
			t.Fatalf("manifest %d: %+v (want its identifier and no reflected status)", i, ms)
		}
	}
	// Member changes of the same size: no full status goes out again.
	for v := range 5 {
		objs.version.Store(int64(v + 1))
		w.touchAll(ns, name)
		testenv.Eventually(t, time.Minute, "the writer idle", w.idle)
	}
	all, bigOnes := countWrites(w.requests, big)
	t.Logf("status writes so far: %d, of which full (> 1 MiB): %d", all, bigOnes)
	if bigOnes != 1 || all > 3 {
		t.Errorf("%d status writes, %d of them full; want one refused full write and one reduced", all, bigOnes)
	}
	// The statuses shrink: the full status fits and is written again.
	objs.size.Store(10)
	w.touchAll(ns, name)
	testenv.Eventually(t, time.Minute, "the full status written again", func() (bool, error) {
		work := w.get(t, ns, name)
		return truncated(work) == nil && work.Status.ManifestStatuses[n-1].Status != nil, nil
	})
	// The hub stores the write before the writer hears its answer.
	testenv.Eventually(t, time.Minute, "the writer idle", w.idle)
	if w.Reduced() != 0 {
		t.Errorf("the writer still counts %d reduced Works", w.Reduced())
	}
}

// While the hub cannot be reached, status writes of many Works cost one
// probe every few seconds and a log line or two, not one request and one
// line per Work per second; when it is back every status catches up at once.
func TestHubOutageCostsFewWritesAndCatchesUp(t *testing.T) {
	const ns, works, outage = "outage", 50, 20 * time.Second
	objs := &liveWidgets{}
	objs.size.Store(10)
	var health atomic.Value
	health.Store(workv1alpha1.ResourceHealthy)
	w := startHubWriter(t, ns, objs.live, func(*unstructured.Unstructured) workv1alpha1.ResourceHealth {
		return health.Load().(workv1alpha1.ResourceHealth)
	})
	var names []string
	for i := range works {
		names = append(names, fmt.Sprintf("w%02d", i))
		if _, err := w.hub.WorkV1alpha1().Works(ns).Create(context.Background(), widgets(ns, names[i], 1), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	allHealth := func(want workv1alpha1.ResourceHealth) func() (bool, error) {
		return func() (bool, error) {
			list, err := w.hub.WorkV1alpha1().Works(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil || len(list.Items) != works {
				return false, err
			}
			for _, work := range list.Items {
				if len(work.Status.ManifestStatuses) != 1 || work.Status.ManifestStatuses[0].Health != want {
					return false, nil
				}
			}
			return true, nil
		}
	}
	testenv.Eventually(t, time.Minute, "every status written", allHealth(workv1alpha1.ResourceHealthy))
	testenv.Eventually(t, time.Minute, "the writer idle", w.idle)
	before, _ := countWrites(w.requests, 0)
	errorsBefore := len(w.logged.errors())

	// The hub goes away; every member object changes health, and keeps
	// changing, so every Work has a write due all along.
	w.proxy.Cut()
	health.Store(workv1alpha1.ResourceUnhealthy)
	for end := time.Now().Add(outage); time.Now().Before(end); time.Sleep(time.Second) {
		objs.version.Add(1)
		w.touchAll(ns, names...)
	}
	during, _ := countWrites(w.requests, 0)
	attempts := during - before
	lines := w.logged.errors()[errorsBefore:]
	t.Logf("during a %s outage of %d Works: %d write attempts, %d error lines", outage, works, attempts, len(lines))
	// Before the outage was noticed at most one write per worker was under
	// way; then a probe 1, 2, 4, 5, 5... seconds apart: about 8 in 20s.
	if attempts > 16 {
		t.Errorf("%d write attempts during the outage; want a probe every few seconds", attempts)
	}
	if len(lines) > 2 {
		t.Errorf("%d error lines during the outage:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if !w.HubDown() {
		t.Error("the writer does not know the hub is down")
	}

	// The hub is back: every status catches up within seconds.
	back := time.Now()
	w.proxy.Restore()
	testenv.Eventually(t, 30*time.Second, "every status caught up", allHealth(workv1alpha1.ResourceUnhealthy))
	t.Logf("caught up %s after the hub returned", time.Since(back).Round(100*time.Millisecond))
	if d := time.Since(back); d > 15*time.Second {
		t.Errorf("statuses caught up %s after the hub returned; want within about 10s", d)
	}
	testenv.Eventually(t, time.Minute, "the writer idle", w.idle)
	after, _ := countWrites(w.requests, 0)
	if n := after - during; n > works+works/5 {
		t.Errorf("%d writes to catch up %d Works", n, works)
	}
}

// objectOf is a member object with id's kind, namespace and name.
func objectOf(id manifest.Identity) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{}}
	obj.SetGroupVersionKind(id.GVK())
	obj.SetNamespace(id.Namespace)
	obj.SetName(id.Name)
	return obj
}
