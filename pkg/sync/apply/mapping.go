package apply

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// mappingCache memoizes RESTMappings by kind. The discovery-backed mapper
// builds each answer anew (kilobytes of garbage per call, several calls per
// manifest); the memo is dropped whenever the mapper is reset.
type mappingCache struct {
	mu sync.RWMutex
	m  map[schema.GroupVersionKind]*meta.RESTMapping
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
// discovery cache once when the kind is unknown (a CRD may have just been
// installed). The mapping is shared: callers must not modify it.
func (a *Applier) Mapping(obj *unstructured.Unstructured) (*meta.RESTMapping, error) {
	gvk := obj.GroupVersionKind()
	if m := a.mappings.get(gvk); m != nil {
		return m, nil
	}
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
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
