package karmadamember

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/karmadafixture"
)

// installHub creates what Karmada's control plane holds for the cluster:
// its namespaces, exactly the agent RBAC of the fixture (as o varies it),
// the Cluster as karmada-agent created it, and the Work with the status
// karmada-agent wrote.
func (r *Registered) installHub(ctx context.Context, t *testing.T, o Options) {
	t.Helper()
	for _, ns := range []string{Namespace, clusterv1alpha1.LeaseNamespace, workv1alpha1.ExecutionNamespace(r.Name)} {
		created(t, "hub namespace "+ns)(r.HubClient.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{workv1alpha1.SystemLabel: "true"}}}, metav1.CreateOptions{}))
	}
	createRBAC(ctx, t, r.HubClient, karmadafixture.Items(t, karmadafixture.HubRBAC, r.Name), o)
	agent := versioned.NewForConfigOrDie(r.AgentHub)
	r.createCluster(ctx, t, agent, o)
	r.createWork(ctx, t, agent)
}

// createCluster creates the Cluster as karmada-agent created it (spec id
// from the member's kube-system namespace, Pull, the API endpoint, the
// credential references), with the control plane's finalizer, and its
// Ready status if o asks for it.
func (r *Registered) createCluster(ctx context.Context, t *testing.T, agent versioned.Interface, o Options) {
	t.Helper()
	ks, err := r.MemberClient.CoreV1().Namespaces().Get(ctx, metav1.NamespaceSystem, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := &clusterv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: r.Name, Finalizers: []string{clusterv1alpha1.ClusterControllerFinalizer}},
		Spec: clusterv1alpha1.ClusterSpec{ID: string(ks.UID), SyncMode: clusterv1alpha1.Pull, APIEndpoint: o.Endpoint,
			SecretRef:             &clusterv1alpha1.LocalSecretReference{Namespace: clusterv1alpha1.DefaultClusterNamespace, Name: r.Name},
			ImpersonatorSecretRef: &clusterv1alpha1.LocalSecretReference{Namespace: clusterv1alpha1.DefaultClusterNamespace, Name: r.Name + "-impersonator"}},
	}
	c, err = agent.ClusterV1alpha1().Clusters().Create(ctx, c, metav1.CreateOptions{FieldManager: "karmada-agent"})
	if err != nil {
		t.Fatalf("create the Cluster as karmada-agent: %v", err)
	}
	if !o.ClusterStatus {
		return
	}
	c.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "ClusterReady",
		Message: "cluster is healthy and ready to accept workloads", LastTransitionTime: metav1.Now()}}
	if _, err := agent.ClusterV1alpha1().Clusters().UpdateStatus(ctx, c, metav1.UpdateOptions{FieldManager: "karmada-agent"}); err != nil {
		t.Fatalf("write the Cluster status as karmada-agent: %v", err)
	}
}

// createWork creates the Work as the control plane wrote it (manager
// controller-manager, with the execution finalizer), then its status as
// karmada-agent wrote it.
func (r *Registered) createWork(ctx context.Context, t *testing.T, agent versioned.Interface) {
	t.Helper()
	w := karmadafixture.RecordedWork(t, r.Name)
	status := w.Status
	w.ManagedFields, w.Status = nil, workv1alpha1.WorkStatus{}
	created, err := r.Karmada.WorkV1alpha1().Works(w.Namespace).Create(ctx, w, metav1.CreateOptions{FieldManager: "controller-manager"})
	if err != nil {
		t.Fatalf("create the Work: %v", err)
	}
	if created.Namespace != workv1alpha1.ExecutionNamespace(r.Name) {
		t.Fatalf("the Work is in %s, not the execution namespace of %s", created.Namespace, r.Name)
	}
	created.Status = status
	if r.Work, err = agent.WorkV1alpha1().Works(w.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{FieldManager: "karmada-agent"}); err != nil {
		t.Fatalf("write the Work status as karmada-agent: %v", err)
	}
}

// createRBAC creates the ClusterRoles, Roles and bindings among items, as
// karmadactl does, with o's edits.
func createRBAC(ctx context.Context, t *testing.T, cs kubernetes.Interface, items map[string][]*unstructured.Unstructured, o Options) {
	t.Helper()
	opts := metav1.CreateOptions{FieldManager: "karmadactl"}
	for _, u := range items["ClusterRole"] {
		obj := &rbacv1.ClusterRole{}
		karmadafixture.Into(t, u, obj)
		if o.ClusterRole != nil {
			o.ClusterRole(obj)
		}
		created(t, "ClusterRole")(cs.RbacV1().ClusterRoles().Create(ctx, obj, opts))
	}
	for _, u := range items["ClusterRoleBinding"] {
		obj := &rbacv1.ClusterRoleBinding{}
		karmadafixture.Into(t, u, obj)
		created(t, "ClusterRoleBinding")(cs.RbacV1().ClusterRoleBindings().Create(ctx, obj, opts))
	}
	for _, u := range items["Role"] {
		obj := &rbacv1.Role{}
		karmadafixture.Into(t, u, obj)
		if o.Role != nil {
			o.Role(obj)
		}
		created(t, "Role")(cs.RbacV1().Roles(obj.Namespace).Create(ctx, obj, opts))
	}
	for _, u := range items["RoleBinding"] {
		obj := &rbacv1.RoleBinding{}
		karmadafixture.Into(t, u, obj)
		created(t, "RoleBinding")(cs.RbacV1().RoleBindings(obj.Namespace).Create(ctx, obj, opts))
	}
}

// created checks a create's result: it succeeded or the object exists.
func created(t *testing.T, what string) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %s: %v", what, err)
		}
	}
}
