package apply

import (
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi3"
)

// TypeCache builds structured-merge-diff type converters from the member's
// OpenAPI v3 documents, one per group version, so field sets computed here
// have the same shape (list keys, atomic maps) as the apiserver's managedFields.
type TypeCache struct {
	disc discovery.DiscoveryInterface

	mu    sync.Mutex
	root  openapi3.Root
	byGV  map[schema.GroupVersion]managedfields.TypeConverter
	fails map[schema.GroupVersion]failure
	now   func() time.Time
}

// failure is a failed build, remembered for failureTTL so that a member
// whose OpenAPI endpoint is down is not asked again for every object, and
// retried after it, so that one failure does not send the rest of the run
// down the dry-run path.
type failure struct {
	err error
	at  time.Time
}

// failureTTL is how long a failed OpenAPI fetch is not retried.
const failureTTL = 30 * time.Second

// NewTypeCache returns an empty cache that reads documents through disc.
func NewTypeCache(disc discovery.DiscoveryInterface) *TypeCache {
	t := &TypeCache{disc: disc, now: time.Now}
	t.Reset()
	return t
}

// Reset forgets every converter, after CRDs changed.
func (t *TypeCache) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.root = openapi3.NewRoot(t.disc.OpenAPIV3())
	t.byGV = map[schema.GroupVersion]managedfields.TypeConverter{}
	t.fails = map[schema.GroupVersion]failure{}
}

// For returns the converter of gv's document.
func (t *TypeCache) For(gv schema.GroupVersion) (managedfields.TypeConverter, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tc, ok := t.byGV[gv]; ok {
		return tc, nil
	}
	if f, ok := t.fails[gv]; ok && t.now().Sub(f.at) < failureTTL {
		return nil, f.err
	}
	tc, err := t.build(gv)
	if err != nil {
		// The root caches the documents it fetched; a fresh one asks again.
		t.root = openapi3.NewRoot(t.disc.OpenAPIV3())
		t.fails[gv] = failure{err: err, at: t.now()}
		return nil, err
	}
	delete(t.fails, gv)
	t.byGV[gv] = tc
	return tc, nil
}

func (t *TypeCache) build(gv schema.GroupVersion) (managedfields.TypeConverter, error) {
	doc, err := t.root.GVSpec(gv)
	if err != nil {
		return nil, fmt.Errorf("OpenAPI v3 document of %s: %w", gv, err)
	}
	if doc.Components == nil || len(doc.Components.Schemas) == 0 {
		return nil, fmt.Errorf("OpenAPI v3 document of %s has no schemas", gv)
	}
	return managedfields.NewTypeConverter(doc.Components.Schemas, false)
}
