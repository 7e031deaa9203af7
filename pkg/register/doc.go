// Package register joins a member cluster to a hub and removes it again:
// the member side of 'tether-agent register' (preflight, discovery and
// certificates through pkg/bootstrap, the hub RBAC on a Karmada control
// plane, the member objects and the agent Deployment, the rollout wait,
// rollback on failure) and of 'tether-agent unregister'.
//
// Two kinds of hub are supported. On a Karmada control plane the hub RBAC of
// a cluster comes from Karmada's rbac-generator identity, because that is
// the only path the plane offers; Tether asks for that certificate with the
// shortest lifetime the apiserver allows and drops it afterwards. On a hub
// prepared by 'tether-agent hub init' (marked by kube-public/tether-hub-info)
// Tether's approver creates the cluster's RBAC when it approves the agent's
// first certificate, and no identity beyond the agent's is ever issued.
package register
