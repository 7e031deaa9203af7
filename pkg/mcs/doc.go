// Package mcs reports a member cluster's EndpointSlices to the hub for
// multi-cluster services, as karmada-agent's serviceExport and
// endpointsliceCollect controllers do.
//
// A Service is reported when it is exported: a ServiceExport
// (multicluster.x-k8s.io/v1alpha1) of the same namespace and name exists in
// the member (serviceExport), or the hub holds a Work in the cluster's
// execution namespace that carries a MultiClusterService for it
// (endpointsliceCollect). Each of the Service's EndpointSlices (label
// kubernetes.io/service-name) becomes one Work in karmada-es-<cluster>, named,
// labelled and shaped as karmada-agent writes it, with suspendDispatching set:
// the control plane reads it to build the ServiceImport's derived
// EndpointSlices and never dispatches it. Slices that Karmada itself
// dispatched into the member are never reported.
//
// The controller is event-driven: member informers (EndpointSlices,
// ServiceExports) and the hub informer of the execution namespace's Works
// (the Work controller's, shared; of its Works the reported ones and the
// MultiClusterService ones count) enqueue the key of the EndpointSlice concerned,
// and the reconcile of one key writes that slice's Work when it differs from
// what it should be, and removes it when nothing exports the slice any more.
// A burst of changes to one slice is folded into one write. The caches are
// synced before the first reconcile, so a Work reported earlier whose slice
// or export vanished while the agent was down is removed at start.
//
// Finalizers follow the wire contract: on a Karmada control plane the agent
// adds karmada.io/endpointslice-controller (ServiceExport) or
// karmada.io/mcs-endpointslice-dispatch-controller (MultiClusterService) and
// the control plane removes it after cleaning up the derived slices. On a hub
// that runs no such controller the agent adds none, and removes them from the
// Works it deletes, so that a deletion never hangs.
package mcs
