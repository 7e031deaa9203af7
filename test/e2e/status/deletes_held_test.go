package status

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/deletion"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	statuscluster "github.com/tether-io/tether/pkg/status/cluster"
	"github.com/tether-io/tether/test/testenv"
)

// TestDeletesHeldBesideReady runs the status controller with the deletion
// guard's condition on a real hub: DeletesHeld appears beside Ready, turns
// True when a bulk batch is held and False when a confirmation on the
// Cluster releases it, each within seconds although the status interval is
// a minute (the guard kicks a collection), and Ready is never disturbed.
func TestDeletesHeldBesideReady(t *testing.T) {
	a := newAgent(t, "guarded")
	a.join(t)
	guard := deletion.New(deletion.Config{ClusterName: a.name, Threshold: deletion.DefaultThreshold, Grace: time.Hour})
	a.runStatus(t, statuscluster.StatusConfig{Interval: time.Minute, Kick: guard.Changed(),
		ExtraConditions: func() []metav1.Condition { return []metav1.Condition{guard.Condition()} }})
	const prompt = 20 * time.Second // well under the one-minute interval
	c := waitCluster(t, a.name, time.Minute, "become Ready without held deletes", func(c *clusterv1alpha1.Cluster) bool {
		return readyIs(metav1.ConditionTrue, clusterv1alpha1.ReasonClusterReady)(c) && deletesHeldIs(metav1.ConditionFalse)(c)
	})
	ready := *findCondition(c, clusterv1alpha1.ClusterConditionReady)
	guard.ObserveCluster(c)

	guard.ObserveList(terminatingWorks(a.name, 40, 30), true)
	c = waitCluster(t, a.name, prompt, "report the held deletes", deletesHeldIs(metav1.ConditionTrue))
	held := findCondition(c, clusterv1alpha1.ClusterConditionDeletesHeld)
	if held.Reason != clusterv1alpha1.ReasonBulkDeletionHeld || !strings.Contains(held.Message, "of 30 Works are held") ||
		!strings.Contains(held.Message, "tether-agent deletes confirm "+a.name) {
		t.Errorf("DeletesHeld %+v", held)
	}
	assertReadyKept(t, c, ready)

	// Confirm as 'tether-agent deletes confirm' does, then let the guard see the Cluster.
	hub := karmadaclient.NewForConfigOrDie(testenv.Require(t).Hub.Config)
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, clusterv1alpha1.ConfirmDeletesAnnotation, time.Now().UTC().Format(time.RFC3339Nano))
	confirmed, err := hub.ClusterV1alpha1().Clusters().Patch(context.Background(), a.name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	testenv.NoError(t, err)
	guard.ObserveCluster(confirmed)
	if n := len(guard.Held()); n != 0 {
		t.Fatalf("%d Works still held after the confirmation", n)
	}
	c = waitCluster(t, a.name, prompt, "report that nothing is held", deletesHeldIs(metav1.ConditionFalse))
	assertReadyKept(t, c, ready)
}

func deletesHeldIs(status metav1.ConditionStatus) func(*clusterv1alpha1.Cluster) bool {
	return func(c *clusterv1alpha1.Cluster) bool {
		cond := findCondition(c, clusterv1alpha1.ClusterConditionDeletesHeld)
		return cond != nil && cond.Status == status
	}
}

func assertReadyKept(t *testing.T, c *clusterv1alpha1.Cluster, want metav1.Condition) {
	t.Helper()
	got := findCondition(c, clusterv1alpha1.ClusterConditionReady)
	if got == nil || got.Status != want.Status || got.Reason != want.Reason || got.Message != want.Message || !got.LastTransitionTime.Equal(&want.LastTransitionTime) {
		t.Errorf("Ready changed beside DeletesHeld: %+v, want %+v", got, want)
	}
}

// terminatingWorks are n Works of cluster as a list would return them, the
// first terminating of them deleted on the hub behind Karmada's finalizer.
func terminatingWorks(cluster string, n, terminating int) []*workv1alpha1.Work {
	out := make([]*workv1alpha1.Work, n)
	for i := range out {
		w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: workv1alpha1.ExecutionNamespace(cluster), Name: fmt.Sprintf("w%d", i),
			UID: types.UID(fmt.Sprintf("uid-%d", i)), Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}}}
		if i < terminating {
			w.DeletionTimestamp = ptr.To(metav1.Now())
		}
		out[i] = w
	}
	return out
}
