package hubaccess_test

import (
	"context"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{HubOnly: true}) }

// probe asks the hub as the agent of cluster until the answer is want (the
// hub's RBAC cache picks a new grant up within moments).
func probe(t *testing.T, cluster string, want []hubaccess.Permission) hubaccess.Set {
	t.Helper()
	env := testenv.Require(t)
	cfg, err := env.Hub.Identity(clusterv1alpha1.AgentUser(cluster), clusterv1alpha1.AgentGroup)
	if err != nil {
		t.Fatal(err)
	}
	reviews := kubernetes.NewForConfigOrDie(cfg).AuthorizationV1().SelfSubjectAccessReviews()
	var got hubaccess.Set
	testenv.Eventually(t, 30*time.Second, "the probe answers the granted permissions", func() (bool, error) {
		got, err = hubaccess.Probe(context.Background(), reviews, cluster)
		return err == nil && slices.Equal(got.Denied(), want), err
	})
	return got
}

// TestProbeKarmadaGrant grants the rules a Karmada control plane gives its
// agent and expects exactly Patch of Works, Patch and Update of the
// Cluster, Patch of its status and the policy reads to be denied.
func TestProbeKarmadaGrant(t *testing.T) {
	const cluster = "probe-karmada"
	env := testenv.Require(t)
	ctx := context.Background()
	user := clusterv1alpha1.AgentUser(cluster)
	group := func(g string) []string { return []string{g} }
	clusterWide := []rbacv1.PolicyRule{
		{APIGroups: group(clusterv1alpha1.GroupName), Resources: []string{"clusters"}, ResourceNames: []string{cluster}, Verbs: []string{"get", "delete"}},
		{APIGroups: group(clusterv1alpha1.GroupName), Resources: []string{"clusters"}, Verbs: []string{"create", "list", "watch"}},
		{APIGroups: group(clusterv1alpha1.GroupName), Resources: []string{"clusters/status"}, ResourceNames: []string{cluster}, Verbs: []string{"update"}},
		{APIGroups: group(""), Resources: []string{"namespaces"}, Verbs: []string{"get"}},
		{APIGroups: group("coordination.k8s.io"), Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
		{APIGroups: group("certificates.k8s.io"), Resources: []string{"certificatesigningrequests"}, Verbs: []string{"get", "create"}},
		{APIGroups: group(""), Resources: []string{"events"}, Verbs: []string{"patch", "create", "update"}},
		{APIGroups: group("config.karmada.io"), Resources: []string{"resourceinterpreterwebhookconfigurations", "resourceinterpretercustomizations"},
			Verbs: []string{"get", "list", "watch"}},
	}
	work := []rbacv1.PolicyRule{
		{APIGroups: group("work.karmada.io"), Resources: []string{"works"}, Verbs: []string{"get", "create", "list", "watch", "update", "delete"}},
		{APIGroups: group("work.karmada.io"), Resources: []string{"works/status"}, Verbs: []string{"patch", "update"}},
	}
	if err := testenv.Grant(ctx, env.Hub.Config, user, "", clusterWide); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "karmada-es-" + cluster}}
	if _, err := kubernetes.NewForConfigOrDie(env.Hub.Config).CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Grant(ctx, env.Hub.Config, user, ns.Name, work); err != nil {
		t.Fatal(err)
	}
	// The Role agent-secret in karmada-cluster: the member credentials Secrets.
	secrets := []rbacv1.PolicyRule{
		{APIGroups: group(""), Resources: []string{"secrets"}, ResourceNames: []string{cluster, cluster + "-impersonator"}, Verbs: []string{"get", "patch"}},
		{APIGroups: group(""), Resources: []string{"secrets"}, Verbs: []string{"create"}},
	}
	clusterNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: clusterv1alpha1.DefaultClusterNamespace}}
	if _, err := kubernetes.NewForConfigOrDie(env.Hub.Config).CoreV1().Namespaces().Create(ctx, clusterNS, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if err := testenv.Grant(ctx, env.Hub.Config, user, clusterNS.Name, secrets); err != nil {
		t.Fatal(err)
	}
	s := probe(t, cluster, []hubaccess.Permission{hubaccess.ClusterUpdate, hubaccess.ClusterPatch, hubaccess.ClusterStatusPatch, hubaccess.WorkPatch,
		hubaccess.OverridePolicyList, hubaccess.OverridePolicyWatch, hubaccess.ClusterOverridePolicyList, hubaccess.ClusterOverridePolicyWatch})
	if !s.Can(hubaccess.ReportCredentials) || !s.Can(hubaccess.ReportImpersonator) {
		t.Error("Karmada's grant does not let the agent report member credentials, as karmada-agent does")
	}
	if !s.Can(hubaccess.ReportEndpointSlices) {
		t.Error("Karmada's grant does not let the agent report EndpointSlices, as karmada-agent does")
	}
	if !s.Can(hubaccess.WorkFinalizer) || !s.Can(hubaccess.WriteClusterStatus) || s.CanReadPolicies() {
		t.Fatalf("fallbacks: finalizer %v, cluster status %v, policies %v", s.Can(hubaccess.WorkFinalizer), s.Can(hubaccess.WriteClusterStatus), s.CanReadPolicies())
	}
}

// TestProbeTetherGrant: the RBAC 'tether-agent register' grants holds
// every permission the agent uses, each task by its preferred alternative.
func TestProbeTetherGrant(t *testing.T) {
	const cluster = "probe-tether"
	env := testenv.Require(t)
	if err := env.Hub.GrantAgent(context.Background(), cluster); err != nil {
		t.Fatal(err)
	}
	s := probe(t, cluster, nil)
	r := hubaccess.Assess(cluster, s, hubaccess.Needs{Works: true, ClusterStatus: true, Rotation: true, RenderAlways: true, EndpointSlices: true,
		Credentials: true, Impersonator: true}.Tasks())
	if len(r.Missing) != 0 || len(r.Fallbacks) != 0 {
		t.Fatalf("Tether's own grant: missing %+v, fallbacks %+v", r.Missing, r.Fallbacks)
	}
}

// TestProbeNothingGranted: an identity with no grant at all is denied
// everything, and the probe itself still works (SelfSubjectAccessReviews
// are open to every authenticated user).
func TestProbeNothingGranted(t *testing.T) {
	probe(t, "probe-nobody", hubaccess.Permissions())
}
