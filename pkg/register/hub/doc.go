// Package hub is the hub side of registration: preparing a plain Kubernetes
// cluster as a hub (hub init), the least-privilege RBAC and execution
// namespace each registered cluster gets, and Tether's CSR approver, which
// applies Karmada's approval rules hardened so that a bootstrap token can
// obtain neither a cluster-admin identity nor another cluster's identity,
// and creates the cluster's RBAC when it approves its first certificate.
package hub
