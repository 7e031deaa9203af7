package execution

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

func deploymentManifest(ns, name string, replicas int) string {
	return fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s","namespace":"%s",
"annotations":{"resourcetemplate.karmada.io/generation":"7"}},
"spec":{"replicas":%d,"selector":{"matchLabels":{"app":"%s"}},"template":{"metadata":{"labels":{"app":"%s"}},
"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`, name, ns, replicas, name, name)
}

type reflected struct {
	Replicas                   int64 `json:"replicas"`
	ReadyReplicas              int64 `json:"readyReplicas"`
	AvailableReplicas          int64 `json:"availableReplicas"`
	Generation                 int64 `json:"generation"`
	ResourceTemplateGeneration int64 `json:"resourceTemplateGeneration"`
}

func workStatus(t *testing.T, ns, name string) (reflected, workv1alpha1.ResourceHealth, bool) {
	w, err := hubClient(t).WorkV1alpha1().Works(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil || len(w.Status.ManifestStatuses) != 1 || w.Status.ManifestStatuses[0].Status == nil {
		return reflected{}, "", false
	}
	var r reflected
	_ = json.Unmarshal(w.Status.ManifestStatuses[0].Status.Raw, &r)
	return r, w.Status.ManifestStatuses[0].Health, true
}

// TestWorkStatusFollowsTheMember scales a Deployment through its Work and
// checks the Work status shows the new counts within a second of the
// member's status change, then takes its pods away and back and follows
// its health Healthy -> Unhealthy -> Healthy.
func TestWorkStatusFollowsTheMember(t *testing.T) {
	a := startAgent(t, "member2", 1, nil)
	defer a.stop(t)
	ctx := context.Background()
	es2 := workv1alpha1.ExecutionNamespace("member2")
	memberNamespace(t, 1, "status")
	createWork(t, newWork("member2", "scaled", manifests(t, deploymentManifest("status", "scaled", 1))))
	testenv.Eventually(t, time.Minute, "1/1 Healthy", func() (bool, error) {
		r, h, ok := workStatus(t, es2, "scaled")
		return ok && r.ReadyReplicas == 1 && h == workv1alpha1.ResourceHealthy && r.ResourceTemplateGeneration == 7 && r.Generation >= 1, nil
	})

	// Scale through the Work and time member status vs Work status.
	deploys := memberClient(t, 1).AppsV1().Deployments("status")
	memberWatch, err := deploys.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=scaled"})
	must(t, err)
	defer memberWatch.Stop()
	memberAt := make(chan time.Time, 1)
	go func() {
		for ev := range memberWatch.ResultChan() {
			if d, ok := ev.Object.(*appsv1.Deployment); ok && ev.Type == watch.Modified && d.Status.ReadyReplicas == 3 {
				memberAt <- time.Now()
				return
			}
		}
	}()
	updateWork(t, es2, "scaled", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = manifests(t, deploymentManifest("status", "scaled", 3))
	})
	var workAt time.Time
	testenv.Eventually(t, time.Minute, "3/3 in the Work status", func() (bool, error) {
		r, _, ok := workStatus(t, es2, "scaled")
		if ok && r.ReadyReplicas == 3 {
			workAt = time.Now()
			return true, nil
		}
		return false, nil
	})
	select {
	case m := <-memberAt:
		// The status follows the member's event, not a periodic resync. The
		// bound leaves room for a loaded machine; the benchmarks measure the
		// lag itself.
		if lag := workAt.Sub(m); lag > 10*time.Second {
			t.Errorf("the Work status showed 3 ready replicas %s after the member did (want within seconds)", lag)
		} else {
			t.Logf("status lag after the member's change: %s", lag)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("never saw the member Deployment reach 3 ready replicas")
	}

	// The pods go away (nodes cordoned, pods deleted) and come back.
	nodes := memberClient(t, 1).CoreV1().Nodes()
	setUnschedulable := func(v bool) {
		list, err := nodes.List(ctx, metav1.ListOptions{})
		must(t, err)
		for _, n := range list.Items {
			body := fmt.Sprintf(`{"spec":{"unschedulable":%v}}`, v)
			_, err := nodes.Patch(ctx, n.Name, "application/merge-patch+json", []byte(body), metav1.PatchOptions{})
			must(t, err)
		}
	}
	setUnschedulable(true)
	defer setUnschedulable(false)
	must(t, memberClient(t, 1).CoreV1().Pods("status").DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}, metav1.ListOptions{LabelSelector: "app=scaled"}))
	testenv.Eventually(t, time.Minute, "Unhealthy while the pods are gone", func() (bool, error) {
		_, h, ok := workStatus(t, es2, "scaled")
		return ok && h == workv1alpha1.ResourceUnhealthy, nil
	})
	setUnschedulable(false)
	testenv.Eventually(t, time.Minute, "Healthy again", func() (bool, error) {
		r, h, ok := workStatus(t, es2, "scaled")
		return ok && h == workv1alpha1.ResourceHealthy && r.ReadyReplicas == 3, nil
	})
}
