// Package hub is the hub side of registration: preparing a plain Kubernetes
// cluster as a hub (hub init), bootstrap tokens (optionally bound to one
// cluster), the least-privilege RBAC and execution namespace each registered
// cluster gets, and Tether's CSR approver, which applies Karmada's approval
// rules hardened so that a bootstrap token can obtain neither a
// cluster-admin identity, nor another cluster's identity, nor the identity
// of a cluster whose agent is alive, that no certificate outlives a lifetime
// cap, and which creates the cluster's RBAC when it approves its first
// certificate.
package hub
