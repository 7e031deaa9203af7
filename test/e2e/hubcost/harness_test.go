package hubcost

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
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

// agent is one agent process with its own cluster name, its own member
// identity (so the member's audit log tells its requests apart) and a few
// applied Works.
type agent struct {
	t          *testing.T
	env        *testenv.Env
	cluster    string
	hubUser    string
	memberUser string
	hub        versioned.Interface
	proc       *testenv.AgentProcess
}

// works is how many Works each scenario applies before it measures: an
// agent with nothing to report would hide status rewrites.
const works = 3

// startAgent grants the cluster on the hub, creates its Works (one
// ConfigMap each, in the member namespace named after the cluster), starts
// the agent with the default leader election and waits until the Works are
// Applied. hubServer "" is the hub itself.
func startAgent(t *testing.T, cluster, hubServer string, args ...string) *agent {
	t.Helper()
	env := testenv.Require(t)
	a := &agent{t: t, env: env, cluster: cluster, hubUser: clusterv1alpha1.AgentUser(cluster),
		memberUser: "tether-agent:" + cluster, hub: versioned.NewForConfigOrDie(env.Hub.Config)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if hubServer == "" {
		hubServer = env.Hub.URL
	}
	hubKC, err := env.Hub.AgentKubeconfig(ctx, cluster, hubServer)
	if err != nil {
		t.Fatal(err)
	}
	memberKC, err := env.Members[0].IdentityKubeconfig(a.memberUser, "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cluster}}
	if _, err := member.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for i := range works {
		w := configMapWork(t, cluster, fmt.Sprintf("cm-%d", i))
		if _, err := a.hub.WorkV1alpha1().Works(w.Namespace).Create(ctx, w, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	a.proc = testenv.StartAgent(t, env, testenv.AgentOptions{Cluster: cluster, HubKubeconfig: hubKC,
		Args: append([]string{"--kubeconfig", memberKC}, args...)})
	a.proc.WaitReady(t, 3*time.Minute)
	a.waitApplied(2 * time.Minute)
	return a
}

func configMapWork(t *testing.T, cluster, name string) *workv1alpha1.Work {
	t.Helper()
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: cluster, Name: name}, Data: map[string]string{"k": "v"}}
	raw, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	return &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: workv1alpha1.ExecutionNamespace(cluster),
			Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
			{RawExtension: runtime.RawExtension{Raw: raw}}}}},
	}
}

// waitApplied waits until every Work of the agent is Applied and the
// Cluster is Ready.
func (a *agent) waitApplied(timeout time.Duration) {
	a.t.Helper()
	testenv.Poll(a.t, 500*time.Millisecond, timeout, "the Works Applied and the Cluster Ready", func(ctx context.Context) (bool, error) {
		list, err := a.hub.WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(a.cluster)).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		n := 0
		for i := range list.Items {
			if meta.IsStatusConditionTrue(list.Items[i].Status.Conditions, workv1alpha1.WorkApplied) {
				n++
			}
		}
		c, err := a.hub.ClusterV1alpha1().Clusters().Get(ctx, a.cluster, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return n == works && meta.IsStatusConditionTrue(c.Status.Conditions, clusterv1alpha1.ClusterConditionReady), nil
	})
}

// marks are positions in the hub's and the member's audit logs.
type marks struct{ hub, member testenv.AuditMark }

func (a *agent) mark() marks {
	a.t.Helper()
	h, err := a.env.Hub.AuditMark()
	if err != nil {
		a.t.Fatal(err)
	}
	m, err := a.env.Members[0].AuditMark()
	if err != nil {
		a.t.Fatal(err)
	}
	return marks{hub: h, member: m}
}

// hubRequests are the agent's completed hub requests since m (a watch
// counts when it ends, a long-running request's end being its only
// ResponseComplete).
func (a *agent) hubRequests(m marks) []testenv.AuditEvent {
	return a.events(a.env.Hub, m.hub, a.hubUser)
}

// memberWrites are the agent's member writes since m.
func (a *agent) memberWrites(m marks) []testenv.AuditEvent {
	var out []testenv.AuditEvent
	for _, ev := range a.events(a.env.Members[0], m.member, a.memberUser) {
		if ev.IsWrite() {
			out = append(out, ev)
		}
	}
	return out
}

// events are the user's requests on c since m, one per request: the
// ResponseStarted of a watch (when it opened) and the ResponseComplete of
// every other request.
func (a *agent) events(c *testenv.Cluster, m testenv.AuditMark, user string) []testenv.AuditEvent {
	a.t.Helper()
	evs, err := c.AuditEvents(m, func(ev testenv.AuditEvent) bool {
		if ev.User != user {
			return false
		}
		if ev.Verb == "watch" {
			return ev.Stage == "ResponseStarted"
		}
		return ev.Stage == "ResponseComplete"
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return evs
}

// openWatches is the number of the agent's hub watches open now: started
// and not completed since the agent started.
func (a *agent) openWatches(since testenv.AuditMark) map[string]int {
	a.t.Helper()
	evs, err := a.env.Hub.AuditEvents(since, func(ev testenv.AuditEvent) bool { return ev.User == a.hubUser && ev.Verb == "watch" })
	if err != nil {
		a.t.Fatal(err)
	}
	open := map[string]testenv.AuditEvent{}
	for _, ev := range evs {
		if ev.Stage == "ResponseStarted" {
			open[ev.AuditID] = ev
		} else {
			delete(open, ev.AuditID)
		}
	}
	out := map[string]int{}
	for _, ev := range open {
		out[key(ev)]++
	}
	return out
}

// key is "verb resource[/subresource]".
func key(ev testenv.AuditEvent) string {
	r := ev.Resource
	if ev.Subresource != "" {
		r += "/" + ev.Subresource
	}
	return ev.Verb + " " + r
}

// tally counts events by key.
func tally(evs []testenv.AuditEvent) map[string]int {
	out := map[string]int{}
	for _, ev := range evs {
		out[key(ev)]++
	}
	return out
}

func format(m map[string]int) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s=%d ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}

// perMinute scales a count over window to a rate per minute.
func perMinute(n int, window time.Duration) float64 {
	return float64(n) / window.Minutes()
}

// idle lets d pass (a measurement window, not a wait for a state),
// failing the test if the agent exits meanwhile.
func (a *agent) idle(d time.Duration) {
	a.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), time.Second, d, true, func(context.Context) (bool, error) {
		if code, done := a.proc.Exited(); done {
			return false, fmt.Errorf("the agent exited with code %d", code)
		}
		return false, nil
	})
	if err != nil && !wait.Interrupted(err) {
		a.t.Fatal(err)
	}
}

// testenvMark is the end of the hub's audit log now.
func testenvMark(t *testing.T) testenv.AuditMark {
	t.Helper()
	m, err := testenv.Require(t).Hub.AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	return m
}
