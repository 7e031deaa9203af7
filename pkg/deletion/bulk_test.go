package deletion

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// While the agent runs normally, deleting every Work of the cluster at
// once, as 'karmadactl unregister' does, is not held by the guard: every
// member object and every Work is gone within seconds, far inside
// unregister's 60s default wait.
func TestDeleteEveryWorkWhileRunningIsNotHeld(t *testing.T) {
	const cluster, n = "unregistered", 200
	env := testenv.Require(t)
	ctx := context.Background()
	a := testenv.StartAgent(t, env, testenv.AgentOptions{Cluster: cluster})
	a.WaitReady(t, 2*time.Minute)
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	_, err := member.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cluster}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(env.Hub.Config)
	cfg.QPS, cfg.Burst = 500, 1000 // the load generator is not what limits the rate
	hub := versioned.NewForConfigOrDie(cfg)
	works := hub.WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(cluster))
	testenv.Parallel(n, 16, func(i int) {
		if _, err := works.Create(ctx, configMapWork(t, cluster, fmt.Sprintf("cm%03d", i)), metav1.CreateOptions{}); err != nil {
			t.Error(err)
		}
	})
	testenv.Eventually(t, 3*time.Minute, "every Work applied", func() (bool, error) {
		list, err := works.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		applied := 0
		for _, w := range list.Items {
			if meta.IsStatusConditionTrue(w.Status.Conditions, workv1alpha1.WorkApplied) {
				applied++
			}
		}
		return applied == n, nil
	})
	cms, err := member.CoreV1().ConfigMaps(cluster).List(ctx, metav1.ListOptions{LabelSelector: workv1alpha1.ManagedLabel})
	if err != nil {
		t.Fatal(err)
	}
	if len(cms.Items) != n {
		t.Fatalf("%d member objects before the deletes, want %d", len(cms.Items), n)
	}

	start := time.Now()
	testenv.Parallel(n, 16, func(i int) {
		if err := works.Delete(ctx, fmt.Sprintf("cm%03d", i), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
	var maxHeld atomic.Int64
	var worksGone, objectsGone time.Duration
	testenv.Eventually(t, time.Minute, "every Work and member object gone", func() (bool, error) {
		maxHeld.Store(max(maxHeld.Load(), heldWorks(t, a)))
		if worksGone == 0 {
			list, err := works.List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			if len(list.Items) == 0 {
				worksGone = time.Since(start)
			}
		}
		if objectsGone == 0 {
			cms, err := member.CoreV1().ConfigMaps(cluster).List(ctx, metav1.ListOptions{LabelSelector: workv1alpha1.ManagedLabel})
			if err != nil {
				return false, err
			}
			if len(cms.Items) == 0 {
				objectsGone = time.Since(start)
			}
		}
		return worksGone > 0 && objectsGone > 0, nil
	})
	t.Logf("%d Works deleted at once: namespace empty after %s, member objects gone after %s; at most %d held",
		n, worksGone.Round(10*time.Millisecond), objectsGone.Round(10*time.Millisecond), maxHeld.Load())
	if maxHeld.Load() != 0 {
		t.Errorf("the guard held %d Works while the agent ran normally", maxHeld.Load())
	}
	if log, err := os.ReadFile(a.Log); err == nil && strings.Contains(string(log), "Holding the member deletes") {
		t.Error("the agent logged that it holds member deletes")
	}
	// Far inside unregister's 60s: the deadline above is the failure; this
	// catches a throttle that makes 200 Works take a good part of it.
	if worksGone > 20*time.Second {
		t.Errorf("the namespace emptied after %s for %d Works; unregister waits 60s for all of them", worksGone, n)
	}
}

// heldWorks is the agent's tether_deletion_held_works gauge (0 when it
// cannot be read).
func heldWorks(t *testing.T, a *testenv.AgentProcess) int64 {
	families, err := a.Metrics()
	if err != nil {
		return 0
	}
	f, ok := families["tether_deletion_held_works"]
	if !ok || len(f.GetMetric()) == 0 {
		return 0
	}
	return int64(f.GetMetric()[0].GetGauge().GetValue())
}

// configMapWork is a Work of cluster with one ConfigMap in the member
// namespace named after the cluster.
func configMapWork(t *testing.T, cluster, name string) *workv1alpha1.Work {
	t.Helper()
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: cluster, Name: name}, Data: map[string]string{"k": "v"}}
	raw, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	return &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: raw}}}}}}
}
