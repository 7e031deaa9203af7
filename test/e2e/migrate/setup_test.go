package migrate

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// karmadaMember is a member as karmadactl register and karmada-agent left
// it, with its hub side.
type karmadaMember struct {
	env     *testenv.Env
	cluster string
	member  *testenv.Cluster

	memberCS   kubernetes.Interface
	hubCS      kubernetes.Interface
	hubKarmada versioned.Interface
	// agentHub is the agent's own hub identity (system:karmada:agent:<C>).
	agentHub *rest.Config
	// hubKubeconfig is the agent's hub kubeconfig, as in the Secret.
	hubKubeconfig []byte

	// deployment is karmadactl's agent Deployment as the member stored it.
	deployment *appsv1.Deployment
	work       *workv1alpha1.Work
}

const agentNS = "karmada-system"

func setupKarmadaMember(t *testing.T, env *testenv.Env) *karmadaMember {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m := env.Members[0]
	k := &karmadaMember{env: env, cluster: m.Name, member: m,
		memberCS: kubernetes.NewForConfigOrDie(m.Config), hubCS: kubernetes.NewForConfigOrDie(env.Hub.Config),
		hubKarmada: versioned.NewForConfigOrDie(env.Hub.Config)}
	k.installHub(ctx, t)
	k.installMember(ctx, t)
	k.installWorkload(ctx, t)
	return k
}

// installHub creates what Karmada's control plane holds for the cluster:
// its namespaces, the agent's RBAC from the fixture, the agent's
// certificate, the Cluster as karmada-agent created it, and the Work with
// the status karmada-agent wrote.
func (k *karmadaMember) installHub(ctx context.Context, t *testing.T) {
	t.Helper()
	for _, ns := range []string{agentNS, clusterv1alpha1.LeaseNamespace, workv1alpha1.ExecutionNamespace(k.cluster)} {
		created(t, "hub namespace")(k.hubCS.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{workv1alpha1.SystemLabel: "true"}}}, metav1.CreateOptions{}))
	}
	createRBAC(ctx, t, k.hubCS, fixtureItems(t, fixture(t, "hub-rbac-granted-by-karmada.json", k.cluster, k.member.URL)))
	user := clusterv1alpha1.AgentUser(k.cluster)
	path, err := k.env.Hub.IdentityKubeconfig(user, clusterv1alpha1.AgentGroup)
	if err != nil {
		t.Fatal(err)
	}
	if k.hubKubeconfig, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if k.agentHub, err = k.env.Hub.Identity(user, clusterv1alpha1.AgentGroup); err != nil {
		t.Fatal(err)
	}
	agent := versioned.NewForConfigOrDie(k.agentHub)
	ks, err := k.memberCS.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cl := &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: k.cluster},
		Spec: clusterv1alpha1.ClusterSpec{ID: string(ks.UID), SyncMode: clusterv1alpha1.Pull, APIEndpoint: k.member.URL}}
	cl, err = agent.ClusterV1alpha1().Clusters().Create(ctx, cl, metav1.CreateOptions{FieldManager: "karmada-agent"})
	if err != nil {
		t.Fatalf("create the Cluster as karmada-agent: %v", err)
	}
	cl.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "ClusterReady",
		Message: "cluster is healthy and ready to accept workloads", LastTransitionTime: metav1.Now()}}
	if _, err := agent.ClusterV1alpha1().Clusters().UpdateStatus(ctx, cl, metav1.UpdateOptions{FieldManager: "karmada-agent"}); err != nil {
		t.Fatalf("write the Cluster status as karmada-agent: %v", err)
	}
	k.installWork(ctx, t, agent)
}

func (k *karmadaMember) installWork(ctx context.Context, t *testing.T, agent versioned.Interface) {
	t.Helper()
	w := &workv1alpha1.Work{}
	if err := json.Unmarshal(fixture(t, "work-written-by-karmada-cp-and-agent.json", k.cluster, k.member.URL), w); err != nil {
		t.Fatal(err)
	}
	w.ManagedFields = nil
	status := w.Status
	created, err := k.hubKarmada.WorkV1alpha1().Works(w.Namespace).Create(ctx, w, metav1.CreateOptions{FieldManager: "controller-manager"})
	if err != nil {
		t.Fatalf("create the Work: %v", err)
	}
	created.Status = status
	if k.work, err = agent.WorkV1alpha1().Works(w.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{FieldManager: "karmada-agent"}); err != nil {
		t.Fatalf("write the Work status as karmada-agent: %v", err)
	}
}

// installMember creates karmadactl register's member objects, the Secret
// holding the agent's hub kubeconfig, and waits for the agent Deployment.
func (k *karmadaMember) installMember(ctx context.Context, t *testing.T) {
	t.Helper()
	items := fixtureItems(t, fixture(t, "member-objects-written-by-karmadactl-register.json", k.cluster, k.member.URL))
	opts := metav1.CreateOptions{FieldManager: "karmadactl"}
	ns := &corev1.Namespace{}
	into(t, items["Namespace"][0], ns)
	if _, err := k.memberCS.CoreV1().Namespaces().Create(ctx, ns, opts); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{}
	into(t, items["ServiceAccount"][0], sa)
	created(t, "ServiceAccount")(k.memberCS.CoreV1().ServiceAccounts(agentNS).Create(ctx, sa, opts))
	createRBAC(ctx, t, k.memberCS, items)
	secret := &corev1.Secret{}
	unstructured.RemoveNestedField(items["Secret"][0].Object, "data") // redacted in the fixture
	into(t, items["Secret"][0], secret)
	secret.Data = map[string][]byte{"karmada-kubeconfig": k.hubKubeconfig}
	created(t, "Secret")(k.memberCS.CoreV1().Secrets(agentNS).Create(ctx, secret, opts))
	d := &appsv1.Deployment{}
	into(t, items["Deployment"][0], d)
	created, err := k.memberCS.AppsV1().Deployments(agentNS).Create(ctx, d, opts)
	if err != nil {
		t.Fatalf("create the karmada-agent Deployment: %v", err)
	}
	k.deployment = created
	waitAvailable(t, k.memberCS, agentNS, d.Name)
}

// installWorkload creates the Work's Deployment in the member the way
// karmada-agent does: a create under its field manager (an Update entry).
func (k *karmadaMember) installWorkload(ctx context.Context, t *testing.T) {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(k.work.Spec.Workload.Manifests[0].Raw); err != nil {
		t.Fatal(err)
	}
	d := &appsv1.Deployment{}
	into(t, obj, d)
	live, err := k.memberCS.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{FieldManager: "karmada-agent"})
	if err != nil {
		t.Fatalf("create the workload as karmada-agent: %v", err)
	}
	// The member records the same karmada-agent Update entry as the fixture.
	recorded := &appsv1.Deployment{}
	if err := json.Unmarshal(fixture(t, "workload-applied-by-karmada-agent.json", k.cluster, k.member.URL), recorded); err != nil {
		t.Fatal(err)
	}
	if got, want := agentEntry(live.ManagedFields), agentEntry(recorded.ManagedFields); got == nil || want == nil || !equality.Semantic.DeepEqual(got, want) {
		t.Fatalf("the workload's karmada-agent managedFields entry differs from the fixture's:\n got %s\nwant %s", got, want)
	}
	waitAvailable(t, k.memberCS, d.Namespace, d.Name)
}

// agentEntry is the decoded FieldsV1 of karmada-agent's Update entry.
func agentEntry(entries []metav1.ManagedFieldsEntry) map[string]any {
	for _, e := range entries {
		if e.Manager == "karmada-agent" && e.Operation == metav1.ManagedFieldsOperationUpdate && e.FieldsV1 != nil {
			var out map[string]any
			if json.Unmarshal(e.FieldsV1.Raw, &out) == nil {
				return out
			}
		}
	}
	return nil
}

func createRBAC(ctx context.Context, t *testing.T, cs kubernetes.Interface, items map[string][]*unstructured.Unstructured) {
	t.Helper()
	opts := metav1.CreateOptions{FieldManager: "karmadactl"}
	for _, u := range items["ClusterRole"] {
		o := &rbacv1.ClusterRole{}
		into(t, u, o)
		created(t, "ClusterRole")(cs.RbacV1().ClusterRoles().Create(ctx, o, opts))
	}
	for _, u := range items["ClusterRoleBinding"] {
		o := &rbacv1.ClusterRoleBinding{}
		into(t, u, o)
		created(t, "ClusterRoleBinding")(cs.RbacV1().ClusterRoleBindings().Create(ctx, o, opts))
	}
	for _, u := range items["Role"] {
		o := &rbacv1.Role{}
		into(t, u, o)
		created(t, "Role")(cs.RbacV1().Roles(o.Namespace).Create(ctx, o, opts))
	}
	for _, u := range items["RoleBinding"] {
		o := &rbacv1.RoleBinding{}
		into(t, u, o)
		created(t, "RoleBinding")(cs.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, opts))
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

// waitAvailable waits until the Deployment's replicas all run its current
// template (kwok runs the pods).
func waitAvailable(t *testing.T, cs kubernetes.Interface, ns, name string) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	testenv.Eventually(t, 2*time.Minute, "Deployment "+ns+"/"+name+" available", func() (bool, error) {
		var err error
		if d, err = cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{}); err != nil {
			return false, err
		}
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == *d.Spec.Replicas && s.Replicas == *d.Spec.Replicas &&
			s.AvailableReplicas == *d.Spec.Replicas, nil
	})
	return d
}
