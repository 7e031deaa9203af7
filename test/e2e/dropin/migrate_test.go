package dropin

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/migrate"
	"github.com/tether-io/tether/test/karmadamember"
	"github.com/tether-io/tether/test/testenv"
)

// karmadaMember is the migrate test's view of the registered cluster.
type karmadaMember struct{ *karmadamember.Registered }

const (
	operator = "migrate-operator" // the member identity migrate runs with
	agentSA  = "system:serviceaccount:karmada-system:karmada-agent-sa"
)

// TestMigrateSwapsKarmadaAgentForTether is the whole swap: dry run, switch,
// the handover on karmada-agent's hub Lease, the Tether agent taking the
// workload over without touching it, and the rollback.
func TestMigrateSwapsKarmadaAgentForTether(t *testing.T) {
	env := testenv.Require(t)
	k := &karmadaMember{karmadamember.SetUp(t, env, karmadamember.Options{ClusterStatus: true})}
	bin := testenv.AgentBinary(t)
	opKubeconfig, err := k.Member.IdentityKubeconfig(operator, "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	standin := startStandIn(t, k.HubClient, k.Name, "karmada-agent-standin_"+k.Name)
	waitHolder(t, k.HubClient, k.Name, time.Minute, "the stand-in karmada-agent holds its hub Lease", func(h string) bool { return h == standin.identity })
	before := k.workloadState(t)

	k.dryRun(t, bin, opKubeconfig)
	out := run(t, bin, "migrate", "--kubeconfig", opKubeconfig, "--agent-image", "tether-agent:test", "--timeout", "2m")
	if !containsAll(out, "Deployment switched to Tether", "Strategy restored to RollingUpdate", "Migrated:") {
		t.Fatalf("migrate printed:\n%s", out)
	}
	migrated := k.checkMigratedDeployment(t)

	mark := k.marks(t)
	agent := k.startMigrated(t, bin, migrated)
	k.waitsWhileKarmadaAgentHolds(t, agent, mark)
	statusWatch := k.watchApplied(t)
	standin.halt()
	waitHolder(t, k.HubClient, k.Name, 2*time.Minute, "Tether holds karmada-agent's hub Lease once the stand-in stopped", isTether)
	agent.WaitReady(t, 2*time.Minute)
	k.checkTakeover(t, before, mark)
	k.checkWorkStatus(t, statusWatch, mark)
	k.checkMemberLeaseOwner(t, migrated)
	k.checkFieldRemoval(t)

	out = run(t, bin, "migrate", "--rollback", "--kubeconfig", opKubeconfig, "--timeout", "2m")
	if !containsAll(out, "Deployment switched back to karmada-agent", "Rolled back:") {
		t.Fatalf("migrate --rollback printed:\n%s", out)
	}
	k.checkRolledBack(t)
	if out := run(t, bin, "migrate", "--rollback", "--kubeconfig", opKubeconfig); !strings.Contains(out, "nothing to roll back") {
		t.Errorf("a second rollback printed:\n%s", out)
	}
	back := k.karmadaAgentWaitsForTether(t)
	// Recreate stops Tether's pod before karmada-agent's starts: Tether
	// releases the hub Lease, so karmada-agent takes it at once.
	if code := agent.Stop(); code != 0 {
		t.Errorf("the Tether agent exited with %d on SIGTERM, want 0", code)
	}
	waitHolder(t, k.HubClient, k.Name, 12*time.Second, "karmada-agent takes its hub Lease right after Tether released it (not after Tether's 60s)",
		func(h string) bool { return h == back.identity })
	k.checkUnregisterRemovesMemberLease(t)
}

// karmadaAgentWaitsForTether starts a karmada-agent (the stand-in, as its
// own user) while Tether holds the hub Lease: it tries and does not take it.
func (k *karmadaMember) karmadaAgentWaitsForTether(t *testing.T) *standIn {
	t.Helper()
	const user = "karmada-agent-back"
	cfg, err := k.Env.Hub.Identity(user, "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	m := k.marks(t)
	back := startStandIn(t, kubernetes.NewForConfigOrDie(cfg), k.Name, "karmada-agent-back_"+k.Name)
	testenv.Eventually(t, time.Minute, "karmada-agent tries to take its hub Lease three times", func() (bool, error) {
		reads := k.hubWrites(t, m, func(e testenv.AuditEvent) bool { return e.User == user && e.Resource == "leases" && e.Verb == "get" })
		return len(reads) >= 3, nil
	})
	if h := holderOf(hubLease(t, k.HubClient, k.Name)); !isTether(h) {
		t.Fatalf("karmada-agent took the hub Lease while Tether held it (holder %q)", h)
	}
	return back
}

// run runs the tether-agent binary and returns its output, failing the
// test when it fails.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("tether-agent %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("tether-agent %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// dryRun prints every change and writes nothing, on either cluster.
func (k *karmadaMember) dryRun(t *testing.T, bin, kubeconfig string) {
	t.Helper()
	mark := k.marks(t)
	out := run(t, bin, "migrate", "--dry-run", "--kubeconfig", kubeconfig, "--agent-image", "tether-agent:test")
	for _, want := range []string{
		"image: docker.io/karmada/karmada-agent:v0.0.0-master -> tether-agent:test",
		"command: /bin/karmada-agent --karmada-kubeconfig=/etc/kubeconfig/karmada-kubeconfig",
		"-> tether-agent run --karmada-kubeconfig=/etc/kubeconfig/karmada-kubeconfig",
		"strategy: RollingUpdate -> Recreate",
		"Cluster " + k.Name + " on the hub: id",
		"held by karmada-agent-standin_" + k.Name,
		"Deployment/default/nginx (Work nginx-",
		"Dry run: nothing was written",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run did not print %q", want)
		}
	}
	if w := k.memberWrites(t, mark, testenv.WritesBy(operator)); len(w) != 0 {
		t.Errorf("the dry run wrote %d times to the member: %v", len(w), w)
	}
	if w := k.hubWrites(t, mark, testenv.WritesBy(clusterv1alpha1.AgentUser(k.Name))); len(w) != 0 {
		t.Errorf("the dry run wrote %d times to the hub: %v", len(w), w)
	}
	d := k.agentDeployment(t)
	if !equality.Semantic.DeepEqual(d.Spec, k.Deployment.Spec) || d.Annotations[migrate.PreviousAgentAnnotation] != "" {
		t.Error("the dry run changed the karmada-agent Deployment")
	}
}

// checkMigratedDeployment checks the switched Deployment and that
// karmadactl's lookup of the hub credentials still works on it.
func (k *karmadaMember) checkMigratedDeployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d := k.agentDeployment(t)
	c, old := d.Spec.Template.Spec.Containers[0], k.Deployment.Spec.Template.Spec.Containers[0]
	if c.Image != "tether-agent:test" || !slices.Equal(c.Command[:2], migrate.TetherCommand) || !slices.Equal(c.Command[2:], old.Command[1:]) {
		t.Errorf("migrated container: image %s, command %v; want tether-agent:test and tether-agent run with every karmada-agent flag %v", c.Image, c.Command, old.Command[1:])
	}
	if !equality.Semantic.DeepEqual(d.Spec.Strategy, k.Deployment.Spec.Strategy) {
		t.Errorf("strategy after migrate: %+v, want the original %+v restored", d.Spec.Strategy, k.Deployment.Spec.Strategy)
	}
	if d.Name != "karmada-agent" || d.Spec.Template.Spec.ServiceAccountName != "karmada-agent-sa" || d.Annotations[migrate.PreviousAgentAnnotation] == "" {
		t.Errorf("migrated Deployment %s: service account %q, record annotation present %v", d.Name, d.Spec.Template.Spec.ServiceAccountName,
			d.Annotations[migrate.PreviousAgentAnnotation] != "")
	}
	raw, err := karmadactlHubKubeconfig(context.Background(), k.MemberClient, d)
	if err != nil {
		t.Fatalf("karmadactl's lookup of the hub credentials fails on the migrated Deployment: %v", err)
	}
	if _, err := clientcmd.Load(raw); err != nil || string(raw) != string(k.HubKubeconfig) {
		t.Errorf("karmadactl's lookup found other credentials than the agent's (parse error %v)", err)
	}
	return d
}

// startMigrated runs bin/tether-agent as the migrated Deployment says: its
// command's flags, pointed at the test environment (the hub kubeconfig
// mounted from the Secret, the member reached as the agent's service
// account, probes on free ports) and the pod named by the downward API.
func (k *karmadaMember) startMigrated(t *testing.T, bin string, d *appsv1.Deployment) *testenv.AgentProcess {
	t.Helper()
	memberKC, err := k.Member.IdentityKubeconfig(agentSA, "system:serviceaccounts", "system:serviceaccounts:"+karmadamember.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	pods, err := k.MemberClient.CoreV1().Pods(karmadamember.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "app=karmada-agent"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("the migrated Deployment's pod: %v (%d pods)", err, len(pods.Items))
	}
	return testenv.StartAgent(t, k.Env, testenv.AgentOptions{Binary: bin, HubKubeconfig: k.Kubeconfig,
		Args: k.AgentArgs(d.Spec.Template.Spec.Containers[0].Command[2:], memberKC),
		Env:  []string{"POD_NAME=" + pods.Items[0].Name, "POD_NAMESPACE=" + karmadamember.Namespace}})
}

func (k *karmadaMember) agentDeployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d, err := k.MemberClient.AppsV1().Deployments(karmadamember.Namespace).Get(context.Background(), "karmada-agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkRolledBack compares the Deployment with karmadactl's, as the member
// stored it before the migration.
func (k *karmadaMember) checkRolledBack(t *testing.T) {
	t.Helper()
	d := k.agentDeployment(t)
	if !equality.Semantic.DeepEqual(d.Spec, k.Deployment.Spec) {
		t.Errorf("after the rollback the Deployment's spec differs from karmadactl's:\n got %+v\nwant %+v", d.Spec, k.Deployment.Spec)
	}
	if _, ok := d.Annotations[migrate.PreviousAgentAnnotation]; ok {
		t.Error("the migration record is still on the Deployment after the rollback")
	}
	if !equality.Semantic.DeepEqual(d.Labels, k.Deployment.Labels) {
		t.Errorf("labels after the rollback: %v, want %v", d.Labels, k.Deployment.Labels)
	}
}
