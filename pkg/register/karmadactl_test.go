package register_test

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
	"github.com/tether-io/tether/test/testenv"
)

// karmadactlUnregisterRBAC is what 'karmadactl unregister --karmada-config'
// deletes of a cluster's hub RBAC, by karmadactl's own names (written out
// here, not taken from package hub, so that a rename there fails the test).
func karmadactlUnregisterRBAC(cluster, clusterNamespace string) []runtime.Object {
	name := "system:karmada:" + cluster + ":agent"
	meta := func(name, ns string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: ns} }
	tm := func(kind string) metav1.TypeMeta {
		return metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: kind}
	}
	out := []runtime.Object{
		&rbacv1.ClusterRole{TypeMeta: tm("ClusterRole"), ObjectMeta: meta(name, "")},
		&rbacv1.ClusterRoleBinding{TypeMeta: tm("ClusterRoleBinding"), ObjectMeta: meta(name, "")},
	}
	for _, r := range []struct{ ns, name string }{{clusterNamespace, name + "-secret"}, {"karmada-es-" + cluster, name + "-work"}} {
		out = append(out, &rbacv1.Role{TypeMeta: tm("Role"), ObjectMeta: meta(r.name, r.ns)},
			&rbacv1.RoleBinding{TypeMeta: tm("RoleBinding"), ObjectMeta: meta(r.name, r.ns)})
	}
	return out
}

// TestKarmadactlUnregisterLeavesNoHubRBAC grants the hub RBAC that
// Tether's register (and its approver) grant, checks with the agent's
// identity that it keeps its heartbeat Lease, deletes what karmadactl
// unregister deletes, and finds no RBAC object of the cluster left: with the
// default cluster namespace and with another one.
func TestKarmadactlUnregisterLeavesNoHubRBAC(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hubObjs, err := objects.NewClient(env.Hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ cluster, clusterNamespace string }{
		{"kctl-default", clusterv1alpha1.DefaultClusterNamespace},
		{"kctl-own-ns", "kctl-secrets"},
	} {
		t.Run(tc.cluster, func(t *testing.T) {
			access := hub.ClusterAccess{Cluster: tc.cluster, ClusterNamespace: tc.clusterNamespace}
			if err := hubObjs.Apply(ctx, append(access.SharedNamespaces(), access.Objects()...)...); err != nil {
				t.Fatal(err)
			}
			assertLeaseGranted(t, ctx, env, tc.cluster)

			deleted, err := hubObjs.Delete(ctx, karmadactlUnregisterRBAC(tc.cluster, tc.clusterNamespace)...)
			if err != nil || len(deleted) != 6 {
				t.Fatalf("karmadactl's deletions: deleted %s, %v; want all 6 objects to exist", objects.Refs(deleted), err)
			}
			left := clusterRBAC(t, ctx, env, tc.cluster)
			if len(left) > 0 {
				t.Fatalf("after karmadactl unregister's deletions the hub still has RBAC of %s: %v", tc.cluster, left)
			}
		})
	}
}

// assertLeaseGranted: the agent creates and renews its heartbeat Lease.
func assertLeaseGranted(t *testing.T, ctx context.Context, env *testenv.Env, cluster string) {
	t.Helper()
	cfg, err := env.Hub.Identity(clusterv1alpha1.AgentUser(cluster), clusterv1alpha1.AgentGroup)
	if err != nil {
		t.Fatal(err)
	}
	leases := kubernetes.NewForConfigOrDie(cfg).CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace)
	l, err := leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: cluster},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(cluster), LeaseDurationSeconds: ptr.To[int32](40)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the agent cannot create its Lease: %v", err)
	}
	l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("the agent cannot renew its Lease: %v", err)
	}
	// The agent never deletes its Lease (nor may it); clean up as the admin.
	if err := kubernetes.NewForConfigOrDie(env.Hub.Config).CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Delete(ctx, cluster, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete the Lease: %v", err)
	}
}

// clusterRBAC lists every RBAC object on the hub labelled as the cluster's.
func clusterRBAC(t *testing.T, ctx context.Context, env *testenv.Env, cluster string) []string {
	t.Helper()
	rbac := kubernetes.NewForConfigOrDie(env.Hub.Config).RbacV1()
	sel := metav1.ListOptions{LabelSelector: bootstrap.ClusterLabel + "=" + cluster}
	var out []string
	roles, err := rbac.Roles("").List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Items {
		out = append(out, "Role "+r.Namespace+"/"+r.Name)
	}
	bindings, err := rbac.RoleBindings("").List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range bindings.Items {
		out = append(out, "RoleBinding "+r.Namespace+"/"+r.Name)
	}
	crs, err := rbac.ClusterRoles().List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range crs.Items {
		out = append(out, "ClusterRole "+r.Name)
	}
	crbs, err := rbac.ClusterRoleBindings().List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range crbs.Items {
		out = append(out, "ClusterRoleBinding "+r.Name)
	}
	return out
}
