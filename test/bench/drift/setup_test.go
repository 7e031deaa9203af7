package driftbench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// bench is one run's agent, clients and episodes.
type bench struct {
	env    *testenv.Env
	run    run
	agent  *testenv.AgentProcess
	hub    versioned.Interface
	member kubernetes.Interface
	es     string // the execution namespace on the hub
	user   string // the agent's identity on the hub
	ep     *episodes
}

// setup starts the agent, creates the run's Works, waits until every one
// is Applied and the agent has stopped writing, checks that no Work has a
// drift record yet, and starts the watches that time the burst.
func setup(t *testing.T, env *testenv.Env, r run) *bench {
	t.Helper()
	ctx := context.Background()
	b := &bench{env: env, run: r, hub: versioned.NewForConfigOrDie(fast(env.Hub.Config)),
		member: kubernetes.NewForConfigOrDie(fast(env.Members[0].Config)), ep: newEpisodes(originalValue, editedValue)}
	_, err := b.member.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.namespace}}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	b.agent = testenv.StartAgent(t, env, testenv.AgentOptions{Args: agentArgs()})
	b.agent.WaitReady(t, 3*time.Minute)
	b.es, b.user = workv1alpha1.ExecutionNamespace(b.agent.Cluster), clusterv1alpha1.AgentUser(b.agent.Cluster)
	start := time.Now()
	testenv.Parallel(r.n, 32, func(i int) {
		w := b.work(t, i)
		if _, err := b.hub.WorkV1alpha1().Works(b.es).Create(ctx, w, metav1.CreateOptions{}); err != nil {
			t.Error(err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	testenv.Poll(t, time.Second, 10*time.Minute, fmt.Sprintf("all %d Works Applied", r.n), func(ctx context.Context) (bool, error) {
		applied, err := b.applied(ctx)
		return applied == r.n, err
	})
	fmt.Printf("BENCH drift %s setup works=%d all_applied_s=%.1f\n", r.name, r.n, time.Since(start).Seconds())
	waitQuiet(t, env, b.user, 5*time.Second, 5*time.Minute)
	b.noRecordYet(t)
	b.watch(t)
	return b
}

// fast raises a client's rate limits: the load generator must not be what
// paces the burst.
func fast(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 1000, 2000
	return c
}

func (b *bench) name(i int) string { return fmt.Sprintf("%s%04d", b.run.prefix, i) }

// work is the run's i-th Work: one ConfigMap with data.key at the
// original value, with the run's drift mode.
func (b *bench) work(t *testing.T, i int) *workv1alpha1.Work {
	md := map[string]any{"name": b.name(i), "namespace": b.run.namespace}
	if b.run.mode != "" {
		md["annotations"] = map[string]any{modeAnnotation: b.run.mode}
	}
	raw, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": md,
		"data": map[string]any{"key": originalValue}})
	testenv.NoError(t, err)
	return &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: b.name(i), Namespace: b.es},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: raw}}}}}}
}

// applied counts the run's Works whose Applied condition is True.
func (b *bench) applied(ctx context.Context) (int, error) {
	list, err := b.hub.WorkV1alpha1().Works(b.es).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, w := range list.Items {
		if strings.HasPrefix(w.Name, b.run.prefix) && meta.IsStatusConditionTrue(w.Status.Conditions, workv1alpha1.WorkApplied) {
			n++
		}
	}
	return n, nil
}

// noRecordYet fails the test when a Work of the run has a drift record
// before any edit: the first record seen after the burst is its report.
func (b *bench) noRecordYet(t *testing.T) {
	t.Helper()
	list, err := b.hub.WorkV1alpha1().Works(b.es).List(context.Background(), metav1.ListOptions{})
	testenv.NoError(t, err)
	for i := range list.Items {
		w := &list.Items[i]
		if !strings.HasPrefix(w.Name, b.run.prefix) {
			continue
		}
		if rec, err := workRecord(w); err != nil || rec != nil {
			t.Fatalf("work %s has a drift record before any edit (%v)", w.Name, err)
		}
	}
}
