// Package capacity is the resource arithmetic behind a Cluster's
// status.nodeSummary and status.resourceSummary (docs/karmada-compatibility.md,
// "Cluster status"). It is a pure library.
//
// The member's Node and Pod caches hold Node and Pod, the slices of the API
// objects this arithmetic reads (NodeOf and PodOf build them, and they are
// what the informers' transforms store), so a member with 5,000 nodes and
// 20,000 pods costs a few megabytes. A Pod carries its effective request,
// computed once when it enters the cache with the same helper the scheduler
// and kubelet use (k8s.io/component-helpers/resource.PodRequests): the sum of
// the containers, raised per resource to what the init phase needs (the
// largest init container plus the restartable "sidecar" init containers
// started before it, KEP-753), pod-level requests where set, resources being
// resized in place (the larger of spec and status), plus spec.overhead.
//
// Summarize fixes karmada-agent's arithmetic:
//
//   - each pod's request is its own; Karmada shared one accumulator across
//     pods, so an init container was compared with the running total;
//   - terminating pods (deletionTimestamp set) are excluded, as are
//     finished pods (Succeeded, Failed);
//   - allocatable counts only nodes that can take pods (Ready and not
//     cordoned), and allocated counts only the pods bound to those nodes, so
//     allocatable − allocated − allocating, which is what Karmada's
//     scheduler estimates with, is capacity new replicas can really use;
//     nodeSummary still counts every node;
//   - allocatableModelings visits every usable node; Karmada stopped at the
//     first node without a free pod slot and dropped the rest.
//
// Quantities are serialized as Karmada does: cpu in DecimalSI millis,
// memory, ephemeral-storage and hugepages in BinarySI, anything else in
// DecimalSI. Zero amounts are left out, and an all-zero list is nil.
package capacity
