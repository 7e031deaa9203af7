package execution

import (
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/release"
)

// Every identity the controller compares or records is scoped by the REST
// mapping of its kind (member.Kinds.Scope), so a namespaced manifest
// without metadata.namespace, its status identifier ("default") and its
// applied set all name the same object.

// scopeID returns id scoped, or as written when its kind is not served.
func (c *Controller) scopeID(id manifest.Identity) manifest.Identity {
	scoped, _ := c.kinds.Scope(id)
	return scoped
}

// scopeManifests scopes every decoded manifest whose kind is served.
func (c *Controller) scopeManifests(ms []manifest.Manifest) {
	for i := range ms {
		if ms[i].Object == nil {
			continue
		}
		if scoped, ok := c.kinds.Scope(ms[i].ID); ok {
			ms[i].Scope(scoped.Namespace != "")
		}
	}
}

// statusIDs lists, scoped, the objects a Work's status says were applied;
// after a restart this is how manifests removed meanwhile are found.
func (c *Controller) statusIDs(work *workv1alpha1.Work) []manifest.Identity {
	ids := release.StatusIDs(work)
	for i := range ids {
		ids[i] = c.scopeID(ids[i])
	}
	return ids
}
