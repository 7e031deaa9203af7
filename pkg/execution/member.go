package execution

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/manifest"
)

// MemberEvent is a change to a managed member object, with the Work it
// belongs to (from its work.karmada.io annotations).
type MemberEvent struct {
	WorkKey string // namespace/name of the Work on the hub
	GVR     schema.GroupVersionResource
	Old     *unstructured.Unstructured // nil on add
	New     *unstructured.Unstructured // nil on delete
}

// object is the object the event is about: the new one, or the deleted one.
func (ev MemberEvent) object() *unstructured.Unstructured {
	if ev.New != nil {
		return ev.New
	}
	return ev.Old
}

// MemberCache keeps one informer per member resource that some Work uses.
// Each lists and watches only objects labelled karmada.io/managed=true, so
// the agent never caches the member's unrelated objects. Cached objects
// carry no managedFields: the entry of Tether's own field manager (what the
// apply engine compares against) is kept aside as compact JSON, because as
// nested maps it was the largest part of each cached object.
type MemberCache struct {
	client       dynamic.Interface
	fieldManager string
	onEvent      func(MemberEvent)

	mu        sync.Mutex
	ctx       context.Context
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer

	ownedMu sync.Mutex
	owned   map[types.UID]ownedEntry

	// slim, if set, drops from each cached object what status reporting
	// does not read (interpret.Slim when the default interpreters are used).
	slim func(*unstructured.Unstructured)
}

// ownedEntry is the FieldsV1 of Tether's Apply entry at one resourceVersion;
// changed says it differs from the entry of the version cached before.
type ownedEntry struct {
	resourceVersion string
	fieldsV1        []byte
	changed         bool
}

// NewMemberCache returns a cache that reports events to onEvent.
func NewMemberCache(client dynamic.Interface, fieldManager string, onEvent func(MemberEvent)) *MemberCache {
	return &MemberCache{client: client, fieldManager: fieldManager, onEvent: onEvent,
		informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{}, owned: map[types.UID]ownedEntry{}}
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
			if u, ok := obj.(*unstructured.Unstructured); ok {
				m.ownedMu.Lock()
				delete(m.owned, u.GetUID())
				m.ownedMu.Unlock()
			}
			m.emit(gvr, obj, nil)
		},
	})
	m.informers[gvr] = inf
	go inf.Run(m.ctx.Done())
}

// trim removes managedFields from an object entering the cache and records
// Tether's Apply entry aside (see OwnedFields).
func (m *MemberCache) trim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	md, _ := u.Object["metadata"].(map[string]any)
	entries, present := md["managedFields"].([]any)
	if !present {
		return u, nil // already trimmed
	}
	var raw []byte
	legacy := false
	for _, e := range entries {
		entry, _ := e.(map[string]any)
		if entry["manager"] == m.fieldManager && entry["operation"] == string(metav1.ManagedFieldsOperationApply) {
			raw, _ = json.Marshal(entry["fieldsV1"])
		}
		manager, _ := entry["manager"].(string)
		operation, _ := entry["operation"].(string)
		subresource, _ := entry["subresource"].(string)
		legacy = legacy || apply.IsLegacyEntry(manager, operation, subresource)
	}
	if !legacy { // the apply engine moves a legacy manager's entry: it needs them all
		delete(md, "managedFields")
	}
	if m.slim != nil {
		m.slim(u)
	}
	m.ownedMu.Lock()
	if raw != nil {
		prev, seen := m.owned[u.GetUID()]
		m.owned[u.GetUID()] = ownedEntry{resourceVersion: u.GetResourceVersion(), fieldsV1: raw,
			changed: seen && !bytes.Equal(prev.fieldsV1, raw)}
	} else {
		delete(m.owned, u.GetUID())
	}
	m.ownedMu.Unlock()
	return u, nil
}

// OwnedFields returns the FieldsV1 JSON of Tether's Apply entry for a cached
// object, or nil when the cache has none for that object at that resourceVersion.
func (m *MemberCache) OwnedFields(live *unstructured.Unstructured) []byte {
	if e, ok := m.ownedAt(live); ok {
		return e.fieldsV1
	}
	return nil
}

// ownership returns Tether's field set on obj for drift decisions (see drifted).
func (m *MemberCache) ownership(obj *unstructured.Unstructured) ownership {
	e, ok := m.ownedAt(obj)
	if !ok {
		return ownership{}
	}
	set := &fieldpath.Set{}
	if err := set.FromJSON(bytes.NewReader(e.fieldsV1)); err != nil {
		return ownership{}
	}
	return ownership{set: set, changed: e.changed}
}

// ownedAt returns the recorded Apply entry of obj if it is for obj's resourceVersion.
func (m *MemberCache) ownedAt(obj *unstructured.Unstructured) (ownedEntry, bool) {
	m.ownedMu.Lock()
	defer m.ownedMu.Unlock()
	e, ok := m.owned[obj.GetUID()]
	return e, ok && e.resourceVersion == obj.GetResourceVersion()
}

// emit reports an event to the Work named by the object's annotations. When
// an update changed them (someone rewrote Tether's annotations), the Work
// named before hears of it too, so that it repairs its object.
func (m *MemberCache) emit(gvr schema.GroupVersionResource, oldObj, newObj any) {
	ev := MemberEvent{GVR: gvr}
	ev.Old, _ = oldObj.(*unstructured.Unstructured)
	ev.New, _ = newObj.(*unstructured.Unstructured)
	ref := ev.object()
	if ref == nil {
		return
	}
	key := workKeyOf(ref)
	if key != "" {
		ev.WorkKey = key
		m.onEvent(ev)
	}
	if ev.Old != nil && ev.New != nil {
		if before := workKeyOf(ev.Old); before != "" && before != key {
			ev.WorkKey = before
			m.onEvent(ev)
		}
	}
}

// workKeyOf is the namespace/name of the Work an object's annotations name.
func workKeyOf(obj *unstructured.Unstructured) string {
	if w, ok := manifest.WorkOf(obj); ok {
		return w.Key()
	}
	return ""
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
