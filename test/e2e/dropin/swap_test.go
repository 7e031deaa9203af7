package dropin

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/karmadamember"
	"github.com/tether-io/tether/test/testenv"
)

// agentArgs is the fixture Deployment's command line after
// /bin/karmada-agent, pointed at the test environment, with the member
// reached as its admin.
func agentArgs(kc *karmadamember.Registered) []string {
	return kc.AgentArgs(kc.Deployment.Spec.Template.Spec.Containers[0].Command[1:], kc.Member.Kubeconfig)
}

// TestSwapUnderKarmadaRBAC stops nothing (there is no karmada-agent
// process: kwok runs no containers) but starts Tether where karmada-agent
// ran, with its command line and exactly the hub RBAC Karmada grants it,
// and expects it to do the whole job: the Cluster's status written (with
// Update, as patch is not granted), a change of the Work applied and its
// status written, and the Work's deletion releasing the member object and
// the finalizer (with Update). Not one of its hub requests may be refused.
func TestSwapUnderKarmadaRBAC(t *testing.T) {
	const cluster = "dropin"
	env := testenv.Require(t)
	ctx := context.Background()
	kc := karmadamember.SetUp(t, env, karmadamember.Options{Cluster: cluster})
	mark, err := env.Hub.AuditMark()
	testenv.NoError(t, err)
	a := testenv.StartAgent(t, testenv.Require(t), testenv.AgentOptions{Cluster: cluster, HubKubeconfig: kc.Kubeconfig, Args: agentArgs(kc)})
	a.WaitReady(t, 2*time.Minute)

	hub := karmadaclient.NewForConfigOrDie(env.Hub.Config)
	testenv.Eventually(t, 2*time.Minute, "the agent reports the Cluster Ready", func() (bool, error) {
		c, err := hub.ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		perms := meta.FindStatusCondition(c.Status.Conditions, clusterv1alpha1.ClusterConditionHubPermissionsMissing)
		return meta.IsStatusConditionTrue(c.Status.Conditions, clusterv1alpha1.ClusterConditionReady) &&
			c.Status.KubernetesVersion != "" && perms != nil && perms.Status == metav1.ConditionFalse, nil
	})

	changeWorkReplicas(t, hub, kc.Work, 2)
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	testenv.Eventually(t, 2*time.Minute, "the change of the Work is applied and its status written", func() (bool, error) {
		d, err := member.AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		w, err := hub.WorkV1alpha1().Works(kc.Work.Namespace).Get(ctx, kc.Work.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		applied := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
		return d.Spec.Replicas != nil && *d.Spec.Replicas == 2 && applied != nil && applied.Status == metav1.ConditionTrue &&
			applied.ObservedGeneration == w.Generation && len(w.Status.ManifestStatuses) == 1, nil
	})

	testenv.NoError(t, hub.WorkV1alpha1().Works(kc.Work.Namespace).Delete(ctx, kc.Work.Name, metav1.DeleteOptions{}))
	testenv.Eventually(t, 2*time.Minute, "the Work's deletion removes the member object and releases the finalizer", func() (bool, error) {
		_, werr := hub.WorkV1alpha1().Works(kc.Work.Namespace).Get(ctx, kc.Work.Name, metav1.GetOptions{})
		_, derr := member.AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
		return apierrors.IsNotFound(werr) && apierrors.IsNotFound(derr), nil
	})
	assertAudit(t, env, mark, cluster)
}

// changeWorkReplicas sets spec.replicas of the Work's Deployment, as the
// control plane does when the template changes.
func changeWorkReplicas(t *testing.T, hub karmadaclient.Interface, work *workv1alpha1.Work, replicas int64) {
	t.Helper()
	ctx := context.Background()
	works := hub.WorkV1alpha1().Works(work.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error { // the agent writes the status meanwhile
		w, err := works.Get(ctx, work.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(w.Spec.Workload.Manifests[0].Raw); err != nil {
			return err
		}
		if err := unstructured.SetNestedField(obj.Object, replicas, "spec", "replicas"); err != nil {
			return err
		}
		if w.Spec.Workload.Manifests[0].Raw, err = json.Marshal(obj.Object); err != nil {
			return err
		}
		_, err = works.Update(ctx, w, metav1.UpdateOptions{FieldManager: "controller-manager"})
		return err
	})
	testenv.NoError(t, err)
}

// assertAudit reads the hub's audit log: no request of the agent was
// refused, and the writes Karmada's RBAC allows are the ones it made: an
// Update of the Cluster's status, of the Work (its finalizer) and a write
// of the Work's status.
func assertAudit(t *testing.T, env *testenv.Env, mark testenv.AuditMark, cluster string) {
	t.Helper()
	user := clusterv1alpha1.AgentUser(cluster)
	var events []testenv.AuditEvent
	testenv.Eventually(t, 30*time.Second, "the audit log holds the finalizer's release", func() (bool, error) {
		var err error
		events, err = env.Hub.AuditEvents(mark, testenv.ByUser(user))
		return has(events, "update", "works", "") >= 1, err
	})
	assertNoRefusal(t, env, mark, cluster)
	if has(events, "update", "clusters", "status") == 0 {
		t.Error("the agent never updated its Cluster's status")
	}
	if has(events, "patch", "works", "status")+has(events, "update", "works", "status") == 0 {
		t.Error("the agent never wrote its Work's status")
	}
}

// has counts the successful requests of a verb on a resource.
func has(events []testenv.AuditEvent, verb, resource, subresource string) int {
	n := 0
	for _, e := range events {
		if e.Stage == "ResponseComplete" && e.Verb == verb && e.Resource == resource && e.Subresource == subresource && e.Code < 300 {
			n++
		}
	}
	return n
}
