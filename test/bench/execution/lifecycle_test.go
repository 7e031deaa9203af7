package executionbench

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	informers "github.com/tether-io/tether/pkg/generated/informers/externalversions"
	"github.com/tether-io/tether/pkg/status/interpret"
	"github.com/tether-io/tether/test/testenv"
)

// lifecycle records, per Work, when the hub first shows it Applied and
// Healthy, and when the member's Deployment itself first became Healthy
// (by the agent's own rule, seen by a watch on the member): the time the
// member's controllers and kwok took, apart from the time the agent took
// to tell the hub.
type lifecycle struct {
	mu                               sync.Mutex
	n                                int
	created, applied, healthy, ready map[string]time.Time
	allApplied, allHealthy           chan struct{}
	appliedOnce, healthyOnce         sync.Once
}

func newLifecycle(n int) *lifecycle {
	return &lifecycle{n: n, created: map[string]time.Time{}, applied: map[string]time.Time{}, healthy: map[string]time.Time{},
		ready: map[string]time.Time{}, allApplied: make(chan struct{}), allHealthy: make(chan struct{})}
}

func (l *lifecycle) create(name string, at time.Time) {
	l.mu.Lock()
	l.created[name] = at
	l.mu.Unlock()
}

// first records the first time of name in m and returns how many m holds.
func (l *lifecycle) first(m map[string]time.Time, name string, at time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, seen := m[name]; !seen {
		m[name] = at
	}
	return len(m)
}

func (l *lifecycle) hubEvent(obj any) {
	work, ok := obj.(*workv1alpha1.Work)
	if !ok {
		return
	}
	now := time.Now()
	if c := meta.FindStatusCondition(work.Status.Conditions, workv1alpha1.WorkApplied); c != nil && c.Status == metav1.ConditionTrue {
		if l.first(l.applied, work.Name, now) >= l.n {
			l.appliedOnce.Do(func() { close(l.allApplied) })
		}
	}
	if len(work.Status.ManifestStatuses) == 1 && work.Status.ManifestStatuses[0].Health == workv1alpha1.ResourceHealthy {
		if l.first(l.healthy, work.Name, now) >= l.n {
			l.healthyOnce.Do(func() { close(l.allHealthy) })
		}
	}
}

func (l *lifecycle) memberEvent(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if ok && interpret.Health(u) == workv1alpha1.ResourceHealthy {
		l.first(l.ready, u.GetName(), time.Now())
	}
}

// watch starts informers on the hub's Works and the member's Deployments
// (they re-list when a watch that fell behind is dropped).
func (l *lifecycle) watch(t *testing.T, hub versioned.Interface, es string, member *rest.Config) {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	factory := informers.NewSharedInformerFactoryWithOptions(hub, 0, informers.WithNamespace(es))
	inf := factory.Work().V1alpha1().Works().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: l.hubEvent, UpdateFunc: func(_, obj any) { l.hubEvent(obj) }}); err != nil {
		t.Fatal(err)
	}
	factory.Start(stop)
	dyn := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dynamic.NewForConfigOrDie(member), 0, "bench", nil)
	dinf := dyn.ForResource(deploymentsGVR).Informer()
	if _, err := dinf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: l.memberEvent, UpdateFunc: func(_, obj any) { l.memberEvent(obj) }}); err != nil {
		t.Fatal(err)
	}
	dyn.Start(stop)
}

// since returns the sorted durations from each Work's entry in from to
// its entry in to.
func (l *lifecycle) since(from, to map[string]time.Time) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Duration
	for name, at := range to {
		if f, ok := from[name]; ok {
			out = append(out, max(at.Sub(f), 0))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// report prints create->Applied, create->Healthy and where the time to
// Healthy went: create -> the member's Deployment Healthy (the member's
// controllers, scheduler and kwok) and that -> the hub showing it.
func (l *lifecycle) report() {
	app, hl := l.since(l.created, l.applied), l.since(l.created, l.healthy)
	mem, lag := l.since(l.created, l.ready), l.since(l.ready, l.healthy)
	ms := func(d []time.Duration, p int) int64 { return pct(d, p).Milliseconds() }
	fmt.Printf("BENCH sync lifecycle works=%d create_to_applied_p50_ms=%d p99_ms=%d create_to_healthy_p50_ms=%d p99_ms=%d\n",
		l.n, ms(app, 50), ms(app, 99), ms(hl, 50), ms(hl, 99))
	fmt.Printf("BENCH sync lifecycle create_to_member_healthy_p50_ms=%d p99_ms=%d member_healthy_to_hub_healthy_p50_ms=%d p99_ms=%d max_ms=%d samples=%d "+
		"(the member's Deployment Healthy by the agent's rule, seen by a watch on the member; then the Work showing it on the hub)\n",
		ms(mem, 50), ms(mem, 99), ms(lag, 50), ms(lag, 99), ms(lag, 100), len(lag))
}

var deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

// hubWrites counts the agent's writes on the hub since mark, from the
// hub's audit log (by user agent: the bench's own clients share the
// agent's identity): all of them, and the Work status writes among them.
func hubWrites(t *testing.T, env *testenv.Env, mark testenv.AuditMark) (all, status int) {
	t.Helper()
	var events []testenv.AuditEvent
	testenv.Eventually(t, time.Minute, "read the hub's audit log", func() (bool, error) {
		var err error
		events, err = env.Hub.AuditEvents(mark, func(ev testenv.AuditEvent) bool {
			return ev.IsWrite() && ev.Stage == "ResponseComplete" && strings.HasPrefix(ev.UserAgent, "tether-agent")
		})
		return err == nil, err
	})
	for _, ev := range events {
		all++
		if ev.Resource == "works" && ev.Subresource == "status" {
			status++
		}
	}
	return all, status
}
