package sync

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

var everything = labels.Everything()

// objectRef identifies a member object independently of its API version.
type objectRef struct {
	Group, Kind, Namespace, Name string
	Version                      string // for mapping only; not part of identity comparisons
}

func (r objectRef) id() objectRef { r.Version = ""; return r }

func (r objectRef) String() string {
	if r.Namespace == "" {
		return fmt.Sprintf("%s/%s", r.Kind, r.Name)
	}
	return fmt.Sprintf("%s/%s/%s", r.Kind, r.Namespace, r.Name)
}

func refOf(obj *unstructured.Unstructured) objectRef {
	gvk := obj.GroupVersionKind()
	return objectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// decoded is one manifest of a Work: the object, or why it is unusable.
type decoded struct {
	ordinal int
	obj     *unstructured.Unstructured
	err     error
}

// decodeManifests parses every manifest; a bad one gets an error of its own.
func decodeManifests(work *workv1alpha1.Work) []decoded {
	out := make([]decoded, len(work.Spec.Workload.Manifests))
	for i, m := range work.Spec.Workload.Manifests {
		out[i].ordinal = i
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(m.Raw); err != nil {
			out[i].err = fmt.Errorf("manifest %d is not a valid Kubernetes object: %w", i, err)
			continue
		}
		if obj.GetName() == "" {
			out[i].err = fmt.Errorf("manifest %d (%s) has no metadata.name", i, obj.GetKind())
			continue
		}
		out[i].obj = obj
	}
	return out
}

// stamp marks a desired object as Karmada-managed and points it back to its
// Work, keeping the labels and annotations the hub put on the manifest. With
// the retain-replicas label it leaves spec.replicas to the member (an HPA),
// so Tether never owns that field.
func stamp(obj *unstructured.Unstructured, work *workv1alpha1.Work) {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[workv1alpha1.ManagedLabel] = workv1alpha1.ManagedLabelValue
	obj.SetLabels(l)
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[workv1alpha1.WorkNameAnnotation] = work.Name
	a[workv1alpha1.WorkNamespaceAnnotation] = work.Namespace
	obj.SetAnnotations(a)
	if l[workv1alpha1.RetainReplicasLabel] == "true" {
		unstructured.RemoveNestedField(obj.Object, "spec", "replicas")
	}
}

// managed reports whether a live object carries Karmada's ownership label.
func managed(live *unstructured.Unstructured) bool {
	return live.GetLabels()[workv1alpha1.ManagedLabel] == workv1alpha1.ManagedLabelValue
}

// ownedBy reports whether a live object is managed and belongs to the Work.
func ownedBy(live *unstructured.Unstructured, work *workv1alpha1.Work) bool {
	a := live.GetAnnotations()
	return managed(live) && a[workv1alpha1.WorkNamespaceAnnotation] == work.Namespace && a[workv1alpha1.WorkNameAnnotation] == work.Name
}

// takeOver allows applying over an existing object that is not managed only
// when the manifest asks for it; the refusal says what to do.
func takeOver(desired, live *unstructured.Unstructured) error {
	if desired.GetAnnotations()[workv1alpha1.ConflictResolutionAnnotation] == workv1alpha1.ConflictResolutionOverwrite {
		return nil
	}
	how := "has no " + workv1alpha1.ConflictResolutionAnnotation + " annotation"
	if v, ok := desired.GetAnnotations()[workv1alpha1.ConflictResolutionAnnotation]; ok {
		how = fmt.Sprintf("sets %s=%q", workv1alpha1.ConflictResolutionAnnotation, v)
	}
	return fmt.Errorf("it already exists in the member cluster and is not managed by Karmada (no %s=true label), and the manifest %s; "+
		"set the annotation %s=%s on the manifest to take it over, or remove the existing object",
		workv1alpha1.ManagedLabel, how, workv1alpha1.ConflictResolutionAnnotation, workv1alpha1.ConflictResolutionOverwrite)
}

// refsFromStatus lists the objects a Work's status says were applied; after
// a restart this is how manifests removed meanwhile are found.
func refsFromStatus(work *workv1alpha1.Work) []objectRef {
	var out []objectRef
	for _, ms := range work.Status.ManifestStatuses {
		id := ms.Identifier
		if id.Kind == "" || id.Name == "" || id.Version == "" {
			continue
		}
		out = append(out, objectRef{Group: id.Group, Version: id.Version, Kind: id.Kind, Namespace: id.Namespace, Name: id.Name})
	}
	return out
}

func (r objectRef) gvk() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}
