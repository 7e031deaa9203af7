package mcs

import (
	"fmt"
	"slices"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// serverFields are the metadata fields the apiserver fills in, left out of
// a reported manifest as Karmada's control plane leaves them out of every
// manifest it writes.
var serverFields = []string{"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
	"managedFields", "resourceVersion", "selfLink", "uid", "ownerReferences", "finalizers"}

// sliceManifest is the manifest of the Work namespace/workName that reports
// slice, as karmada-agent writes it: the slice without what the apiserver
// filled in, labelled karmada.io/managed, annotated with its UID and its
// Work, the Work's permanent ID when it has one, and the lists of its label
// and annotation keys.
func sliceManifest(slice *discoveryv1.EndpointSlice, namespace, workName, permanentID string) (*unstructured.Unstructured, error) {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(slice)
	if err != nil {
		return nil, fmt.Errorf("convert EndpointSlice %s/%s: %w", slice.Namespace, slice.Name, err)
	}
	obj := &unstructured.Unstructured{Object: raw}
	obj.SetAPIVersion(endpointSliceGVK.GroupVersion().String())
	obj.SetKind(endpointSliceGVK.Kind)
	setKey(obj.SetLabels, obj.GetLabels(), workv1alpha1.ManagedLabel, workv1alpha1.ManagedLabelValue)
	annotations := obj.GetAnnotations()
	setKey(obj.SetAnnotations, annotations, workv1alpha1.ResourceTemplateUIDAnnotation, string(slice.UID))
	setKey(obj.SetAnnotations, obj.GetAnnotations(), workv1alpha1.WorkNameAnnotation, workName)
	setKey(obj.SetAnnotations, obj.GetAnnotations(), workv1alpha1.WorkNamespaceAnnotation, namespace)
	for _, f := range serverFields {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(obj.Object, "status")
	recordKeys(obj, permanentID)
	return obj, nil
}

// recordKeys records the manifest's annotation keys, adds the Work's
// permanent ID label, then records its label keys, in that order (the
// label list includes the ID, the annotation list names both lists).
func recordKeys(obj *unstructured.Unstructured, permanentID string) {
	annotations := obj.GetAnnotations()
	keys := []string{workv1alpha1.ManagedAnnotationsAnnotation, workv1alpha1.ManagedLabelsAnnotation}
	for k := range annotations {
		if k != workv1alpha1.ManagedAnnotationsAnnotation && k != workv1alpha1.ManagedLabelsAnnotation {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	setKey(obj.SetAnnotations, annotations, workv1alpha1.ManagedAnnotationsAnnotation, strings.Join(keys, ","))
	if permanentID != "" {
		setKey(obj.SetLabels, obj.GetLabels(), workv1alpha1.WorkPermanentIDLabel, permanentID)
	}
	var labels []string
	for k := range obj.GetLabels() {
		labels = append(labels, k)
	}
	slices.Sort(labels)
	setKey(obj.SetAnnotations, obj.GetAnnotations(), workv1alpha1.ManagedLabelsAnnotation, strings.Join(labels, ","))
}

// setKey sets key to value in m (a copy when m is nil) and stores it with set.
func setKey(set func(map[string]string), m map[string]string, key, value string) {
	if m == nil {
		m = map[string]string{}
	}
	m[key] = value
	set(m)
}

// managedByKarmada reports whether a member slice was written by Karmada
// (dispatched from another cluster, or derived by the control plane).
func managedByKarmada(slice *discoveryv1.EndpointSlice) bool {
	return slices.Contains(karmadaSliceManagers, slice.Labels[discoveryv1.LabelManagedBy])
}
