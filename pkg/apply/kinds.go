package apply

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
)

// Mapping resolves obj's kind with the member's discovery (member.Kinds).
// The mapping is shared: callers must not modify it.
func (a *Applier) Mapping(obj *unstructured.Unstructured) (*meta.RESTMapping, error) {
	return a.kinds.Mapping(obj)
}

// Scope returns id with its namespace normalised for its kind's REST scope
// (manifest.Identity.Scoped); ok is false, and id is returned as written,
// when the kind is not served.
func (a *Applier) Scope(id manifest.Identity) (scoped manifest.Identity, ok bool) {
	return a.kinds.Scope(id)
}

// Kinds returns the Applier's kind mapping.
func (a *Applier) Kinds() *member.Kinds { return a.kinds }
