package dropin

import (
	"context"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// appliedWatch records whether the Work's Applied condition was ever not True.
type appliedWatch struct {
	flipped atomic.Bool
	events  atomic.Int32
	stop    context.CancelFunc
	done    chan struct{}
}

func (k *karmadaMember) watchApplied(t *testing.T) *appliedWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &appliedWatch{stop: cancel, done: make(chan struct{})}
	w, err := k.Karmada.WorkV1alpha1().Works(k.Work.Namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", k.Work.Name).String(), ResourceVersion: k.currentWork(t).ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(a.done)
		defer w.Stop()
		for ev := range w.ResultChan() {
			work, ok := ev.Object.(*workv1alpha1.Work)
			if !ok || ev.Type == watch.Error {
				continue
			}
			a.events.Add(1)
			if c := meta.FindStatusCondition(work.Status.Conditions, workv1alpha1.WorkApplied); c == nil || c.Status != metav1.ConditionTrue {
				a.flipped.Store(true)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-a.done })
	return a
}

func (k *karmadaMember) currentWork(t *testing.T) *workv1alpha1.Work {
	t.Helper()
	w, err := k.Karmada.WorkV1alpha1().Works(k.Work.Namespace).Get(context.Background(), k.Work.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// checkWorkStatus: Applied never left True, and the status was written at
// most once (Tether's wording of the same state).
func (k *karmadaMember) checkWorkStatus(t *testing.T, a *appliedWatch, m marks) {
	t.Helper()
	statusWrites := k.hubWrites(t, m, func(e testenv.AuditEvent) bool {
		return e.User == clusterv1alpha1.AgentUser(k.Name) && e.IsWrite() && e.Resource == "works" && e.Subresource == "status"
	})
	t.Logf("Work status writes by the Tether agent: %d; Work events seen: %d", len(statusWrites), a.events.Load())
	if len(statusWrites) > 1 {
		t.Errorf("%d Work status writes after the swap, want at most 1 (no churn)", len(statusWrites))
	}
	if a.flipped.Load() {
		t.Error("the Work's Applied condition left True during the swap")
	}
	if c := meta.FindStatusCondition(k.currentWork(t).Status.Conditions, workv1alpha1.WorkApplied); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Applied after the swap: %+v", c)
	}
}
