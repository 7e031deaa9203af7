package hub

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/hubaccess"
)

// ClaimAnnotation on a cluster's ClusterRoleBinding records who registered
// the cluster (the bootstrap token user); the approver refuses the cluster's
// identity to anyone else.
const ClaimAnnotation = "tether.io/registered-by"

// ClusterAccess is what the hub grants the agent of one cluster.
type ClusterAccess struct {
	// Cluster is the cluster name <C>.
	Cluster string
	// ClusterNamespace holds the credentials Secrets the agent reports
	// (--cluster-namespace, default karmada-cluster).
	ClusterNamespace string
	// RegisteredBy is recorded in ClaimAnnotation.
	RegisteredBy string
}

func (a ClusterAccess) defaults() ClusterAccess {
	if a.ClusterNamespace == "" {
		a.ClusterNamespace = clusterv1alpha1.DefaultClusterNamespace
	}
	return a
}

// AgentRoleName is the name of the cluster's ClusterRole and
// ClusterRoleBinding, Karmada's system:karmada:<C>:agent.
func AgentRoleName(cluster string) string { return "system:karmada:" + cluster + ":agent" }

// SharedNamespaces are the hub namespaces every cluster's objects live in.
// They are created when missing and never deleted by unregister.
func (a ClusterAccess) SharedNamespaces() []runtime.Object {
	a = a.defaults()
	names := []string{clusterv1alpha1.LeaseNamespace, a.ClusterNamespace}
	var out []runtime.Object
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, Namespace(n, nil))
		}
	}
	return out
}

// Objects are the cluster's own hub objects, in creation order: its
// execution namespace and the RBAC of its agent. Least privilege: the rules
// are those of every task the agent may do (hubaccess.Rules of
// hubaccess.AllTasks), so its Cluster (and status) by name, its Lease by
// name, its Works, their status and Events in its execution namespace only,
// read-only override policies and interpreter customizations, its
// credentials Secrets by name, CSR create/get for renewals. (Tether's agent
// elects its leader with a Lease in the member cluster, so the hub grants
// no leader-election Lease.)
//
// The RBAC objects are exactly those karmadactl registers, under its names
// (the ClusterRole and ClusterRoleBinding AgentRoleName, the Roles and
// RoleBindings <name>-secret in the cluster namespace and <name>-work in the
// execution namespace), so that 'karmadactl unregister' removes all of them.
// The heartbeat Lease rules live in the -secret Role when the Lease
// namespace is the cluster namespace (the default), else in the ClusterRole,
// still limited to the Lease named after the cluster.
func (a ClusterAccess) Objects() []runtime.Object {
	a = a.defaults()
	c := a.Cluster
	name := AgentRoleName(c)
	labels := map[string]string{workv1alpha1.SystemLabel: "true", bootstrap.ClusterLabel: c}
	var annotations map[string]string
	if a.RegisteredBy != "" {
		annotations = map[string]string{ClaimAnnotation: a.RegisteredBy}
	}
	meta := func(name, ns string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: annotations}
	}
	user := rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: clusterv1alpha1.AgentUser(c)}
	es := workv1alpha1.ExecutionNamespace(c)
	rules := a.rules()
	clusterRole := &rbacv1.ClusterRole{TypeMeta: typeMeta("ClusterRole"), ObjectMeta: meta(name, ""), Rules: rules[""]}
	out := []runtime.Object{
		Namespace(es, labels),
		clusterRole,
		&rbacv1.ClusterRoleBinding{TypeMeta: typeMeta("ClusterRoleBinding"), ObjectMeta: meta(name, ""),
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}, Subjects: []rbacv1.Subject{user}},
	}
	roles := []struct {
		ns, name string
		rules    []rbacv1.PolicyRule
	}{
		{a.ClusterNamespace, name + "-secret", rules[a.ClusterNamespace]},
		{es, name + "-work", rules[es]},
	}
	for _, r := range roles {
		out = append(out,
			&rbacv1.Role{TypeMeta: typeMeta("Role"), ObjectMeta: meta(r.name, r.ns), Rules: r.rules},
			&rbacv1.RoleBinding{TypeMeta: typeMeta("RoleBinding"), ObjectMeta: meta(r.name, r.ns),
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: r.name}, Subjects: []rbacv1.Subject{user}})
	}
	return out
}

// rules are the agent's rules by namespace of the Role that holds them:
// "" for the ClusterRole, the cluster namespace for the -secret Role, the
// execution namespace for the -work Role. Karmadactl's names leave no Role
// for another namespace, so its rules go to the ClusterRole (still limited
// by name where the permission is): the Lease's when the Lease namespace
// is not the cluster namespace, and the Events about the Cluster (in
// default).
func (a ClusterAccess) rules() map[string][]rbacv1.PolicyRule {
	out := hubaccess.ByNamespace(hubaccess.Rules(a.Cluster, a.ClusterNamespace, hubaccess.AllTasks()...))
	for _, ns := range slices.Sorted(maps.Keys(out)) {
		if ns != "" && ns != a.ClusterNamespace && ns != workv1alpha1.ExecutionNamespace(a.Cluster) {
			out[""] = append(out[""], out[ns]...)
			delete(out, ns)
		}
	}
	return out
}

// LegacyObjects are hub objects that registrations by earlier versions of
// Tether created and Objects no longer does (a Role and RoleBinding
// <name>-lease in the Lease namespace, which karmadactl does not know):
// unregister deletes them too.
func (a ClusterAccess) LegacyObjects() []runtime.Object {
	name := AgentRoleName(a.Cluster) + "-lease"
	meta := metav1.ObjectMeta{Name: name, Namespace: clusterv1alpha1.LeaseNamespace}
	return []runtime.Object{
		&rbacv1.Role{TypeMeta: typeMeta("Role"), ObjectMeta: meta},
		&rbacv1.RoleBinding{TypeMeta: typeMeta("RoleBinding"), ObjectMeta: meta},
	}
}

// Namespace is a namespace object with labels.
func Namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: kind}
}
