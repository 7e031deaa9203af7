package deletion

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/release"
)

// MaxBlockerNames is how many blockers Blockers names.
const MaxBlockerNames = 5

// blockerPage is the page size of the metadata lists; a scan stops as soon
// as it has found more than MaxBlockerNames blockers.
const blockerPage = 100

// Blocked is what a Namespace or CustomResourceDefinition delete would
// cascade into that Tether does not own.
type Blocked struct {
	// Names are the first blockers found (at most MaxBlockerNames), as
	// resource.group/name in a Namespace and namespace/name (or name) for
	// custom resources.
	Names []string
	// More is true when there are more blockers than Names.
	More bool
}

// Any reports whether anything blocks the delete.
func (b Blocked) Any() bool { return len(b.Names) > 0 }

// String lists the names, "and more" when there are more.
func (b Blocked) String() string {
	s := strings.Join(b.Names, ", ")
	if b.More {
		s += " and more"
	}
	return s
}

// Blockers returns the member objects that deleting obj would remove and
// that Tether does not own, for obj a Namespace (the objects in it) or a
// CustomResourceDefinition (its custom resources); nothing for any other
// kind. obj may be the manifest or the live object.
//
// Owned means labelled karmada.io/managed=true (by any Work). Not blockers
// either, because they exist only because of something else:
//   - objects with ownerReferences: the garbage collector removes them with
//     their owner, which is judged on its own (a managed Deployment's
//     ReplicaSets and Pods, a Service's EndpointSlices);
//   - objects already being deleted;
//   - Events (core and events.k8s.io) and Leases (coordination.k8s.io):
//     records and runtime state of what runs there, not desired state;
//   - what Kubernetes puts into every namespace: ServiceAccount "default",
//     ConfigMap "kube-root-ca.crt", and Secrets holding a ServiceAccount's
//     token (annotation kubernetes.io/service-account.name);
//   - Endpoints named after a Service in the namespace (the Service is
//     judged instead);
//   - resources that cannot be listed or deleted (metrics, reviews).
//
// Discovery or list failures are errors: what cannot be seen cannot be
// cleared, as the namespace controller itself waits on failed discovery.
func Blockers(ctx context.Context, md metadata.Interface, disc discovery.DiscoveryInterface, obj *unstructured.Unstructured) (Blocked, error) {
	gvk := obj.GroupVersionKind()
	s := &scan{md: md}
	switch {
	case gvk.Group == "" && gvk.Kind == "Namespace":
		return s.namespace(ctx, disc, obj.GetName())
	case gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition":
		return s.customResources(ctx, obj)
	}
	return Blocked{}, nil
}

// scan collects blockers.
type scan struct {
	md       metadata.Interface
	found    Blocked
	services map[string]bool // Services of the namespace scanned, by name
}

func (s *scan) full() bool { return s.found.More }

func (s *scan) add(name string) {
	if len(s.found.Names) < MaxBlockerNames {
		s.found.Names = append(s.found.Names, name)
	} else {
		s.found.More = true
	}
}

var (
	unmanaged      = workv1alpha1.ManagedLabel + "!=" + workv1alpha1.ManagedLabelValue
	servicesGVR    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	skippedWhole   = map[schema.GroupResource]bool{{Resource: "events"}: true, {Group: "events.k8s.io", Resource: "events"}: true, {Group: "coordination.k8s.io", Resource: "leases"}: true}
	defaultObjects = map[schema.GroupResource]string{{Resource: "serviceaccounts"}: "default", {Resource: "configmaps"}: "kube-root-ca.crt"}
)

// namespace scans every namespaced, listable, deletable resource in ns.
func (s *scan) namespace(ctx context.Context, disc discovery.DiscoveryInterface, ns string) (Blocked, error) {
	lists, err := discovery.ServerPreferredNamespacedResources(disc)
	if err != nil {
		return Blocked{}, fmt.Errorf("discover the member's resources to see what deleting Namespace %s would remove: %w", ns, err)
	}
	if err := s.loadServices(ctx, ns); err != nil {
		return Blocked{}, err
	}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			gvr := gv.WithResource(r.Name)
			if strings.Contains(r.Name, "/") || skippedWhole[gvr.GroupResource()] || !listableAndDeletable(r.Verbs) {
				continue
			}
			if err := s.list(ctx, gvr, ns, func(o *metav1.PartialObjectMetadata) string { return s.namespacedBlocker(gvr, o) }); err != nil {
				return Blocked{}, err
			}
			if s.full() {
				return s.found, nil
			}
		}
	}
	return s.found, nil
}

// namespacedBlocker names o when it blocks a delete of its namespace, or
// returns "".
func (s *scan) namespacedBlocker(gvr schema.GroupVersionResource, o *metav1.PartialObjectMetadata) string {
	gr := gvr.GroupResource()
	switch {
	case defaultObjects[gr] == o.Name && defaultObjects[gr] != "":
		return ""
	case gr == schema.GroupResource{Resource: "secrets"} && o.Annotations["kubernetes.io/service-account.name"] != "":
		return ""
	case gr == schema.GroupResource{Resource: "endpoints"} && s.services[o.Name]:
		return ""
	}
	return gr.String() + "/" + o.Name
}

// loadServices records the names of the namespace's Services.
func (s *scan) loadServices(ctx context.Context, ns string) error {
	s.services = map[string]bool{}
	opts := metav1.ListOptions{Limit: 500}
	for {
		l, err := s.md.Resource(servicesGVR).Namespace(ns).List(ctx, opts)
		if err != nil {
			return fmt.Errorf("list the Services of namespace %s on the member: %w", ns, err)
		}
		for _, o := range l.Items {
			s.services[o.Name] = true
		}
		if opts.Continue = l.Continue; opts.Continue == "" {
			return nil
		}
	}
}

// customResources scans the custom resources of a CRD, in all namespaces.
func (s *scan) customResources(ctx context.Context, crd *unstructured.Unstructured) (Blocked, error) {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	version := servedVersion(crd)
	if group == "" || plural == "" || version == "" {
		return Blocked{}, fmt.Errorf("CustomResourceDefinition %s has no spec.group, spec.names.plural or served version: cannot see its custom resources", crd.GetName())
	}
	gvr := schema.GroupVersionResource{Group: group, Version: version, Resource: plural}
	err := s.list(ctx, gvr, "", func(o *metav1.PartialObjectMetadata) string {
		if o.Namespace != "" {
			return o.Namespace + "/" + o.Name
		}
		return o.Name
	})
	if apierrors.IsNotFound(err) {
		return Blocked{}, nil // not served (any more): there are no custom resources
	}
	return s.found, err
}

// servedVersion is the CRD's storage version if served, else its first
// served version.
func servedVersion(crd *unstructured.Unstructured) string {
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	first := ""
	for _, v := range versions {
		m, _ := v.(map[string]any)
		name, _ := m["name"].(string)
		served, _ := m["served"].(bool)
		if !served || name == "" {
			continue
		}
		if storage, _ := m["storage"].(bool); storage {
			return name
		}
		if first == "" {
			first = name
		}
	}
	return first
}

// list pages through the unmanaged objects of gvr in ns ("" for all), and
// adds those that block, as named by blocker ("" for not a blocker), until
// the scan is full.
func (s *scan) list(ctx context.Context, gvr schema.GroupVersionResource, ns string, blocker func(*metav1.PartialObjectMetadata) string) error {
	opts := metav1.ListOptions{LabelSelector: unmanaged, Limit: blockerPage}
	for {
		var l *metav1.PartialObjectMetadataList
		var err error
		if ns == "" {
			l, err = s.md.Resource(gvr).List(ctx, opts)
		} else {
			l, err = s.md.Resource(gvr).Namespace(ns).List(ctx, opts)
		}
		if err != nil {
			if ns == "" {
				return fmt.Errorf("list %s on the member: %w", gvr.GroupResource(), err)
			}
			return fmt.Errorf("list %s in namespace %s on the member: %w", gvr.GroupResource(), ns, err)
		}
		for i := range l.Items {
			o := &l.Items[i]
			if o.DeletionTimestamp != nil || len(o.OwnerReferences) > 0 {
				continue
			}
			if name := blocker(o); name != "" {
				s.add(name)
			}
			if s.full() {
				return nil
			}
		}
		if opts.Continue = l.Continue; opts.Continue == "" {
			return nil
		}
	}
}

func listableAndDeletable(verbs metav1.Verbs) bool {
	return slices.Contains(verbs, "list") && (slices.Contains(verbs, "delete") || slices.Contains(verbs, "deletecollection"))
}

// CascadeCheck is Blockers as the releaser asks it (release.BlockersFunc):
// the names of what a Namespace or CRD delete would take with it.
func CascadeCheck(md metadata.Interface, disc discovery.DiscoveryInterface) release.BlockersFunc {
	return func(ctx context.Context, live *unstructured.Unstructured) ([]string, error) {
		b, err := Blockers(ctx, md, disc, live)
		if b.More {
			return append(b.Names, "and more"), err
		}
		return b.Names, err
	}
}
