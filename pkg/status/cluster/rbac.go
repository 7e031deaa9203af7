package cluster

import (
	rbacv1 "k8s.io/api/rbac/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// HubRules are the hub permissions an agent needs, for a ClusterRole and for
// Roles in given namespaces.
type HubRules struct {
	ClusterWide []rbacv1.PolicyRule
	Namespaced  map[string][]rbacv1.PolicyRule
}

// AgentHubRules is the least-privilege hub RBAC of the agent of cluster for
// everything in this package: its own Cluster, its status, its Lease, and,
// when credentialsNamespace is not empty, its credentials Secrets there
// (<C> and <C>-impersonator).
// The status tests (test/e2e/status) run with it. Registration grants a
// larger set, which also covers Works, policies, CSRs and Events
// (pkg/register/hub).
func AgentHubRules(cluster, credentialsNamespace string) HubRules {
	own := []string{cluster}
	rules := HubRules{
		ClusterWide: []rbacv1.PolicyRule{
			{APIGroups: []string{clusterv1alpha1.GroupName}, Resources: []string{"clusters"}, ResourceNames: own, Verbs: []string{"get", "list", "watch", "patch"}},
			{APIGroups: []string{clusterv1alpha1.GroupName}, Resources: []string{"clusters"}, Verbs: []string{"create"}},
			{APIGroups: []string{clusterv1alpha1.GroupName}, Resources: []string{"clusters/status"}, ResourceNames: own, Verbs: []string{"patch"}},
		},
		Namespaced: map[string][]rbacv1.PolicyRule{clusterv1alpha1.LeaseNamespace: {
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: own, Verbs: []string{"get", "update"}},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
		}},
	}
	if credentialsNamespace != "" {
		rules.Namespaced[credentialsNamespace] = append(rules.Namespaced[credentialsNamespace],
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{cluster, cluster + "-impersonator"},
				Verbs: []string{"get", "patch"}},
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create"}},
		)
	}
	return rules
}
