package dropin

import (
	"context"
	"slices"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/karmadamember"
	"github.com/tether-io/tether/test/testenv"
)

// TestWorkStatusByUpdate takes patch of works/status away from Karmada's
// RBAC (which grants it): the agent writes the Work's status with an
// Update instead, and is refused nothing.
func TestWorkStatusByUpdate(t *testing.T) {
	const cluster = "dropin-update"
	env := testenv.Require(t)
	ctx := context.Background()
	kc := karmadamember.SetUp(t, env, karmadamember.Options{Cluster: cluster, Role: func(r *rbacv1.Role) {
		for i, rule := range r.Rules {
			if slices.Equal(rule.Resources, []string{"works/status"}) {
				r.Rules[i].Verbs = slices.DeleteFunc(slices.Clone(rule.Verbs), func(v string) bool { return v == "patch" })
			}
		}
	}})
	mark, err := env.Hub.AuditMark()
	testenv.NoError(t, err)
	a := testenv.StartAgent(t, testenv.Require(t), testenv.AgentOptions{Cluster: cluster, HubKubeconfig: kc.Kubeconfig, Args: agentArgs(kc)})
	a.WaitReady(t, 2*time.Minute)

	hub := karmadaclient.NewForConfigOrDie(env.Hub.Config)
	changeWorkReplicas(t, hub, kc.Work, 2)
	testenv.Eventually(t, 2*time.Minute, "the Work's status is written", func() (bool, error) {
		w, err := hub.WorkV1alpha1().Works(kc.Work.Namespace).Get(ctx, kc.Work.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		applied := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
		return applied != nil && applied.Status == metav1.ConditionTrue && applied.ObservedGeneration == w.Generation, nil
	})
	events, err := env.Hub.AuditEvents(mark, testenv.ByUser(clusterv1alpha1.AgentUser(cluster)))
	testenv.NoError(t, err)
	if n := has(events, "update", "works", "status"); n == 0 {
		t.Error("the agent never updated the Work's status")
	}
	assertNoRefusal(t, env, mark, cluster)
}
