package override

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Marks that Karmada's control-plane controllers put on the Works they
// write, besides the binding marks in pkg/apis/work/v1alpha1. The agent
// only reads them to recognise those Works.
const (
	// FederatedResourceQuotaNamespaceLabel and FederatedResourceQuotaNameLabel
	// name the FederatedResourceQuota a ResourceQuota Work comes from
	// (federated-resource-quota sync controller).
	FederatedResourceQuotaNamespaceLabel = "federatedresourcequota.karmada.io/namespace"
	FederatedResourceQuotaNameLabel      = "federatedresourcequota.karmada.io/name"
	// EndpointSliceManagedByLabel names the controllers that reported an
	// EndpointSlice Work ("ServiceExport", "MultiClusterService", or both
	// joined by a dot); EndpointSliceNamespaceLabel and
	// EndpointSliceNameLabel name the Service of a ServiceExport's slice.
	EndpointSliceManagedByLabel = "endpointslice.karmada.io/managed-by"
	EndpointSliceNamespaceLabel = "endpointslice.karmada.io/namespace"
	EndpointSliceNameLabel      = "endpointslice.karmada.io/name"
	// EndpointSliceProvisionClusterAnnotation names the cluster an
	// EndpointSlice Work dispatched to a consumer cluster came from.
	EndpointSliceProvisionClusterAnnotation = "endpointslice.karmada.io/provision-cluster"
	// MultiClusterServiceNamespaceLabel and MultiClusterServiceNameLabel name
	// the MultiClusterService of a Work that carries it, or one of its
	// EndpointSlices; MultiClusterServicePermanentIDLabel is its id.
	MultiClusterServiceNamespaceLabel   = "multiclusterservice.karmada.io/namespace"
	MultiClusterServiceNameLabel        = "multiclusterservice.karmada.io/name"
	MultiClusterServicePermanentIDLabel = "multiclusterservice.karmada.io/permanent-id"
)

// producer is one control-plane writer of Works and the marks, any one of
// which identifies its Works.
type producer struct {
	name        string
	labels      []string
	annotations []string
	// owner, when set, is the controller owner reference's apiVersion and kind.
	ownerAPIVersion, ownerKind string
}

// producers lists the Karmada control-plane controllers that write Works and
// how their Works are recognised:
//
//   - the binding controllers write a Work per ResourceBinding or
//     ClusterResourceBinding and target cluster, after running the
//     OverridePolicies themselves: labels resourcebinding.karmada.io/permanent-id
//     or clusterresourcebinding.karmada.io/permanent-id, annotations
//     resourcebinding.karmada.io/name and namespace or
//     clusterresourcebinding.karmada.io/name, and, when an override applied,
//     policy.karmada.io/applied-overrides or applied-cluster-overrides;
//   - the namespace sync controller writes a Namespace Work owned
//     (controller reference) by the hub's v1 Namespace, after running the
//     ClusterOverridePolicies itself (it records them in
//     applied-cluster-overrides, when any applied);
//   - the federated-resource-quota sync controller writes a ResourceQuota
//     Work per static assignment, labelled
//     federatedresourcequota.karmada.io/namespace and name, never overridden;
//   - the unified-auth controller writes the karmada-impersonator
//     ClusterRole and ClusterRoleBinding Works owned (controller reference)
//     by the cluster.karmada.io/v1alpha1 Cluster, never overridden;
//   - the ServiceExport and MultiClusterService controllers write
//     EndpointSlice Works (labels endpointslice.karmada.io/managed-by,
//     endpointslice.karmada.io/namespace and name, or
//     multiclusterservice.karmada.io/namespace and name, and annotation
//     endpointslice.karmada.io/provision-cluster on a dispatched slice) and
//     MultiClusterService Works (multiclusterservice.karmada.io/permanent-id),
//     never overridden.
var producers = []producer{
	{name: "binding controller",
		labels:      []string{workv1alpha1.ResourceBindingPermanentIDLabel, workv1alpha1.ClusterResourceBindingPermanentIDLabel},
		annotations: []string{workv1alpha1.ResourceBindingNameAnnotation, workv1alpha1.ClusterResourceBindingNameAnnotation}},
	{name: "override manager",
		annotations: []string{policyv1alpha1.AppliedOverrides, policyv1alpha1.AppliedClusterOverrides}},
	{name: "namespace sync controller", ownerAPIVersion: "v1", ownerKind: "Namespace"},
	{name: "federated-resource-quota sync controller",
		labels: []string{FederatedResourceQuotaNamespaceLabel, FederatedResourceQuotaNameLabel}},
	{name: "unified-auth controller", ownerAPIVersion: "cluster.karmada.io/v1alpha1", ownerKind: "Cluster"},
	{name: "EndpointSlice collection (ServiceExport, MultiClusterService)",
		labels:      []string{EndpointSliceManagedByLabel, EndpointSliceNamespaceLabel, EndpointSliceNameLabel},
		annotations: []string{EndpointSliceProvisionClusterAnnotation}},
	{name: "MultiClusterService controller",
		labels: []string{MultiClusterServicePermanentIDLabel, MultiClusterServiceNamespaceLabel, MultiClusterServiceNameLabel}},
}

// ControlPlaneProducer reports which Karmada control-plane controller wrote
// work, and the mark that says so, or "" for a Work none of them wrote.
// Such a Work arrives with the control plane's overrides already applied, or
// is one the control plane never overrides; rendering it at the edge would
// apply an override twice or where Karmada applies none.
func ControlPlaneProducer(work metav1.Object) (name, mark string) {
	for _, p := range producers {
		for _, k := range p.labels {
			if _, ok := work.GetLabels()[k]; ok {
				return p.name, "label " + k
			}
		}
		for _, k := range p.annotations {
			if _, ok := work.GetAnnotations()[k]; ok {
				return p.name, "annotation " + k
			}
		}
		if p.ownerKind == "" {
			continue
		}
		for _, ref := range work.GetOwnerReferences() {
			if ref.Controller != nil && *ref.Controller && ref.APIVersion == p.ownerAPIVersion && ref.Kind == p.ownerKind {
				return p.name, fmt.Sprintf("controller owner %s %s", ref.Kind, ref.Name)
			}
		}
	}
	return "", ""
}
