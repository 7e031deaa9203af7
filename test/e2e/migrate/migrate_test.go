package migrate

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/migrate"
	"github.com/tether-io/tether/test/testenv"
)

const (
	operator = "migrate-operator" // the member identity migrate runs with
	agentSA  = "system:serviceaccount:karmada-system:karmada-agent-sa"
)

// TestMigrateSwapsKarmadaAgentForTether is the whole swap: dry run, switch,
// the handover on karmada-agent's hub Lease, the Tether agent taking the
// workload over without touching it, and the rollback.
func TestMigrateSwapsKarmadaAgentForTether(t *testing.T) {
	env := testenv.Require(t)
	k := setupKarmadaMember(t, env)
	bin := testenv.AgentBinary(t)
	opKubeconfig, err := k.member.IdentityKubeconfig(operator, "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	standin := startStandIn(t, k.hubCS, k.cluster, "karmada-agent-standin_"+k.cluster)
	waitHolder(t, k.hubCS, k.cluster, time.Minute, "the stand-in karmada-agent holds its hub Lease", func(h string) bool { return h == standin.identity })
	before := k.workloadState(t)

	k.dryRun(t, bin, opKubeconfig)
	out := run(t, bin, "migrate", "--kubeconfig", opKubeconfig, "--agent-image", "tether-agent:test", "--timeout", "2m")
	if !containsAll(out, "Deployment switched to Tether", "Strategy restored to RollingUpdate", "Migrated:") {
		t.Fatalf("migrate printed:\n%s", out)
	}
	migrated := k.checkMigratedDeployment(t)

	mark := k.marks(t)
	agent := k.startAgent(t, bin, migrated)
	k.waitsWhileKarmadaAgentHolds(t, agent, mark)
	statusWatch := k.watchApplied(t)
	standin.halt()
	waitHolder(t, k.hubCS, k.cluster, 2*time.Minute, "Tether holds karmada-agent's hub Lease once the stand-in stopped", isTether)
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
	waitHolder(t, k.hubCS, k.cluster, 12*time.Second, "karmada-agent takes its hub Lease right after Tether released it (not after Tether's 60s)",
		func(h string) bool { return h == back.identity })
	k.checkUnregisterRemovesMemberLease(t)
}

// karmadaAgentWaitsForTether starts a karmada-agent (the stand-in, as its
// own user) while Tether holds the hub Lease: it tries and does not take it.
func (k *karmadaMember) karmadaAgentWaitsForTether(t *testing.T) *standIn {
	t.Helper()
	const user = "karmada-agent-back"
	cfg, err := k.env.Hub.Identity(user, "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	m := k.marks(t)
	back := startStandIn(t, kubernetes.NewForConfigOrDie(cfg), k.cluster, "karmada-agent-back_"+k.cluster)
	testenv.Eventually(t, time.Minute, "karmada-agent tries to take its hub Lease three times", func() (bool, error) {
		reads := k.hubWrites(t, m, func(e testenv.AuditEvent) bool { return e.User == user && e.Resource == "leases" && e.Verb == "get" })
		return len(reads) >= 3, nil
	})
	if h := holderOf(hubLease(t, k.hubCS, k.cluster)); !isTether(h) {
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
		"Cluster " + k.cluster + " on the hub: id",
		"held by karmada-agent-standin_" + k.cluster,
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
	if w := k.hubWrites(t, mark, testenv.WritesBy(clusterv1alpha1.AgentUser(k.cluster))); len(w) != 0 {
		t.Errorf("the dry run wrote %d times to the hub: %v", len(w), w)
	}
	d := k.agentDeployment(t)
	if !equality.Semantic.DeepEqual(d.Spec, k.deployment.Spec) || d.Annotations[migrate.RecordAnnotation] != "" {
		t.Error("the dry run changed the karmada-agent Deployment")
	}
}

// checkMigratedDeployment checks the switched Deployment and that
// karmadactl's lookup of the hub credentials still works on it.
func (k *karmadaMember) checkMigratedDeployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d := k.agentDeployment(t)
	c, old := d.Spec.Template.Spec.Containers[0], k.deployment.Spec.Template.Spec.Containers[0]
	if c.Image != "tether-agent:test" || !slices.Equal(c.Command[:2], migrate.TetherCommand) || !slices.Equal(c.Command[2:], old.Command[1:]) {
		t.Errorf("migrated container: image %s, command %v; want tether-agent:test and tether-agent run with every karmada-agent flag %v", c.Image, c.Command, old.Command[1:])
	}
	if !equality.Semantic.DeepEqual(d.Spec.Strategy, k.deployment.Spec.Strategy) {
		t.Errorf("strategy after migrate: %+v, want the original %+v restored", d.Spec.Strategy, k.deployment.Spec.Strategy)
	}
	if d.Name != "karmada-agent" || d.Spec.Template.Spec.ServiceAccountName != "karmada-agent-sa" || d.Annotations[migrate.RecordAnnotation] == "" {
		t.Errorf("migrated Deployment %s: service account %q, record annotation present %v", d.Name, d.Spec.Template.Spec.ServiceAccountName,
			d.Annotations[migrate.RecordAnnotation] != "")
	}
	raw, err := karmadactlHubKubeconfig(context.Background(), k.memberCS, d)
	if err != nil {
		t.Fatalf("karmadactl's lookup of the hub credentials fails on the migrated Deployment: %v", err)
	}
	if _, err := clientcmd.Load(raw); err != nil || string(raw) != string(k.hubKubeconfig) {
		t.Errorf("karmadactl's lookup found other credentials than the agent's (parse error %v)", err)
	}
	return d
}

// startAgent runs bin/tether-agent as the migrated Deployment says: its
// command's flags, with the paths adjusted (the hub kubeconfig mounted from
// the Secret, the member reached as the agent's service account, probes on
// free ports) and the pod named by the downward API.
func (k *karmadaMember) startAgent(t *testing.T, bin string, d *appsv1.Deployment) *testenv.AgentProcess {
	t.Helper()
	dir := t.TempDir()
	hubKC := filepath.Join(dir, "karmada-kubeconfig")
	if err := os.WriteFile(hubKC, k.hubKubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	memberKC, err := k.member.IdentityKubeconfig(agentSA, "system:serviceaccounts", "system:serviceaccounts:"+agentNS)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, a := range d.Spec.Template.Spec.Containers[0].Command[2:] {
		switch {
		case strings.HasPrefix(a, "--karmada-kubeconfig="):
			a = "--karmada-kubeconfig=" + hubKC
		case strings.HasPrefix(a, "--metrics-bind-address="), strings.HasPrefix(a, "--health-probe-bind-address="):
			continue
		}
		args = append(args, a)
	}
	pods, err := k.memberCS.CoreV1().Pods(agentNS).List(context.Background(), metav1.ListOptions{LabelSelector: "app=karmada-agent"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("the migrated Deployment's pod: %v (%d pods)", err, len(pods.Items))
	}
	return testenv.StartAgent(t, k.env, testenv.AgentOptions{Binary: bin, HubKubeconfig: hubKC,
		Args: append(args, "--kubeconfig="+memberKC),
		Env:  []string{"POD_NAME=" + pods.Items[0].Name, "POD_NAMESPACE=" + agentNS}})
}

func (k *karmadaMember) agentDeployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d, err := k.memberCS.AppsV1().Deployments(agentNS).Get(context.Background(), "karmada-agent", metav1.GetOptions{})
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
	if !equality.Semantic.DeepEqual(d.Spec, k.deployment.Spec) {
		t.Errorf("after the rollback the Deployment's spec differs from karmadactl's:\n got %+v\nwant %+v", d.Spec, k.deployment.Spec)
	}
	if _, ok := d.Annotations[migrate.RecordAnnotation]; ok {
		t.Error("the migration record is still on the Deployment after the rollback")
	}
	if !equality.Semantic.DeepEqual(d.Labels, k.deployment.Labels) {
		t.Errorf("labels after the rollback: %v, want %v", d.Labels, k.deployment.Labels)
	}
}

// replicaSets are the names of the workload's ReplicaSets (one per pod
// template hash).
func (k *karmadaMember) replicaSets(t *testing.T) []string {
	t.Helper()
	list, err := k.memberCS.AppsV1().ReplicaSets("default").List(context.Background(),
		metav1.ListOptions{LabelSelector: labels.Set{"app": "nginx"}.String()})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, rs := range list.Items {
		names = append(names, rs.Name+"/"+rs.Labels["pod-template-hash"])
	}
	slices.Sort(names)
	return names
}
