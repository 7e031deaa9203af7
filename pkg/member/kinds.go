package member

import (
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-io/tether/pkg/manifest"
)

// Kinds resolves member kinds to resources with the member's discovery and
// memoizes the answers by kind. The discovery-backed mapper builds each
// answer anew (kilobytes of garbage per call, several calls per manifest);
// the memo is dropped whenever the mapper is reset.
type Kinds struct {
	mapper meta.ResettableRESTMapper

	mu sync.RWMutex
	m  map[schema.GroupVersionKind]*meta.RESTMapping
	// lastReset is when discovery was last read again for an unknown kind.
	lastReset time.Time
}

// ResetInterval spaces the discovery refreshes that unknown kinds cause:
// many Works naming a kind whose CRD is missing must not become a
// discovery storm. A CRD applied by a Work resets at once (Reset).
const ResetInterval = 5 * time.Second

// NewKinds returns Kinds over mapper.
func NewKinds(mapper meta.ResettableRESTMapper) *Kinds { return &Kinds{mapper: mapper} }

// Mapping resolves obj's kind, refreshing the discovery cache when the kind
// is unknown (a CRD may have just been installed), at most once per
// ResetInterval. The mapping is shared: callers must not modify it.
func (k *Kinds) Mapping(obj *unstructured.Unstructured) (*meta.RESTMapping, error) {
	return k.MappingOf(manifest.IdentityOf(obj))
}

// MappingOf resolves the kind of id (see Mapping).
func (k *Kinds) MappingOf(id manifest.Identity) (*meta.RESTMapping, error) {
	gvk := id.GVK()
	if m := k.get(gvk); m != nil {
		return m, nil
	}
	m, err := k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) && k.mayReset(time.Now()) {
		k.Reset()
		m, err = k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("%s: kind %s is not served by the member cluster (is its CRD installed?): %w", id, gvk, err)
	}
	if err != nil {
		return nil, err
	}
	k.put(gvk, m)
	return m, nil
}

// Scope returns id with its namespace normalised for its kind's REST scope
// (manifest.Identity.Scoped); ok is false, and id is returned as written,
// when the kind is not served.
func (k *Kinds) Scope(id manifest.Identity) (scoped manifest.Identity, ok bool) {
	m, err := k.MappingOf(id)
	if err != nil {
		return id, false
	}
	return id.Scoped(Namespaced(m)), true
}

// Namespaced reports whether a mapping's resource lives in namespaces.
func Namespaced(m *meta.RESTMapping) bool { return m.Scope.Name() == meta.RESTScopeNameNamespace }

// Reset drops the memo and makes the next lookups read discovery again.
func (k *Kinds) Reset() {
	k.mu.Lock()
	k.m = nil
	k.mu.Unlock()
	k.mapper.Reset()
}

// mayReset reports whether an unknown kind may refresh discovery now, and
// if so records that it does.
func (k *Kinds) mayReset(now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.lastReset) < ResetInterval {
		return false
	}
	k.lastReset = now
	return true
}

func (k *Kinds) get(gvk schema.GroupVersionKind) *meta.RESTMapping {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.m[gvk]
}

func (k *Kinds) put(gvk schema.GroupVersionKind, m *meta.RESTMapping) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[schema.GroupVersionKind]*meta.RESTMapping{}
	}
	k.m[gvk] = m
}
