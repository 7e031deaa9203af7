package register_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// TestRegisterWithKarmadaControlPlane is the user story against a hub
// configured like Karmada's control plane: 'token create
// --print-register-command' on the hub, the printed command on the member,
// the agent rolls out, its kubeconfig authenticates as the agent and has
// exactly its cluster's access; a second register is refused by preflight;
// unregister leaves both sides as they were, and is idempotent.
func TestRegisterWithKarmadaControlPlane(t *testing.T) {
	env := karmadaHub(t)
	member := env.Members[0]
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	hubBefore, err := snapshot(ctx, env.Hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	memberBefore, err := snapshot(ctx, member.Config)
	if err != nil {
		t.Fatal(err)
	}

	args, tokenSecret := printedRegisterCommand(t, ctx, env)
	registerArgs := append(args[1:], "--kubeconfig", member.Kubeconfig)
	// A wrong CA hash is refused before any credential is sent: no CSR appears.
	wrongHash := append([]string(nil), registerArgs...)
	wrongHash[5] = "sha256:" + strings.Repeat("00", 32)
	bad := tetherAgent.Run(t, ctx, wrongHash...)
	if bad.Code == 0 || !strings.Contains(bad.Stderr, "--discovery-token-ca-cert-hash") {
		t.Fatalf("a wrong CA hash must be refused: %s", bad)
	}
	if now, _ := kubernetes.NewForConfigOrDie(env.Hub.Config).CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{}); len(now.Items) != 0 {
		t.Fatalf("a CSR was created although the CA hash was wrong")
	}

	reg := tetherAgent.Run(t, ctx, registerArgs...)
	if reg.Code != 0 || !strings.Contains(reg.Stdout, "cluster(member1) is joined successfully") {
		t.Fatalf("register: %s", reg)
	}
	t.Logf("register took %s:\n%s", reg.Took.Round(10*time.Millisecond), reg.Stdout)
	if strings.Contains(reg.Stdout+reg.Stderr, tokenSecret) {
		t.Error("register printed the token secret")
	}

	memberK := kubernetes.NewForConfigOrDie(member.Config)
	assertAgentDeployment(t, ctx, memberK, member.URL)
	agentCfg := agentKubeconfig(t, ctx, memberK)
	agent := kubernetes.NewForConfigOrDie(agentCfg)
	review, err := agent.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || review.Status.UserInfo.Username != clusterv1alpha1.AgentUser("member1") {
		t.Fatalf("the Secret's kubeconfig: %v %+v", err, review)
	}
	checkAgentScope(t, ctx, env, agentCfg)
	hubK := kubernetes.NewForConfigOrDie(env.Hub.Config)
	csrs, err := hubK.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range csrs.Items {
		if strings.HasPrefix(c.Name, "agent-rbac-generator-") {
			t.Errorf("the RBAC generator's CSR %s was left on the hub", c.Name)
		}
	}

	again := tetherAgent.Run(t, ctx, registerArgs...)
	if again.Code == 0 || !strings.Contains(again.Stderr, "Secret karmada-system/karmada-kubeconfig already exists") ||
		!strings.Contains(again.Stderr, "tether-agent unregister member1") {
		t.Fatalf("register over leftovers must exit non-zero and name them: %s", again)
	}
	finalizedWork(t, ctx, env)
	dry := tetherAgent.Run(t, ctx, "unregister", "member1", "--kubeconfig", member.Kubeconfig, "--karmada-config", env.Hub.Kubeconfig, "--dry-run")
	if dry.Code != 0 || !strings.Contains(dry.Stdout, "hub: ClusterRole system:karmada:member1:agent") || !strings.Contains(dry.Stdout, "member: Deployment karmada-system/karmada-agent") {
		t.Fatalf("unregister --dry-run: %s", dry)
	}
	unreg := tetherAgent.Run(t, ctx, "unregister", "member1", "--kubeconfig", member.Kubeconfig, "--karmada-config", env.Hub.Kubeconfig)
	if unreg.Code != 0 {
		t.Fatalf("unregister: %s", unreg)
	}
	t.Logf("unregister took %s:\n%s", unreg.Took.Round(10*time.Millisecond), unreg.Stdout)
	if added, removed := waitSame(ctx, env.Hub.Config, hubBefore, time.Minute); len(added)+len(removed) > 0 {
		t.Errorf("hub after unregister: added %v, removed %v", added, removed)
	}
	if added, removed := waitSame(ctx, member.Config, memberBefore, time.Minute); len(added)+len(removed) > 0 {
		t.Errorf("member after unregister: added %v, removed %v", added, removed)
	}
	if second := tetherAgent.Run(t, ctx, "unregister", "member1", "--kubeconfig", member.Kubeconfig, "--karmada-config", env.Hub.Kubeconfig); second.Code != 0 {
		t.Fatalf("a second unregister must succeed: %s", second)
	}
	tokenID := strings.SplitN(args[4], ".", 2)[0]
	if del := tetherAgent.Run(t, ctx, "token", "delete", args[4], "--kubeconfig", env.Hub.Kubeconfig); del.Code != 0 || !strings.Contains(del.Stdout, tokenID+" deleted") {
		t.Fatalf("token delete: %s", del)
	}
	if del := tetherAgent.Run(t, ctx, "token", "delete", tokenID, "--kubeconfig", env.Hub.Kubeconfig); del.Code == 0 || !strings.Contains(del.Stderr, "does not exist") || strings.Contains(del.Stderr, tokenSecret) {
		t.Fatalf("deleting a deleted token must fail and say so: %s", del)
	}
}

func agentKubeconfig(t *testing.T, ctx context.Context, member kubernetes.Interface) *rest.Config {
	t.Helper()
	store := bootstrap.NewSecretStore(member, "karmada-system", bootstrap.KubeconfigSecretName, bootstrap.KubeconfigSecretKey)
	kc, err := bootstrap.LoadHubKubeconfig(ctx, store, bootstrap.AgentContext("member1"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kc.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// checkAgentScope checks, with the agent's real certificate, its own Works
// and Lease and another cluster's Works.
func checkAgentScope(t *testing.T, ctx context.Context, env *testenv.Env, agentCfg *rest.Config) {
	t.Helper()
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	const otherNS = "karmada-es-member2"
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: otherNS}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.CoreV1().Namespaces().Delete(context.Background(), otherNS, metav1.DeleteOptions{}) }()
	k := versioned.NewForConfigOrDie(agentCfg)
	if _, err := k.WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace("member1")).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list own Works: %v", err)
	}
	if _, err := k.WorkV1alpha1().Works(otherNS).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list another cluster's Works: want Forbidden, got %v", err)
	}
	if _, err := k.ClusterV1alpha1().Clusters().Get(ctx, "member2", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("get another Cluster: want Forbidden, got %v", err)
	}
	if _, err := kubernetes.NewForConfigOrDie(agentCfg).CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Get(ctx, "member1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get own Lease: want NotFound (allowed, not yet created), got %v", err)
	}
}

// finalizedWork leaves a Work with the execution finalizer and its member
// object, as a running agent would have, while no agent runs: unregister
// must delete the member object and the finalizer itself.
func finalizedWork(t *testing.T, ctx context.Context, env *testenv.Env) {
	t.Helper()
	ns := workv1alpha1.ExecutionNamespace("member1")
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "from-work", Namespace: "default",
			Labels:      map[string]string{workv1alpha1.ManagedLabel: workv1alpha1.ManagedLabelValue},
			Annotations: map[string]string{workv1alpha1.WorkNameAnnotation: "w1", workv1alpha1.WorkNamespaceAnnotation: ns}},
		Data: map[string]string{"k": "v"}}
	raw, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: "w1", Namespace: ns, Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: raw}}}}}}
	if _, err := versioned.NewForConfigOrDie(env.Hub.Config).WorkV1alpha1().Works(ns).Create(ctx, work, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kubernetes.NewForConfigOrDie(env.Members[0].Config).CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// printedRegisterCommand runs 'token create --print-register-command' on
// the hub, checks it has karmadactl's shape and that 'token list' shows the
// token without its secret; it returns the command's words and the secret.
func printedRegisterCommand(t *testing.T, ctx context.Context, env *testenv.Env) ([]string, string) {
	t.Helper()
	tok := tetherAgent.Run(t, ctx, "token", "create", "--print-register-command", "--cluster-name", "member1", "--kubeconfig", env.Hub.Kubeconfig, "--description", "e2e")
	if tok.Code != 0 {
		t.Fatalf("token create: %s", tok)
	}
	line := strings.TrimSpace(tok.Stdout)
	args := strings.Fields(line)
	if len(args) != 9 || args[0] != "tether-agent" || args[1] != "register" || args[2] != strings.TrimPrefix(env.Hub.URL, "https://") ||
		args[3] != "--token" || args[5] != "--discovery-token-ca-cert-hash" || !strings.HasPrefix(args[6], "sha256:") ||
		args[7] != "--cluster-name" || args[8] != "member1" {
		t.Fatalf("printed command %q does not have karmadactl's shape, with the cluster the token is bound to", line)
	}
	list := tetherAgent.Run(t, ctx, "token", "list", "--kubeconfig", env.Hub.Kubeconfig)
	tokenID, tokenSecret, _ := strings.Cut(args[4], ".")
	if list.Code != 0 || !strings.Contains(list.Stdout, tokenID) || !strings.Contains(list.Stdout, "e2e") || strings.Contains(list.Stdout, tokenSecret) {
		t.Fatalf("token list must show the ID and description and never the secret: %s", list)
	}

	return args, tokenSecret
}

// assertAgentDeployment checks the rollout and the agent's flags.
func assertAgentDeployment(t *testing.T, ctx context.Context, memberK kubernetes.Interface, memberURL string) {
	t.Helper()
	d, err := memberK.AppsV1().Deployments("karmada-system").Get(ctx, "karmada-agent", metav1.GetOptions{})
	if err != nil || d.Status.AvailableReplicas < 1 {
		t.Fatalf("agent Deployment not rolled out: %v %+v", err, d.Status)
	}
	cmd := strings.Join(d.Spec.Template.Spec.Containers[0].Command, " ")
	for _, want := range []string{"tether-agent run", "--karmada-kubeconfig=/etc/kubeconfig/karmada-kubeconfig", "--karmada-context=member1@karmada-apiserver",
		"--cluster-name=member1", "--cluster-api-endpoint=" + memberURL, "--cluster-namespace=karmada-cluster",
		"--karmada-kubeconfig-namespace=karmada-system", "--leader-elect-resource-namespace=karmada-system",
		"--metrics-bind-address=:8080", "--health-probe-bind-address=:10357"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("agent command %q lacks %q", cmd, want)
		}
	}

}
