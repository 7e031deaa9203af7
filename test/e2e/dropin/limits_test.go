package dropin

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/karmadamember"
	"github.com/tether-io/tether/test/testenv"
)

// missingLine is the one log line that names what the agent cannot do.
const missingLine = "lacks permissions it has no fallback for"

// TestWhatCannotFallBackIsReported runs the agent with Karmada's RBAC
// where it cannot do without what is missing: --render-overrides=Always
// needs the policies, and the Cluster's apiEndpoint differs from the
// agent's flag, which it may neither patch nor update. The join succeeds;
// the Cluster's HubPermissionsMissing condition names both, with the
// commands that grant them; the Work fails with the reason instead of
// being applied unrendered; one log line says it; nothing waits silently.
func TestWhatCannotFallBackIsReported(t *testing.T) {
	const cluster = "dropin-always"
	const stale = "https://karmada-agent.example:6443"
	env := testenv.Require(t)
	ctx := context.Background()
	kc := karmadamember.SetUp(t, env, karmadamember.Options{Cluster: cluster, Endpoint: stale})
	mark, err := env.Hub.AuditMark()
	testenv.NoError(t, err)
	args := append(agentArgs(kc), "--render-overrides=Always")
	a := testenv.StartAgent(t, testenv.Require(t), testenv.AgentOptions{Cluster: cluster, HubKubeconfig: kc.Kubeconfig, Args: args})
	a.WaitReady(t, 2*time.Minute)

	hub := karmadaclient.NewForConfigOrDie(env.Hub.Config)
	var cond *metav1.Condition
	testenv.Eventually(t, 2*time.Minute, "the Cluster's HubPermissionsMissing condition turns True", func() (bool, error) {
		c, err := hub.ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cond = meta.FindStatusCondition(c.Status.Conditions, clusterv1alpha1.ClusterConditionHubPermissionsMissing)
		return cond != nil && cond.Status == metav1.ConditionTrue && c.Spec.APIEndpoint == stale, nil
	})
	for _, want := range []string{
		"cannot list and watch OverridePolicies and ClusterOverridePolicies (--render-overrides=Always) (needs list overridepolicies and watch overridepolicies",
		"kubectl create clusterrole tether:agent:" + cluster + ":policies --verb=list,watch --resource=overridepolicies.policy.karmada.io,clusteroverridepolicies.policy.karmada.io && " +
			"kubectl create clusterrolebinding tether:agent:" + cluster + ":policies --clusterrole=tether:agent:" + cluster + ":policies --user=system:karmada:agent:" + cluster,
		"update the spec of its Cluster (needs patch clusters, or update clusters and get clusters), so the Cluster keeps the spec fields it has (its fields apiEndpoint differ",
		"kubectl create clusterrole tether:agent:" + cluster + ":cluster-spec --verb=patch --resource=clusters.cluster.karmada.io --resource-name=" + cluster,
	} {
		if !strings.Contains(cond.Message, want) {
			t.Errorf("the condition's message lacks %q:\n%s", want, cond.Message)
		}
	}

	changeWorkReplicas(t, hub, kc.Work, 2)
	testenv.Eventually(t, 2*time.Minute, "the Work reports why it is not applied", func() (bool, error) {
		w, err := hub.WorkV1alpha1().Works(kc.Work.Namespace).Get(ctx, kc.Work.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		applied := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
		return applied != nil && applied.Status == metav1.ConditionFalse && applied.ObservedGeneration == w.Generation &&
			strings.Contains(applied.Message, "may not list and watch OverridePolicies"), nil
	})
	d, err := kubernetes.NewForConfigOrDie(env.Members[0].Config).AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
	testenv.NoError(t, err)
	if *d.Spec.Replicas != 1 {
		t.Errorf("the unrendered manifest was applied: replicas %d", *d.Spec.Replicas)
	}
	if n := logCount(t, a, missingLine); n != 1 {
		t.Errorf("%d log lines say what is missing, want 1", n)
	}
	assertNoRefusal(t, env, mark, cluster)
}

// TestStatusUnwritableIsReported takes clusters/status away from Karmada's
// RBAC: the status cannot be written at all, so the agent posts a Warning
// Event on the Cluster and logs it, renews no heartbeat Lease (it would
// vouch for a stale status), and still syncs its Works.
func TestStatusUnwritableIsReported(t *testing.T) {
	const cluster = "dropin-nostatus"
	env := testenv.Require(t)
	ctx := context.Background()
	kc := karmadamember.SetUp(t, env, karmadamember.Options{Cluster: cluster, ClusterRole: func(r *rbacv1.ClusterRole) {
		var kept []rbacv1.PolicyRule
		for _, rule := range r.Rules {
			if len(rule.Resources) != 1 || rule.Resources[0] != "clusters/status" {
				kept = append(kept, rule)
			}
		}
		if len(kept) != len(r.Rules)-1 {
			t.Fatalf("the fixture's ClusterRole has no clusters/status rule to remove")
		}
		r.Rules = kept
	}})
	mark, err := env.Hub.AuditMark()
	testenv.NoError(t, err)
	a := testenv.StartAgent(t, testenv.Require(t), testenv.AgentOptions{Cluster: cluster, HubKubeconfig: kc.Kubeconfig, Args: agentArgs(kc)})
	a.WaitReady(t, 2*time.Minute)

	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	testenv.Eventually(t, time.Minute, "a Warning Event on the Cluster says its status cannot be written", func() (bool, error) {
		evs, err := admin.CoreV1().Events(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("involvedObject.name", cluster).String()})
		if err != nil {
			return false, err
		}
		for _, ev := range evs.Items {
			if ev.Type == corev1.EventTypeWarning && ev.Reason == clusterv1alpha1.ReasonHubPermissionsMissing && ev.InvolvedObject.Kind == "Cluster" &&
				strings.Contains(ev.Message, "cannot write the status of its Cluster (needs patch clusters/status, or update clusters/status and get clusters)") &&
				strings.Contains(ev.Message, "--verb=patch --resource=clusters.cluster.karmada.io/status --resource-name="+cluster) {
				return true, nil
			}
		}
		return false, nil
	})

	hub := karmadaclient.NewForConfigOrDie(env.Hub.Config)
	changeWorkReplicas(t, hub, kc.Work, 2)
	testenv.Eventually(t, 2*time.Minute, "the Work sync goes on", func() (bool, error) {
		w, err := hub.WorkV1alpha1().Works(kc.Work.Namespace).Get(ctx, kc.Work.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		applied := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
		return applied != nil && applied.Status == metav1.ConditionTrue && applied.ObservedGeneration == w.Generation, nil
	})
	// The controllers all started before that status was written: a
	// heartbeat would have created its Lease by then.
	if _, err := admin.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Get(ctx, cluster, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the heartbeat Lease was written next to a status that cannot be (err %v)", err)
	}
	if n := logCount(t, a, "The Cluster's status cannot be written"); n != 1 {
		t.Errorf("%d log lines say the status cannot be written, want 1", n)
	}
	assertNoRefusal(t, env, mark, cluster)
}

// assertNoRefusal fails the test for every request of the agent the hub refused.
func assertNoRefusal(t *testing.T, env *testenv.Env, mark testenv.AuditMark, cluster string) {
	t.Helper()
	events, err := env.Hub.AuditEvents(mark, testenv.ByUser(clusterv1alpha1.AgentUser(cluster)))
	testenv.NoError(t, err)
	for _, e := range events {
		if e.Code == 403 {
			t.Errorf("the hub refused a request of the agent: %s", describe(e))
		}
	}
}

// logCount counts the lines of the agent's log that contain s.
func logCount(t *testing.T, a *testenv.AgentProcess, s string) int {
	t.Helper()
	raw, err := os.ReadFile(a.Log)
	testenv.NoError(t, err)
	return strings.Count(string(raw), s)
}
