package execution

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-io/tether/pkg/manifest"
	statuswork "github.com/tether-io/tether/pkg/status/work"
)

// cachedLive serves the apply engine and the releaser from the member cache.
func (c *Controller) cachedLive(gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, bool) {
	obj, found, _ := c.member.Lookup(gvr, ns, name)
	return obj, found
}

// liveForStatus finds a manifest's member object for the status writer.
func (c *Controller) liveForStatus(m *unstructured.Unstructured) (*unstructured.Unstructured, statuswork.LiveState) {
	mapping, err := c.applier.Mapping(m)
	if err != nil {
		return nil, statuswork.LiveUnknown
	}
	id := manifest.IdentityOf(m).Scoped(mapping.Scope.Name() == meta.RESTScopeNameNamespace)
	c.member.Ensure(mapping.Resource)
	obj, found, known := c.member.Lookup(mapping.Resource, id.Namespace, id.Name)
	switch {
	case !known:
		return nil, statuswork.LivePending
	case !found:
		if fresh, ok := c.freshLive(mapping.Resource, id.Namespace, id.Name); ok {
			return fresh, statuswork.LivePresent
		}
		return nil, statuswork.LiveAbsent
	}
	return obj, statuswork.LivePresent
}
