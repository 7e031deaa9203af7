package execution

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// freshLimit is how long an apply response stands in for an object the
// member cache has not seen yet; a watch that lags longer than this is
// left to say what it says.
const freshLimit = 30 * time.Second

// liveKey names a member object by resource, namespace and name.
type liveKey struct {
	gvr             schema.GroupVersionResource
	namespace, name string
}

// freshObject is the object an apply returned, with when.
type freshObject struct {
	obj *unstructured.Unstructured
	at  time.Time
}

// rememberFresh keeps what an apply returned until the member cache has the
// object, so that the status written right after an apply describes the
// object just written rather than report it missing. It takes obj over
// (the apply response, which nothing else reads) and drops its managedFields.
func (c *Controller) rememberFresh(gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	unstructured.RemoveNestedField(obj.Object, "metadata", "managedFields")
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fresh[liveKey{gvr, obj.GetNamespace(), obj.GetName()}] = freshObject{obj: obj, at: time.Now()}
	if len(c.fresh) > 1024 { // a watch that lost events: drop what expired
		for k, f := range c.fresh {
			if time.Since(f.at) > freshLimit {
				delete(c.fresh, k)
			}
		}
	}
}

// freshLive returns the apply response for an object the cache lacks.
func (c *Controller) freshLive(gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.fresh[liveKey{gvr, namespace, name}]
	if !ok || time.Since(f.at) > freshLimit {
		return nil, false
	}
	return f.obj, true
}

// forgetFresh drops the apply response once the cache has seen the object.
func (c *Controller) forgetFresh(gvr schema.GroupVersionResource, namespace, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.fresh, liveKey{gvr, namespace, name})
}
