package mcs

import (
	"fmt"
	"hash/fnv"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
)

// Labels of the reported Works, as the control plane selects them.
const (
	// ServiceNamespaceLabel and ServiceNameLabel name the exported Service
	// of a Work reported for a ServiceExport.
	ServiceNamespaceLabel = "endpointslice.karmada.io/namespace"
	ServiceNameLabel      = "endpointslice.karmada.io/name"
	// MCSNamespaceLabel and MCSNameLabel name the Service of a Work
	// reported for a MultiClusterService; the MultiClusterService Works the
	// control plane writes carry them too.
	MCSNamespaceLabel = "multiclusterservice.karmada.io/namespace"
	MCSNameLabel      = "multiclusterservice.karmada.io/name"
	// ManagedByLabel lists the sources of a reported Work, joined by ".".
	ManagedByLabel = "endpointslice.karmada.io/managed-by"
)

// Finalizers of the reported Works, removed by the control plane once it
// cleaned up what it derived from them.
const (
	ServiceExportFinalizer = "karmada.io/endpointslice-controller"
	MCSFinalizer           = "karmada.io/mcs-endpointslice-dispatch-controller"
)

// Values of endpointslice.kubernetes.io/managed-by on the slices Karmada
// writes into members; such slices are never reported.
var karmadaSliceManagers = []string{"endpointslice-dispatch-controller.karmada.io", "endpointslice-controller.karmada.io"}

// Kinds and groups.
var (
	// ServiceExportResource is the member resource that exports a Service.
	ServiceExportResource = mcsv1alpha1.SchemeGroupVersion.WithResource(mcsv1alpha1.ServiceExportPluralName)
	// MultiClusterServiceKind is the manifest kind of the Works that ask
	// for a MultiClusterService's slices.
	MultiClusterServiceKind = schema.GroupKind{Group: "networking.karmada.io", Kind: "MultiClusterService"}
	endpointSliceGVK        = discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice")
)

// Source is what a Work is reported for; its value is the one the
// managed-by label lists.
type Source string

// The two sources.
const (
	FromServiceExport Source = "ServiceExport"
	FromMCS           Source = "MultiClusterService"
)

// WorkName is the name karmada-agent gives the Work of an object: the
// object's name (lower case, ':' as '.') and a hash of namespace, name and
// kind, so the control plane finds the same Work whoever reported it.
func WorkName(kind, name, namespace string) string {
	name = strings.ToLower(strings.ReplaceAll(name, ":", "."))
	full := strings.ToLower(name + "-" + kind)
	if namespace != "" {
		full = strings.ToLower(namespace + "-" + full)
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(full))
	return fmt.Sprintf("%s-%s", name, rand.SafeEncodeString(fmt.Sprint(h.Sum32())))
}

// sliceWorkName is the Work name of EndpointSlice namespace/name.
func sliceWorkName(namespace, name string) string {
	return WorkName(endpointSliceGVK.Kind, name, namespace)
}
