package execution

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// TestOrphanFoundAtStart: an object applied just before the agent died is
// in no Work status; its manifest is removed while the agent is down. The
// next agent finds it in the member and releases it; an object naming a
// Work that does not exist is left alone.
func TestOrphanFoundAtStart(t *testing.T) {
	const cluster = "orphans"
	es := workv1alpha1.ExecutionNamespace(cluster)
	ctx := context.Background()
	memberNamespace(t, 1, "orphans")
	cms := memberClient(t, 1).CoreV1().ConfigMaps("orphans")
	first := startAgent(t, cluster, 1, nil)
	createWork(t, newWork(cluster, "keep", manifests(t, configMap("orphans", "kept", map[string]string{"k": "v"}))))
	waitApplied(t, es, "keep", metav1.ConditionTrue)
	waitIdle(t, first)
	first.stop(t)

	// What the killed agent left: an object it applied for Work "keep" that
	// no status lists, and one for a Work that is gone.
	stamped := func(name, work string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "orphans",
			Labels:      map[string]string{workv1alpha1.ManagedLabel: workv1alpha1.ManagedLabelValue},
			Annotations: map[string]string{workv1alpha1.WorkNamespaceAnnotation: es, workv1alpha1.WorkNameAnnotation: work}}}
	}
	_, err := cms.Create(ctx, stamped("orphan", "keep"), metav1.CreateOptions{})
	must(t, err)
	_, err = cms.Create(ctx, stamped("unclaimed", "gone"), metav1.CreateOptions{})
	must(t, err)

	second := startAgent(t, cluster, 1, nil)
	defer second.stop(t)
	testenv.Eventually(t, time.Minute, "the orphan is released", func() (bool, error) {
		_, err := cms.Get(ctx, "orphan", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	waitIdle(t, second)
	for _, name := range []string{"kept", "unclaimed"} {
		if _, err := cms.Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("ConfigMap %s: %v", name, err)
		}
	}
	deleteWorkAndWait(t, es, "keep", cms, "kept")
	must(t, cms.Delete(ctx, "unclaimed", metav1.DeleteOptions{}))
}

// TestRemovedManagedLabelIsRepaired: an object of this Work whose
// karmada.io/managed label someone removed is repaired, not refused.
func TestRemovedManagedLabelIsRepaired(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "unlabelled")
	cms := memberClient(t, 0).CoreV1().ConfigMaps("unlabelled")
	createWork(t, newWork("member1", "unlabelled", manifests(t, configMap("unlabelled", "cm", map[string]string{"k": "v"}))))
	waitApplied(t, es1, "unlabelled", metav1.ConditionTrue)
	cm, err := cms.Get(ctx, "cm", metav1.GetOptions{})
	must(t, err)
	delete(cm.Labels, workv1alpha1.ManagedLabel)
	_, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "someone"})
	must(t, err)
	testenv.Eventually(t, time.Minute, "the label is restored", func() (bool, error) {
		cm, err := cms.Get(ctx, "cm", metav1.GetOptions{})
		return err == nil && cm.Labels[workv1alpha1.ManagedLabel] == "true", nil
	})
	w := waitApplied(t, es1, "unlabelled", metav1.ConditionTrue)
	if len(w.Status.ManifestStatuses) != 1 {
		t.Errorf("manifest statuses: %+v", w.Status.ManifestStatuses)
	}
	deleteWorkAndWait(t, es1, "unlabelled", cms, "cm")
}
