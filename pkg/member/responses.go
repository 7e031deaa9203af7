package member

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// responseLimit is how long an apply response stands in for an object the
// informer has not seen yet; a watch that lags longer than this is left to
// say what it says.
const responseLimit = 30 * time.Second

// ref names a member object by resource, namespace and name.
type ref struct {
	gvr             schema.GroupVersionResource
	namespace, name string
}

// response is the object an apply returned, with when.
type response struct {
	obj *unstructured.Unstructured
	at  time.Time
}

// Applied keeps what an apply returned until the informer has the object,
// so that the status written right after an apply describes the object
// just written rather than report it missing (Answer.FromApply). It takes
// obj over (the apply response, which nothing else reads) and drops its
// managedFields.
func (o *Objects) Applied(gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	unstructured.RemoveNestedField(obj.Object, "metadata", "managedFields")
	o.stateMu.Lock()
	defer o.stateMu.Unlock()
	o.responses[ref{gvr, obj.GetNamespace(), obj.GetName()}] = response{obj: obj, at: time.Now()}
	if len(o.responses) > 1024 { // a watch that lost events: drop what expired
		for k, r := range o.responses {
			if time.Since(r.at) > responseLimit {
				delete(o.responses, k)
			}
		}
	}
}

// response returns the apply response for an object the informer lacks.
func (o *Objects) response(gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, bool) {
	o.stateMu.Lock()
	defer o.stateMu.Unlock()
	r, ok := o.responses[ref{gvr, namespace, name}]
	if !ok || time.Since(r.at) > responseLimit {
		return nil, false
	}
	return r.obj, true
}

// forgetResponse drops the apply response once the informer has seen the object.
func (o *Objects) forgetResponse(gvr schema.GroupVersionResource, namespace, name string) {
	o.stateMu.Lock()
	defer o.stateMu.Unlock()
	delete(o.responses, ref{gvr, namespace, name})
}
