package member

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/tether-io/tether/pkg/manifest"
)

// Config wires Objects.
type Config struct {
	Client dynamic.Interface
	Kinds  *Kinds
	// FieldManager is the manager whose Apply entry is kept aside (OwnedFields).
	FieldManager string
	// OnEvent receives every change of a managed object (see Event).
	OnEvent func(Event)
	// KeepManagedFields, if set, says which managedFields entry makes the
	// cache keep all of an object's entries (apply.IsLegacyEntry: the apply
	// engine moves a legacy manager's entry and needs them all).
	KeepManagedFields func(manager, operation, subresource string) bool
	// Slim, if set, drops from each cached object what status reporting
	// does not read (interpret.Slim when the default interpreters are used).
	Slim func(*unstructured.Unstructured)
}

// Objects is the agent's view of the member objects it manages. Informers
// started by Ensure run until Stop.
type Objects struct {
	cfg  Config
	stop chan struct{}

	mu        sync.Mutex
	stopped   bool
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer

	ownedMu sync.Mutex
	owned   map[types.UID]ownedEntry

	stateMu   sync.Mutex
	responses map[ref]response               // apply responses the informers have not caught up with
	applied   map[string][]manifest.Identity // per Work key: what this process applied
}

// New returns Objects; no informer runs until Ensure asks for one.
func New(cfg Config) *Objects {
	if cfg.OnEvent == nil {
		cfg.OnEvent = func(Event) {}
	}
	return &Objects{cfg: cfg, stop: make(chan struct{}),
		informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{}, owned: map[types.UID]ownedEntry{},
		responses: map[ref]response{}, applied: map[string][]manifest.Identity{}}
}

// Stop stops every informer; Ensure starts none after it.
func (o *Objects) Stop() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.stopped {
		o.stopped = true
		close(o.stop)
	}
}

// State is what Objects knows about a member object.
type State int

const (
	// Unknown: its kind is not served (or cannot be mapped).
	Unknown State = iota
	// Present: the object exists.
	Present
	// Absent: the object does not exist in the member.
	Absent
	// Pending: the informer of its kind is still syncing.
	Pending
)

// Answer is what Objects knows about one member object.
type Answer struct {
	State State
	// ID is the identity asked for, scoped by its kind's REST scope when
	// the kind is served.
	ID  manifest.Identity
	GVR schema.GroupVersionResource
	// Object is the object when Present: the cached one, or the response of
	// an apply the informer has not caught up with yet (FromApply).
	Object    *unstructured.Unstructured
	FromApply bool
}

// Cached returns the object as the informer holds it: found is false for
// anything else (not cached, not synced, or only an apply response). Readers
// that must know the object exists confirm a miss with a read of their own.
func (a Answer) Cached() (obj *unstructured.Unstructured, found bool) {
	if a.State != Present || a.FromApply {
		return nil, false
	}
	return a.Object, true
}

// Live answers what the member object id is. It starts the informer of the
// kind if none runs, and never reads the apiserver.
func (o *Objects) Live(id manifest.Identity) Answer {
	ans := Answer{ID: id}
	if o.cfg.Kinds == nil {
		return ans
	}
	mapping, err := o.cfg.Kinds.MappingOf(id)
	if err != nil {
		return ans
	}
	ans.ID, ans.GVR = id.Scoped(Namespaced(mapping)), mapping.Resource
	o.Ensure(ans.GVR)
	obj, found, known := o.lookup(ans.GVR, ans.ID.Namespace, ans.ID.Name)
	switch {
	case !known:
		ans.State = Pending
	case found:
		ans.State, ans.Object = Present, obj
	default:
		ans.State = Absent
		if r, ok := o.response(ans.GVR, ans.ID.Namespace, ans.ID.Name); ok {
			ans.State, ans.Object, ans.FromApply = Present, r, true
		}
	}
	return ans
}

// lookup returns the cached object. known is false when the informer for
// gvr is not running or not synced yet, so absence means nothing.
func (o *Objects) lookup(gvr schema.GroupVersionResource, namespace, name string) (obj *unstructured.Unstructured, found, known bool) {
	o.mu.Lock()
	inf, ok := o.informers[gvr]
	o.mu.Unlock()
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
func (o *Objects) WaitSynced(ctx context.Context, gvr schema.GroupVersionResource, timeout time.Duration) bool {
	o.mu.Lock()
	inf, ok := o.informers[gvr]
	o.mu.Unlock()
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return cache.WaitForCacheSync(ctx.Done(), inf.HasSynced)
}
