package manifest

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Identity names a member object independently of the API version it is
// read or written with. Version is kept for mapping only: two identities
// are the same object when their Key()s are equal.
type Identity struct {
	Group, Version, Kind, Namespace, Name string
}

// Key is the version-free identity used in comparisons and as a map key.
type Key struct {
	Group, Kind, Namespace, Name string
}

// Key drops the version.
func (id Identity) Key() Key {
	return Key{Group: id.Group, Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}
}

// GVK is the identity's group, version and kind.
func (id Identity) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: id.Group, Version: id.Version, Kind: id.Kind}
}

// String is Kind/namespace/name, or Kind/name for a cluster-scoped object.
func (id Identity) String() string {
	if id.Namespace == "" {
		return fmt.Sprintf("%s/%s", id.Kind, id.Name)
	}
	return fmt.Sprintf("%s/%s/%s", id.Kind, id.Namespace, id.Name)
}

// Scoped returns the identity with its namespace normalised for the kind's
// scope: a namespaced object without a namespace lives in "default" (as the
// apiserver puts it), and a cluster-scoped object has none. Every identity
// that is compared, recorded or reported goes through here once its scope
// is known.
func (id Identity) Scoped(namespaced bool) Identity {
	switch {
	case !namespaced:
		id.Namespace = ""
	case id.Namespace == "":
		id.Namespace = metav1.NamespaceDefault
	}
	return id
}

// IdentityOf reads the identity of an object as it is (no normalisation).
func IdentityOf(obj *unstructured.Unstructured) Identity {
	gvk := obj.GroupVersionKind()
	return Identity{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}
