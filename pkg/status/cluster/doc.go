// Package cluster keeps the agent's Cluster object on the hub true: it joins
// the member (Join), heartbeats (Heartbeat) and reports the member's state in
// the Cluster's status (StatusController). What it keeps and changes
// relative to karmada-agent: docs/karmada-compatibility.md, "Cluster status";
// the loops: docs/architecture.md.
//
// # Wiring
//
// pkg/agent (run.go) builds one hub identity and one member client set and
// calls, in order:
//
//	res, err := cluster.Join(ctx, cluster.JoinConfig{Hub: hubKarmada, Member: member, Settings: s})
//	hb, err := cluster.NewHeartbeat(cluster.HeartbeatConfig{Hub: hubKube, Clusters: hubKarmada.ClusterV1alpha1().Clusters(),
//		ClusterName: s.Name, ClusterUID: res.Cluster.UID})
//	sc, err := cluster.NewStatusController(cluster.StatusConfig{ClusterName: s.Name, Hub: hubKarmada, Member: member})
//	go hb.Run(ctx); go sc.Run(ctx)
//
// StatusConfig.ExtraConditions and Kick let another part of the agent own a
// condition of the Cluster (the deletion guard's DeletesHeld:
// ExtraConditions returns guard.Condition(), Kick is guard.Changed()).
//
// Join fails with a *ClashError (IsClash) when the name or the ID is taken;
// that is fatal, not something to retry. Other errors are transient.
//
// # Hub permissions (least privilege)
//
// HubTasks lists what the agent needs on the hub (hubaccess.PreferredRules
// of them is the least it can run with), for its own cluster <C> only:
//
//   - cluster.karmada.io clusters: get, list, watch, patch with
//     resourceNames [<C>] (list and watch are authorized by name because the
//     StatusController watches with the field selector metadata.name=<C>),
//     and create (which RBAC cannot restrict by name);
//   - cluster.karmada.io clusters/status: patch with resourceNames [<C>];
//   - coordination.k8s.io leases in karmada-cluster: get, update with
//     resourceNames [<C>], and create; the namespace must exist;
//   - with Credentials only: secrets in the credentials namespace: get,
//     patch with resourceNames [<C>, <C>-impersonator], and create.
//
// Karmada's register grants clusters/status update but no patch, and no
// write of the Cluster itself, so karmada-agent's update of a changed region
// is refused with Forbidden. Tether patches the fields it owns instead of
// PUTting the whole object, and its register grants patch; under Karmada's
// grants the agent falls back to Update where update is granted
// (JoinConfig.Access, StatusConfig.UpdateStatus; package hubaccess).
//
// What such an identity cannot see: any other Cluster. Join therefore always
// detects a name clash (the Cluster of that name is readable whoever created
// it and carries its spec.id), but detects an ID clash (the same member
// joined under another name) only when the identity may list Clusters, as
// Karmada's register grants; JoinResult.IDChecked says which happened, and
// a least-privilege deployment must check ID uniqueness where the list
// right lives (registration, run with the bootstrap or admin identity).
//
// # Behaviour and deliberate differences from karmada-agent
//
//   - Join creates the Cluster with syncMode Pull, spec.id (the UID of the
//     member's kube-system namespace), apiEndpoint, provider, region, zones,
//     proxyURL and insecureSkipTLSVerification, or merge-patches those that
//     differ; empty optional settings leave the hub's value alone. A Cluster
//     with an empty spec.id (written by hand for this member) is adopted.
//     Member credentials are uploaded only when asked for (Credentials,
//     whose Upload the agent calls again on each token rotation; the
//     references are written once, with the other spec fields).
//   - Heartbeat renews Lease karmada-cluster/<C> (holder <C>, 40s, every
//     10s, owned by the Cluster) from the moment it runs, whatever the
//     member's health: the Lease says the agent lives, Ready says whether
//     the member is healthy. karmada-agent starts it only after the first
//     Ready observation. It stops when its context ends and leaves the
//     Lease to expire. As karmada-agent, it creates the Lease only while
//     the Cluster exists and is not being deleted (it reads the Cluster for
//     the owner reference first), so that once the Cluster is deleted the
//     garbage collector removes the Lease for good.
//   - StatusController does not wait for the karmada.io/cluster-controller
//     finalizer, which only Karmada's cluster controller adds: on a plain
//     Kubernetes hub it never comes, and the status is true either way. It
//     does stop reporting while the Cluster is being deleted.
//   - apiEnablements come from aggregated discovery with If-None-Match, so
//     an unchanged member costs two 304s per interval and no recomputation
//     (karmada-agent runs full discovery every 10s).
//   - Capacity is computed per pod, without terminating or finished pods,
//     over usable nodes only (package capacity), from
//     slimmed Node and Pod caches.
//   - The status is merge-patched only when it changed, with only the changed
//     fields, guarded by resourceVersion so foreign conditions (such as those
//     of Karmada's cluster controller) and remedyActions are preserved.
//
// # Hub request budget
//
// At rest the agent sends the hub one Lease update per renew interval (6 a
// minute), no status write, and re-opens the Cluster watch every 5 to 10
// minutes: about 6.2 requests a minute.
package cluster
