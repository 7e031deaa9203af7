package sync

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// MemberEvent is a change to a managed member object, with the Work it
// belongs to (from its work.karmada.io annotations).
type MemberEvent struct {
	WorkKey string // namespace/name of the Work on the hub
	GVR     schema.GroupVersionResource
	Old     *unstructured.Unstructured // nil on add
	New     *unstructured.Unstructured // nil on delete
}

// MemberCache keeps one informer per member resource that some Work uses.
// Each lists and watches only objects labelled karmada.io/managed=true, so
// the agent never caches the member's unrelated objects, and each trims
// managedFields to the entry of Tether's own field manager (what the apply
// engine compares against), so cached objects stay small.
type MemberCache struct {
	client       dynamic.Interface
	fieldManager string
	onEvent      func(MemberEvent)

	mu        sync.Mutex
	ctx       context.Context
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer
}

// NewMemberCache returns a cache that reports events to onEvent.
func NewMemberCache(client dynamic.Interface, fieldManager string, onEvent func(MemberEvent)) *MemberCache {
	return &MemberCache{client: client, fieldManager: fieldManager, onEvent: onEvent,
		informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{}}
}

// Start records the context that bounds informers started later by Ensure.
func (m *MemberCache) Start(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ctx = ctx
}

// Ensure starts the informer for gvr if it is not running. It does not wait
// for the informer to sync; Lookup reports "unknown" until it has.
func (m *MemberCache) Ensure(gvr schema.GroupVersionResource) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.informers[gvr]; ok || m.ctx == nil {
		return
	}
	selector := workv1alpha1.ManagedLabel + "=" + workv1alpha1.ManagedLabelValue
	inf := dynamicinformer.NewFilteredDynamicInformer(m.client, gvr, metav1.NamespaceAll, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = selector }).Informer()
	_ = inf.SetTransform(m.trim)
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { m.emit(gvr, nil, obj) },
		UpdateFunc: func(old, obj any) { m.emit(gvr, old, obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			m.emit(gvr, obj, nil)
		},
	})
	m.informers[gvr] = inf
	go inf.Run(m.ctx.Done())
}

// trim keeps only Tether's own managedFields entry.
func (m *MemberCache) trim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	var keep []metav1.ManagedFieldsEntry
	for _, mf := range u.GetManagedFields() {
		if mf.Manager == m.fieldManager && mf.Operation == metav1.ManagedFieldsOperationApply {
			keep = append(keep, mf)
		}
	}
	u.SetManagedFields(keep)
	return u, nil
}

func (m *MemberCache) emit(gvr schema.GroupVersionResource, oldObj, newObj any) {
	ev := MemberEvent{GVR: gvr}
	ev.Old, _ = oldObj.(*unstructured.Unstructured)
	ev.New, _ = newObj.(*unstructured.Unstructured)
	ref := ev.New
	if ref == nil {
		ref = ev.Old
	}
	if ref == nil {
		return
	}
	ann := ref.GetAnnotations()
	ns, name := ann[workv1alpha1.WorkNamespaceAnnotation], ann[workv1alpha1.WorkNameAnnotation]
	if ns == "" || name == "" {
		return
	}
	ev.WorkKey = ns + "/" + name
	m.onEvent(ev)
}

// Lookup returns the cached object. known is false when the informer for
// gvr is not running or not synced yet, so absence means nothing.
func (m *MemberCache) Lookup(gvr schema.GroupVersionResource, namespace, name string) (obj *unstructured.Unstructured, found, known bool) {
	m.mu.Lock()
	inf, ok := m.informers[gvr]
	m.mu.Unlock()
	if !ok || !inf.HasSynced() {
		return nil, false, false
	}
	key := name
	if namespace != "" {
		key = namespace + "/" + name
	}
	item, exists, err := inf.GetStore().GetByKey(key)
	if err != nil || !exists {
		return nil, false, true
	}
	u, _ := item.(*unstructured.Unstructured)
	return u, u != nil, true
}

// WaitSynced waits up to timeout for the informer of gvr to sync, so the
// first reconcile after a start reads from the cache instead of the server.
func (m *MemberCache) WaitSynced(ctx context.Context, gvr schema.GroupVersionResource, timeout time.Duration) bool {
	m.mu.Lock()
	inf, ok := m.informers[gvr]
	m.mu.Unlock()
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return cache.WaitForCacheSync(ctx.Done(), inf.HasSynced)
}
