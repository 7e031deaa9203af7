package dropin

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// karmadaCluster is a cluster as karmadactl register and karmada-agent left it.
type karmadaCluster struct {
	name string
	// kubeconfig is the agent's hub kubeconfig where the Deployment mounts
	// it (the Secret karmada-kubeconfig, written to a file).
	kubeconfig string
	// command is the agent container's command line.
	command []string
	work    *workv1alpha1.Work
}

// variation changes the Karmada setup for a test of what cannot fall back.
type variation struct {
	// endpoint is the Cluster's spec.apiEndpoint (default: the member's URL,
	// what the agent is told).
	endpoint string
	// rbac edits the fixture's ClusterRole before it is installed, role
	// its Roles.
	rbac func(*rbacv1.ClusterRole)
	role func(*rbacv1.Role)
}

// setUpKarmadaCluster builds, for cluster, on the hub: the namespaces the
// control plane creates, exactly the agent RBAC of the fixture, the Cluster
// as karmada-agent created it, and the Work with its finalizer and the
// status karmada-agent wrote; on the member: the objects karmadactl
// register writes (the kubeconfig Secret holding a certificate of the
// hub's CA for system:karmada:agent:<cluster>) and the workload as
// karmada-agent applied it.
// The hub objects and the workload are removed when the test ends (after
// the agent stopped), so that the next test's Cluster may take the
// member's ID.
func setUpKarmadaCluster(t *testing.T, cluster string, v variation) *karmadaCluster {
	t.Helper()
	env := testenv.Require(t)
	ctx := context.Background()
	hub := kubernetes.NewForConfigOrDie(env.Hub.Config)
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	kc := &karmadaCluster{name: cluster}

	for _, ns := range []string{clusterv1alpha1.LeaseNamespace, workv1alpha1.ExecutionNamespace(cluster)} {
		_, err := hub.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	installHubRBAC(t, hub, cluster, v)
	createCluster(t, env, member, cluster, v.endpoint)
	t.Cleanup(func() { removeKarmadaCluster(env, cluster) })

	path, err := env.Hub.IdentityKubeconfig(clusterv1alpha1.AgentUser(cluster), clusterv1alpha1.AgentGroup)
	must(t, err)
	hubKubeconfig, err := os.ReadFile(path)
	must(t, err)
	kc.command = installMemberObjects(t, member, cluster, hubKubeconfig)
	kc.kubeconfig = mountSecret(t, member)
	applyWorkload(t, member, cluster)
	kc.work = createWork(t, env, cluster)
	return kc
}

// installHubRBAC creates the fixture's ClusterRole, Roles and bindings.
func installHubRBAC(t *testing.T, hub kubernetes.Interface, cluster string, v variation) {
	t.Helper()
	ctx := context.Background()
	rbac := hub.RbacV1()
	for _, it := range fixtureItems(t, "hub-rbac-granted-by-karmada.json", cluster) {
		var err error
		switch it.kind {
		case "ClusterRole":
			obj := &rbacv1.ClusterRole{}
			it.decode(t, obj)
			if v.rbac != nil {
				v.rbac(obj)
			}
			_, err = rbac.ClusterRoles().Create(ctx, obj, metav1.CreateOptions{})
		case "ClusterRoleBinding":
			obj := &rbacv1.ClusterRoleBinding{}
			it.decode(t, obj)
			_, err = rbac.ClusterRoleBindings().Create(ctx, obj, metav1.CreateOptions{})
		case "Role":
			obj := &rbacv1.Role{}
			it.decode(t, obj)
			if v.role != nil {
				v.role(obj)
			}
			_, err = rbac.Roles(obj.Namespace).Create(ctx, obj, metav1.CreateOptions{})
		case "RoleBinding":
			obj := &rbacv1.RoleBinding{}
			it.decode(t, obj)
			_, err = rbac.RoleBindings(obj.Namespace).Create(ctx, obj, metav1.CreateOptions{})
		default:
			t.Fatalf("hub RBAC fixture: unexpected %s", it.kind)
		}
		must(t, err)
	}
}

// createCluster creates the Cluster as karmada-agent created it (spec id
// from the member's kube-system namespace, Pull, the API endpoint, the
// credential references), with the control plane's finalizer.
func createCluster(t *testing.T, env *testenv.Env, member kubernetes.Interface, cluster, endpoint string) {
	t.Helper()
	ctx := context.Background()
	if endpoint == "" {
		endpoint = env.Members[0].URL
	}
	ks, err := member.CoreV1().Namespaces().Get(ctx, metav1.NamespaceSystem, metav1.GetOptions{})
	must(t, err)
	c := &clusterv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: cluster, Finalizers: []string{clusterv1alpha1.ClusterControllerFinalizer}},
		Spec: clusterv1alpha1.ClusterSpec{ID: string(ks.UID), SyncMode: clusterv1alpha1.Pull, APIEndpoint: endpoint,
			SecretRef:             &clusterv1alpha1.LocalSecretReference{Namespace: clusterv1alpha1.DefaultClusterNamespace, Name: cluster},
			ImpersonatorSecretRef: &clusterv1alpha1.LocalSecretReference{Namespace: clusterv1alpha1.DefaultClusterNamespace, Name: cluster + "-impersonator"}},
	}
	_, err = karmadaclient.NewForConfigOrDie(env.Hub.Config).ClusterV1alpha1().Clusters().Create(ctx, c, metav1.CreateOptions{})
	must(t, err)
}

// installMemberObjects creates what karmadactl register writes, with the
// hub kubeconfig in the Secret, and returns the Deployment's command.
func installMemberObjects(t *testing.T, member kubernetes.Interface, cluster string, hubKubeconfig []byte) []string {
	t.Helper()
	ctx := context.Background()
	var command []string
	for _, it := range fixtureItems(t, "member-objects-written-by-karmadactl-register.json", cluster) {
		var err error
		switch it.kind {
		case "Namespace":
			obj := &corev1.Namespace{}
			it.decode(t, obj)
			_, err = member.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{})
		case "ServiceAccount":
			obj := &corev1.ServiceAccount{}
			it.decode(t, obj)
			_, err = member.CoreV1().ServiceAccounts(obj.Namespace).Create(ctx, obj, metav1.CreateOptions{})
		case "ClusterRole":
			obj := &rbacv1.ClusterRole{}
			it.decode(t, obj)
			_, err = member.RbacV1().ClusterRoles().Create(ctx, obj, metav1.CreateOptions{})
		case "ClusterRoleBinding":
			obj := &rbacv1.ClusterRoleBinding{}
			it.decode(t, obj)
			_, err = member.RbacV1().ClusterRoleBindings().Create(ctx, obj, metav1.CreateOptions{})
		case "Secret": // its data is redacted in the fixture: the kubeconfig register writes
			var redacted map[string]any
			it.decode(t, &redacted)
			delete(redacted, "data")
			raw, merr := json.Marshal(redacted)
			must(t, merr)
			obj := &corev1.Secret{}
			must(t, json.Unmarshal(raw, obj))
			obj.Data = map[string][]byte{"karmada-kubeconfig": hubKubeconfig}
			_, err = member.CoreV1().Secrets(obj.Namespace).Create(ctx, obj, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) { // an earlier test's cluster: this one's identity replaces it
				_, err = member.CoreV1().Secrets(obj.Namespace).Update(ctx, obj, metav1.UpdateOptions{})
			}
		case "Deployment":
			obj := &appsv1.Deployment{}
			it.decode(t, obj)
			command = obj.Spec.Template.Spec.Containers[0].Command
			_, err = member.AppsV1().Deployments(obj.Namespace).Create(ctx, obj, metav1.CreateOptions{})
		default:
			t.Fatalf("member fixture: unexpected %s", it.kind)
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create the %s karmadactl register writes: %v", it.kind, err)
		}
	}
	if len(command) < 2 || command[0] != "/bin/karmada-agent" {
		t.Fatalf("the fixture Deployment's command is %q", command)
	}
	return command
}

// mountSecret writes the Secret karmada-kubeconfig to a file, as the
// Deployment's volume mounts it, and returns the file's path.
func mountSecret(t *testing.T, member kubernetes.Interface) string {
	t.Helper()
	s, err := member.CoreV1().Secrets("karmada-system").Get(context.Background(), "karmada-kubeconfig", metav1.GetOptions{})
	must(t, err)
	path := filepath.Join(t.TempDir(), "etc", "kubeconfig", "karmada-kubeconfig")
	must(t, os.MkdirAll(filepath.Dir(path), 0o700))
	must(t, os.WriteFile(path, s.Data["karmada-kubeconfig"], 0o600))
	return path
}

// applyWorkload creates the Deployment as karmada-agent left it: the
// fixture without its managedFields, written by the manager karmada-agent
// (a create records operation Update), so that the apiserver records
// karmada-agent's ownership as it did for the real agent.
func applyWorkload(t *testing.T, member kubernetes.Interface, cluster string) {
	t.Helper()
	d := &appsv1.Deployment{}
	must(t, json.Unmarshal(fixture(t, "workload-applied-by-karmada-agent.json", cluster), d))
	d.ManagedFields, d.Status = nil, appsv1.DeploymentStatus{}
	created, err := member.AppsV1().Deployments(d.Namespace).Create(context.Background(), d, metav1.CreateOptions{FieldManager: "karmada-agent"})
	must(t, err)
	for _, mf := range created.ManagedFields {
		if mf.Manager == "karmada-agent" && mf.Operation == metav1.ManagedFieldsOperationUpdate {
			return
		}
	}
	t.Fatalf("the workload's managedFields do not show an Update by karmada-agent: %+v", created.ManagedFields)
}

// createWork creates the Work as the control plane wrote it (manager
// controller-manager, with the execution finalizer), then its status as
// karmada-agent wrote it.
func createWork(t *testing.T, env *testenv.Env, cluster string) *workv1alpha1.Work {
	t.Helper()
	ctx := context.Background()
	w := &workv1alpha1.Work{}
	must(t, json.Unmarshal(fixture(t, "work-written-by-karmada-cp-and-agent.json", cluster), w))
	status := w.Status
	w.ManagedFields, w.Status = nil, workv1alpha1.WorkStatus{}
	works := karmadaclient.NewForConfigOrDie(env.Hub.Config).WorkV1alpha1().Works(w.Namespace)
	created, err := works.Create(ctx, w, metav1.CreateOptions{FieldManager: "controller-manager"})
	must(t, err)
	created.Status = status
	written, err := works.UpdateStatus(ctx, created, metav1.UpdateOptions{FieldManager: "karmada-agent"})
	must(t, err)
	if !strings.Contains(written.Namespace, cluster) {
		t.Fatalf("the Work is in %s, not the execution namespace of %s", written.Namespace, cluster)
	}
	return written
}

// removeKarmadaCluster deletes the Cluster (its finalizer first: no
// control plane runs here to remove it), the Work and the workload.
func removeKarmadaCluster(env *testenv.Env, cluster string) {
	ctx := context.Background()
	hub := karmadaclient.NewForConfigOrDie(env.Hub.Config)
	clusters := hub.ClusterV1alpha1().Clusters()
	if c, err := clusters.Get(ctx, cluster, metav1.GetOptions{}); err == nil {
		c.Finalizers = nil
		_, _ = clusters.Update(ctx, c, metav1.UpdateOptions{})
	}
	_ = clusters.Delete(ctx, cluster, metav1.DeleteOptions{})
	works := hub.WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(cluster))
	if list, err := works.List(ctx, metav1.ListOptions{}); err == nil {
		for _, w := range list.Items {
			w.Finalizers = nil
			_, _ = works.Update(ctx, &w, metav1.UpdateOptions{})
			_ = works.Delete(ctx, w.Name, metav1.DeleteOptions{})
		}
	}
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	_ = member.AppsV1().Deployments("default").Delete(ctx, "nginx", metav1.DeleteOptions{})
}
