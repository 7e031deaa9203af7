package execution

import (
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/execution/queue"
	"github.com/tether-io/tether/pkg/member"
	"github.com/tether-io/tether/pkg/override"
)

// Event handlers only turn objects into keys; reconcile reads the caches.

func (c *Controller) onWorkAdd(obj any, initial bool) {
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	p := queue.High
	if initial {
		p = queue.Low // the initial list waits behind new and changed Works
	}
	c.queue.Add(key, p)
}

func (c *Controller) onWorkUpdate(oldObj, newObj any) {
	old, okOld := oldObj.(*workv1alpha1.Work)
	cur, okNew := newObj.(*workv1alpha1.Work)
	if !okOld || !okNew || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	// Status writes (ours) change neither generation nor metadata we read.
	if old.Generation == cur.Generation && old.DeletionTimestamp.Equal(cur.DeletionTimestamp) &&
		reflect.DeepEqual(old.Labels, cur.Labels) && reflect.DeepEqual(old.Annotations, cur.Annotations) &&
		reflect.DeepEqual(old.Finalizers, cur.Finalizers) {
		return
	}
	key, _ := cache.MetaNamespaceKeyFunc(cur)
	c.queue.Forget(key) // a fixed Work is retried at once, not after its backoff
	c.queue.Add(key, queue.High)
}

// onWorkDelete forgets the Work. It deletes nothing: member objects are only
// deleted for a Work observed terminating (which went through reconcile
// with its finalizer), never because a Work vanished from the hub's view.
func (c *Controller) onWorkDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	c.writer.Forget(key)
	c.member.ForgetWork(key)
	if c.guard != nil {
		c.guard.Forget(key)
	}
}

// observeCluster hands the agent's Cluster to the deletion guard (its
// confirmation annotation releases held deletes).
func (c *Controller) observeCluster(obj any) {
	if cl, ok := obj.(*clusterv1alpha1.Cluster); ok && c.guard != nil {
		c.guard.ObserveCluster(cl)
	}
}

// requeue queues Works at once (the guard released their deletes).
func (c *Controller) requeue(keys []string) {
	for _, k := range keys {
		c.queue.Add(k, queue.High)
	}
}

func (c *Controller) onClusterUpdate(old, cur *clusterv1alpha1.Cluster) {
	if reflect.DeepEqual(old.Labels, cur.Labels) && old.Spec.Provider == cur.Spec.Provider &&
		old.Spec.Region == cur.Spec.Region && reflect.DeepEqual(old.Spec.Zones, cur.Spec.Zones) {
		return // status updates do not change rendering
	}
	c.renderInputsChanged(false)
}

// renderInputsChanged re-syncs every Work that is rendered at the edge,
// after a policy or the Cluster changed. Unaffected Works settle without a
// write (the apply engine finds nothing changed).
func (c *Controller) renderInputsChanged(initial bool) {
	if initial || c.cfg.RenderMode == override.ModeNever || !c.worksSynced() {
		return
	}
	works, err := c.works.List(everything)
	if err != nil {
		return
	}
	for _, w := range works {
		if ok, _ := override.ShouldRender(c.cfg.RenderMode, w); ok {
			key, _ := cache.MetaNamespaceKeyFunc(w)
			c.queue.Add(key, queue.High)
		}
	}
}

// onMemberEvent routes a change of a managed member object: its Work's
// status is refreshed, and a change to anything but status (drift) or a
// deletion re-syncs the Work, which re-applies only what differs.
func (c *Controller) onMemberEvent(ev member.Event) {
	c.writer.Touch(ev.WorkKey)
	switch {
	case ev.Old == nil:
		return // an add: our own create, or the initial list
	case ev.New == nil:
		c.queue.Add(ev.WorkKey, queue.High)
	case drifted(ev.Old, ev.New, func() ownership { return ownershipOf(c.member, ev.New) }):
		c.queue.Add(ev.WorkKey, queue.High)
	}
}

// dropManagedFields is the hub informers' transform: nothing here reads the
// managedFields of hub objects, and they are a large part of each object.
func dropManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
