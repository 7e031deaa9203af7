package execution

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// TestNamespaceDeleteWaitsForUnownedObjects: deleting a Work's Namespace
// would take a ConfigMap nobody manages with it; the delete waits with a
// Warning until the Work opts in with tether.io/cascade-delete.
func TestNamespaceDeleteWaitsForUnownedObjects(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	ns := `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"cascade"}}`
	createWork(t, newWork("member1", "cascade", manifests(t, ns)))
	waitApplied(t, es1, "cascade", metav1.ConditionTrue)
	cms := memberClient(t, 0).CoreV1().ConfigMaps("cascade")
	_, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "precious"}}, metav1.CreateOptions{})
	must(t, err)
	must(t, hubClient(t).WorkV1alpha1().Works(es1).Delete(ctx, "cascade", metav1.DeleteOptions{}))
	testenv.Eventually(t, time.Minute, "a DeletionBlocked Warning naming the ConfigMap", func() (bool, error) {
		for _, e := range eventsFor(t, es1, "cascade") {
			if e.Reason == EventDeletionBlocked && strings.Contains(e.Message, "precious") {
				return true, nil
			}
		}
		return false, nil
	})
	got, err := memberClient(t, 0).CoreV1().Namespaces().Get(ctx, "cascade", metav1.GetOptions{})
	if err != nil || !got.DeletionTimestamp.IsZero() {
		t.Fatalf("the Namespace was deleted although it holds an unowned ConfigMap (err %v)", err)
	}
	updateWork(t, es1, "cascade", func(w *workv1alpha1.Work) {
		if w.Annotations == nil {
			w.Annotations = map[string]string{}
		}
		w.Annotations[workv1alpha1.CascadeDeleteAnnotation] = "true"
	})
	testenv.Eventually(t, time.Minute, "with the opt-in the Namespace goes and the Work is released", func() (bool, error) {
		ns, err := memberClient(t, 0).CoreV1().Namespaces().Get(ctx, "cascade", metav1.GetOptions{})
		gone := apierrors.IsNotFound(err) || (err == nil && !ns.DeletionTimestamp.IsZero())
		_, werr := hubClient(t).WorkV1alpha1().Works(es1).Get(ctx, "cascade", metav1.GetOptions{})
		return gone && apierrors.IsNotFound(werr), nil
	})
}

// TestPruneDisabledKeepsTheObject: a manifest annotated tether.io/prune:
// disabled is left in the member, without Karmada's markers, when it is
// removed from its Work.
func TestPruneDisabledKeepsTheObject(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "prune")
	cms := memberClient(t, 0).CoreV1().ConfigMaps("prune")
	keep := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep","namespace":"prune","annotations":{"tether.io/prune":"disabled"}}}`
	createWork(t, newWork("member1", "prune", manifests(t, keep, configMap("prune", "go", nil))))
	waitApplied(t, es1, "prune", metav1.ConditionTrue)
	deleteWorkAndWait(t, es1, "prune", cms, "go")
	cm, err := cms.Get(ctx, "keep", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the prune-disabled ConfigMap was deleted: %v", err)
	}
	if _, managed := cm.Labels[workv1alpha1.ManagedLabel]; managed {
		t.Errorf("the kept ConfigMap is still labelled managed: %v", cm.Labels)
	}
}
