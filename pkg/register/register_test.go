package register_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/register"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
	"github.com/tether-io/tether/test/testenv"
)

func registerOptions(t *testing.T, env *testenv.Env, token string) *register.Options {
	o := register.NewOptions()
	o.Endpoint, o.Token, o.CACertHashes = hubEndpoint(env), token, []string{hubPin(t, env)}
	o.DiscoveryTimeout = 2 * time.Minute
	o.CertExpirationSeconds = int32(testMaxLifetime / time.Second)
	return o
}

// TestRegisterOnTetherHub registers the member with a hub prepared by
// 'hub init' whose approver creates the cluster's RBAC, checks what the
// agent's certificate may do there, then unregisters and checks that both
// sides are clean and that unregister is idempotent.
func TestRegisterOnTetherHub(t *testing.T) {
	env := tetherHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const cluster = "member1"
	token := newToken(t, ctx, env, hub.TokenOptions{TTL: time.Hour, Cluster: cluster})
	member := env.Members[0]
	var out bytes.Buffer
	opts := registerOptions(t, env, token)
	start := time.Now()
	err := register.Register(ctx, register.Config{Options: opts, Member: member.Config, DefaultClusterName: member.Name, Out: &out})
	if err != nil {
		t.Fatalf("register: %v\n%s", err, out.String())
	}
	t.Logf("registered in %s:\n%s", time.Since(start).Round(10*time.Millisecond), out.String())

	agentCfg := agentConfig(t, ctx, member.Config, "karmada-system")
	assertIdentity(t, ctx, agentCfg, clusterv1alpha1.AgentUser(cluster))
	assertAgentRBAC(t, ctx, env.Hub.Config, agentCfg, cluster)

	// A second register finds the leftovers and refuses.
	err = register.Register(ctx, register.Config{Options: registerOptions(t, env, token), Member: member.Config, DefaultClusterName: member.Name, Out: &out})
	var perr *register.PreflightError
	if !errors.As(err, &perr) || !perr.Leftovers || !strings.Contains(err.Error(), "Deployment karmada-system/karmada-agent already exists") ||
		!strings.Contains(err.Error(), "tether-agent unregister member1") {
		t.Fatalf("register over a registration: want a preflight error naming the leftovers, got %v", err)
	}

	unregister := func(hubCfg *rest.Config) string {
		var uout bytes.Buffer
		uopts := register.NewUnregisterOptions()
		uopts.Cluster, uopts.Wait = cluster, 2*time.Minute
		if err := register.Unregister(ctx, register.UnregisterConfig{Options: uopts, Member: member.Config, Hub: hubCfg, Out: &uout}); err != nil {
			t.Fatalf("unregister: %v\n%s", err, uout.String())
		}
		return uout.String()
	}
	// Without hub admin credentials unregister acts as the agent: it removes
	// the Cluster, the Lease and the member side, and names what it cannot.
	asAgent := unregister(nil)
	t.Logf("unregister as the agent:\n%s", asAgent)
	for _, want := range []string{"acting with the agent's own identity system:karmada:agent:member1", "deleted Cluster member1",
		"deleted Lease karmada-cluster/member1", "cannot delete", "ClusterRole system:karmada:member1:agent,", "deleted Namespace karmada-system"} {
		if !strings.Contains(asAgent, want) {
			t.Errorf("unregister without hub credentials: output lacks %q", want)
		}
	}
	t.Logf("unregister as the hub admin:\n%s", unregister(env.Hub.Config))
	hubObjs, _ := objects.NewClient(env.Hub.Config)
	left, err := hubObjs.Existing(ctx, hub.ClusterAccess{Cluster: cluster}.Objects()...)
	if err != nil || len(left) > 0 {
		t.Fatalf("hub objects left: %s (%v)", objects.Refs(left), err)
	}
	if _, err := kubernetes.NewForConfigOrDie(member.Config).CoreV1().Namespaces().Get(ctx, "karmada-system", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("member namespace karmada-system: want NotFound, got %v", err)
	}
	if second := unregister(env.Hub.Config); strings.Contains(second, "deleted") {
		t.Fatalf("a second unregister deleted something:\n%s", second)
	}
	// The agent's certificate is still valid but no longer grants anything,
	// not even a renewal.
	if err := renewalOf(t, ctx, agentCfg, cluster); !apierrors.IsForbidden(err) {
		t.Fatalf("renewal after unregister: want Forbidden, got %v", err)
	}
}

// agentConfig is the hub client in the agent's kubeconfig Secret.
func agentConfig(t *testing.T, ctx context.Context, member *rest.Config, ns string) *rest.Config {
	t.Helper()
	store := bootstrap.NewSecretStore(kubernetes.NewForConfigOrDie(member), ns, bootstrap.KubeconfigSecretName, bootstrap.KubeconfigSecretKey)
	kc, err := bootstrap.LoadHubKubeconfig(ctx, store, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kc.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func assertIdentity(t *testing.T, ctx context.Context, cfg *rest.Config, user string) {
	t.Helper()
	r, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the agent's kubeconfig does not reach the hub: %v", err)
	}
	if got := r.Status.UserInfo.Username; got != user {
		t.Fatalf("the agent's kubeconfig authenticates as %q, want %q", got, user)
	}
}

// assertAgentRBAC checks, with the agent's real certificate, that it reaches
// its own Works, Cluster (and status) and Lease, and nothing of another
// cluster.
func assertAgentRBAC(t *testing.T, ctx context.Context, admin, agentCfg *rest.Config, cluster string) {
	t.Helper()
	const other = "intruded"
	adminK := versioned.NewForConfigOrDie(admin)
	agentK := versioned.NewForConfigOrDie(agentCfg)
	agentKube := kubernetes.NewForConfigOrDie(agentCfg)
	ownNS, otherNS := workv1alpha1.ExecutionNamespace(cluster), workv1alpha1.ExecutionNamespace(other)
	hubObjs, _ := objects.NewClient(admin)
	if err := hubObjs.Apply(ctx, hub.Namespace(otherNS, nil)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = hubObjs.Delete(context.Background(), hub.Namespace(otherNS, nil)) })
	work := func(ns string) *workv1alpha1.Work {
		return &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: "w", Namespace: ns}}
	}
	for _, ns := range []string{ownNS, otherNS} {
		if _, err := adminK.WorkV1alpha1().Works(ns).Create(ctx, work(ns), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	allowed := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: want allowed, got %v", what, err)
		}
	}
	forbidden := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: want Forbidden, got %v", what, err)
		}
	}
	_, err := agentK.WorkV1alpha1().Works(ownNS).List(ctx, metav1.ListOptions{})
	allowed("list own Works", err)
	w, err := agentK.WorkV1alpha1().Works(ownNS).Get(ctx, "w", metav1.GetOptions{})
	allowed("get own Work", err)
	if w != nil {
		w.Status.Conditions = []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue, Reason: "AppliedSuccessful", LastTransitionTime: metav1.Now()}}
		_, err = agentK.WorkV1alpha1().Works(ownNS).UpdateStatus(ctx, w, metav1.UpdateOptions{})
		allowed("update own works/status", err)
	}
	_, err = agentK.WorkV1alpha1().Works(otherNS).List(ctx, metav1.ListOptions{})
	forbidden("list another cluster's Works", err)
	_, err = agentK.WorkV1alpha1().Works(otherNS).Get(ctx, "w", metav1.GetOptions{})
	forbidden("get another cluster's Work", err)
	_, err = agentK.WorkV1alpha1().Works("").List(ctx, metav1.ListOptions{})
	forbidden("list Works in all namespaces", err)

	assertClusterAndLeaseRBAC(t, ctx, adminK, agentK, agentKube, cluster, other, allowed, forbidden)
	_, err = agentKube.CoreV1().Secrets(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{})
	forbidden("list hub Secrets", err)
	_, err = agentK.PolicyV1alpha1().OverridePolicies("default").List(ctx, metav1.ListOptions{})
	allowed("list OverridePolicies", err)
	_, err = agentK.PolicyV1alpha1().ClusterOverridePolicies().Create(ctx, &policyv1alpha1.ClusterOverridePolicy{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	forbidden("create a ClusterOverridePolicy", err)
}

// assertClusterAndLeaseRBAC: the agent creates and updates its own Cluster
// (status included) and Lease, and cannot touch another cluster's.
func assertClusterAndLeaseRBAC(t *testing.T, ctx context.Context, adminK, agentK versioned.Interface, agentKube kubernetes.Interface,
	cluster, other string, allowed, forbidden func(string, error)) {
	t.Helper()
	c, err := agentK.ClusterV1alpha1().Clusters().Create(ctx, &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: cluster},
		Spec: clusterv1alpha1.ClusterSpec{SyncMode: clusterv1alpha1.Pull}}, metav1.CreateOptions{})
	allowed("create own Cluster", err)
	if c != nil {
		c.Status.KubernetesVersion = "v1.36.3"
		c, err = agentK.ClusterV1alpha1().Clusters().UpdateStatus(ctx, c, metav1.UpdateOptions{})
		allowed("update own Cluster status", err)
		if c != nil {
			c.Spec.Region = "r1"
			_, err = agentK.ClusterV1alpha1().Clusters().Update(ctx, c, metav1.UpdateOptions{})
			allowed("update own Cluster (karmada-agent updates it without a grant)", err)
		}
	}
	_, err = adminK.ClusterV1alpha1().Clusters().Create(ctx, &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: other},
		Spec: clusterv1alpha1.ClusterSpec{SyncMode: clusterv1alpha1.Pull}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = adminK.ClusterV1alpha1().Clusters().Delete(context.Background(), other, metav1.DeleteOptions{})
	})
	_, err = agentK.ClusterV1alpha1().Clusters().Get(ctx, other, metav1.GetOptions{})
	forbidden("get another Cluster", err)
	err = agentK.ClusterV1alpha1().Clusters().Delete(ctx, other, metav1.DeleteOptions{})
	forbidden("delete another Cluster", err)

	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: cluster, Namespace: clusterv1alpha1.LeaseNamespace},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(cluster), LeaseDurationSeconds: ptr.To[int32](40)}}
	l, err := agentKube.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Create(ctx, lease, metav1.CreateOptions{})
	allowed("create own Lease", err)
	if l != nil {
		l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
		_, err = agentKube.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Update(ctx, l, metav1.UpdateOptions{})
		allowed("renew own Lease", err)
	}
	_, err = agentKube.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Get(ctx, other, metav1.GetOptions{})
	forbidden("get another cluster's Lease", err)
}
