// Package aggregate reads a hub the way Karmada's control plane does, for
// hubs that have no control plane: it groups the manifests of Works from all
// execution namespaces (karmada-es-<cluster>) by resource and aggregates each
// resource across clusters (docs/karmada-compatibility.md, "Aggregation on
// a plain hub").
//
// It is a pure library: no clients, no I/O. Files by operation:
//
//   - resource.go: Works, the grouping. Per cluster an Item exactly like
//     Karmada's AggregatedStatusItem (applied from the Work's Applied
//     condition, then status and health from the first manifestStatus whose
//     identifier matches the manifest), sorted by cluster; FullyApplied when
//     every cluster that has the resource applied it.
//   - kinds.go, phases.go, jobs.go, ingress.go: the per-kind aggregation of
//     the reflected statuses, one table keyed by GroupVersionKind with the
//     kinds Karmada aggregates natively (Deployment, ReplicaSet, DaemonSet,
//     StatefulSet, Service, Ingress, Job, CronJob, Pod, PersistentVolume,
//     PersistentVolumeClaim, PodDisruptionBudget, autoscaling/v2
//     HorizontalPodAutoscaler). Any other kind has no aggregated status, as
//     on Karmada; its per-cluster statuses are still reported.
//   - line.go: the one-line human summary,
//     "default/nginx  2/2 ready  (member1 1/1 Healthy, member2 1/1 Healthy)".
//
// Where a plain hub has nothing Karmada reads, the view differs, on purpose:
//
//   - There is no resource template, so the aggregated status holds only the
//     fields Karmada computes from members: no observedGeneration for the
//     workload kinds, and a Job is aggregated even when it has finished.
//     Job conditions carry no timestamps, so the output is stable.
//   - The clusters of a resource are those that have a Work for it (there is
//     no binding to say where it was scheduled).
//   - A manifest without metadata.namespace matches a manifestStatus of any
//     namespace (Tether's agent reports the live object's namespace there;
//     Karmada's control plane never writes such manifests).
//   - A manifestStatus without health reads as Unknown.
//   - Ready counts (Replicas) are not Karmada's: ready replicas against the
//     replicas the manifests ask for, as kubectl's READY column shows them.
package aggregate
