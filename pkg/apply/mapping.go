package apply

import (
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-io/tether/pkg/manifest"
)

// mappingCache memoizes RESTMappings by kind. The discovery-backed mapper
// builds each answer anew (kilobytes of garbage per call, several calls per
// manifest); the memo is dropped whenever the mapper is reset.
type mappingCache struct {
	mu sync.RWMutex
	m  map[schema.GroupVersionKind]*meta.RESTMapping
	// lastReset is when discovery was last read again for an unknown kind.
	lastReset time.Time
}

// resetInterval spaces the discovery refreshes that unknown kinds cause:
// many Works naming a kind whose CRD is missing must not become a
// discovery storm. A CRD applied by a Work resets at once (awaitCRDs).
const resetInterval = 5 * time.Second

// mayReset reports whether an unknown kind may refresh discovery now, and
// if so records that it does.
func (c *mappingCache) mayReset(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastReset) < resetInterval {
		return false
	}
	c.lastReset = now
	return true
}

func (c *mappingCache) get(gvk schema.GroupVersionKind) *meta.RESTMapping {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[gvk]
}

func (c *mappingCache) put(gvk schema.GroupVersionKind, m *meta.RESTMapping) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[schema.GroupVersionKind]*meta.RESTMapping{}
	}
	c.m[gvk] = m
}

func (c *mappingCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// Mapping resolves obj's kind with the member's discovery, refreshing the
// discovery cache when the kind is unknown (a CRD may have just been
// installed), at most once per resetInterval. The mapping is shared: callers must not modify it.
func (a *Applier) Mapping(obj *unstructured.Unstructured) (*meta.RESTMapping, error) {
	gvk := obj.GroupVersionKind()
	if m := a.mappings.get(gvk); m != nil {
		return m, nil
	}
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) && a.mappings.mayReset(time.Now()) {
		a.resetMapper()
		m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("%s: kind %s is not served by the member cluster (is its CRD installed?): %w", Subject(obj), gvk, err)
	}
	if err != nil {
		return nil, err
	}
	a.mappings.put(gvk, m)
	return m, nil
}

// resetMapper makes the next lookups read discovery again.
func (a *Applier) resetMapper() {
	a.mappings.clear()
	a.mapper.Reset()
}

// Scope returns id with its namespace normalised for its kind's REST scope
// (manifest.Identity.Scoped); ok is false, and id is returned as written,
// when the kind is not served.
func (a *Applier) Scope(id manifest.Identity) (scoped manifest.Identity, ok bool) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(id.GVK())
	obj.SetName(id.Name)
	m, err := a.Mapping(obj)
	if err != nil {
		return id, false
	}
	return id.Scoped(m.Scope.Name() == meta.RESTScopeNameNamespace), true
}
