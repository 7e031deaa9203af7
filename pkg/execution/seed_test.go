package execution

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

const nginx = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx","namespace":"default","labels":{"app":"nginx"}},
"spec":{"replicas":1,"selector":{"matchLabels":{"app":"nginx"}},"template":{"metadata":{"labels":{"app":"nginx"}},
"spec":{"containers":[{"name":"nginx","image":"nginx"}]}}}}`

// TestPolicyRendersAtTheEdge is the seed case: an OverridePolicy replaces the
// nginx image tag with 1.20 on member1 only; then the policy is retargeted to
// member2 and both Works are re-rendered.
func TestPolicyRendersAtTheEdge(t *testing.T) {
	member1Agent(t)
	second := startAgent(t, "member2", 1, nil)
	defer second.stop(t)
	ctx := context.Background()
	policies := hubClient(t).PolicyV1alpha1().OverridePolicies("default")
	op := &policyv1alpha1.OverridePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx-tag", Namespace: "default"},
		Spec: policyv1alpha1.OverrideSpec{
			ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Name: "nginx"}},
			OverrideRules: []policyv1alpha1.RuleWithCluster{{
				TargetCluster: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}},
				Overriders: policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{
					{Component: policyv1alpha1.Tag, Operator: policyv1alpha1.OverriderOpReplace, Value: "1.20"}}},
			}},
		},
	}
	_, err := policies.Create(ctx, op, metav1.CreateOptions{})
	must(t, err)
	for _, cluster := range []string{"member1", "member2"} {
		createWork(t, newWork(cluster, "nginx", manifests(t, nginx)))
	}
	waitImages(t, "nginx:1.20", "nginx")
	d, err := memberClient(t, 0).AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
	must(t, err)
	if rec := d.Annotations[policyv1alpha1.AppliedOverrides]; !strings.Contains(rec, `"policyName":"nginx-tag"`) {
		t.Errorf("member1's Deployment does not record the applied override: %q", rec)
	}

	// Retarget the policy: both Works re-render without being touched.
	testenv.Eventually(t, time.Minute, "retarget the policy", func() (bool, error) {
		cur, err := policies.Get(ctx, "nginx-tag", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cur.Spec.OverrideRules[0].TargetCluster.ClusterNames = []string{"member2"}
		_, err = policies.Update(ctx, cur, metav1.UpdateOptions{})
		return err == nil, nil
	})
	waitImages(t, "nginx", "nginx:1.20")
	must(t, policies.Delete(ctx, "nginx-tag", metav1.DeleteOptions{}))
	waitImages(t, "nginx", "nginx")
	testenv.Eventually(t, time.Minute, "the applied-overrides record leaves with the policy", func() (bool, error) {
		d, err := memberClient(t, 1).AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
		_, has := d.Annotations[policyv1alpha1.AppliedOverrides]
		return err == nil && !has, nil
	})
}

// TestRenderedWorkIsNotRenderedAgain checks that a Work produced by Karmada's
// binding controller (it carries a binding permanent-id label) is applied as
// is even when a policy matches it.
func TestRenderedWorkIsNotRenderedAgain(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	cop := &policyv1alpha1.ClusterOverridePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "label-everything"},
		Spec: policyv1alpha1.OverrideSpec{OverrideRules: []policyv1alpha1.RuleWithCluster{{
			Overriders: policyv1alpha1.Overriders{LabelsOverrider: []policyv1alpha1.LabelAnnotationOverrider{
				{Operator: policyv1alpha1.OverriderOpAdd, Value: map[string]string{"rendered-by": "tether"}}}},
		}}},
	}
	_, err := hubClient(t).PolicyV1alpha1().ClusterOverridePolicies().Create(ctx, cop, metav1.CreateOptions{})
	must(t, err)
	defer func() {
		_ = hubClient(t).PolicyV1alpha1().ClusterOverridePolicies().Delete(ctx, cop.Name, metav1.DeleteOptions{})
	}()
	memberNamespace(t, 0, "rendered")
	karmadas := newWork("member1", "from-karmada", manifests(t, configMap("rendered", "karmada", map[string]string{"k": "v"})))
	karmadas.Labels = map[string]string{workv1alpha1.ResourceBindingPermanentIDLabel: "0e4e1d3c-6a1b-4b8e-9c1e-8f6f1a2b3c4d"}
	createWork(t, karmadas)
	createWork(t, newWork("member1", "from-user", manifests(t, configMap("rendered", "user", map[string]string{"k": "v"}))))
	waitApplied(t, es1, "from-karmada", metav1.ConditionTrue)
	waitApplied(t, es1, "from-user", metav1.ConditionTrue)
	cms := memberClient(t, 0).CoreV1().ConfigMaps("rendered")
	testenv.Eventually(t, time.Minute, "the user's Work is rendered", func() (bool, error) {
		u, err := cms.Get(ctx, "user", metav1.GetOptions{})
		return err == nil && u.Labels["rendered-by"] == "tether", nil
	})
	k, err := cms.Get(ctx, "karmada", metav1.GetOptions{})
	must(t, err)
	if _, ok := k.Labels["rendered-by"]; ok {
		t.Error("a Work Karmada already rendered was rendered again")
	}
}

func TestRetainReplicasLeavesReplicasToTheMember(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "retain")
	d := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"hpa","namespace":"retain","labels":{"resourcetemplate.karmada.io/retain-replicas":"true"}},
"spec":{"replicas":2,"selector":{"matchLabels":{"app":"hpa"}},"template":{"metadata":{"labels":{"app":"hpa"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`
	createWork(t, newWork("member1", "retain", manifests(t, d)))
	waitApplied(t, es1, "retain", metav1.ConditionTrue)
	deploys := memberClient(t, 0).AppsV1().Deployments("retain")
	// An autoscaler in the member scales it.
	testenv.Eventually(t, time.Minute, "scale in the member", func() (bool, error) {
		s, err := deploys.GetScale(ctx, "hpa", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s.Spec.Replicas = 4
		_, err = deploys.UpdateScale(ctx, "hpa", s, metav1.UpdateOptions{FieldManager: "hpa"})
		return err == nil, nil
	})
	// A Work update must not put replicas back.
	updateWork(t, es1, "retain", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = manifests(t, d[:len(d)-4]+`,"terminationGracePeriodSeconds":5}}}}`)
	})
	testenv.Eventually(t, time.Minute, "the update lands", func() (bool, error) {
		live, err := deploys.Get(ctx, "hpa", metav1.GetOptions{})
		return err == nil && ptr.Deref(live.Spec.Template.Spec.TerminationGracePeriodSeconds, 0) == 5, nil
	})
	live, err := deploys.Get(ctx, "hpa", metav1.GetOptions{})
	must(t, err)
	if got := ptr.Deref(live.Spec.Replicas, 0); got != 4 {
		t.Errorf("replicas = %d, want the member's 4", got)
	}
}

func waitImages(t *testing.T, member1, member2 string) {
	t.Helper()
	testenv.Eventually(t, time.Minute, "images "+member1+" / "+member2, func() (bool, error) {
		ctx := context.Background()
		for i, want := range []string{member1, member2} {
			d, err := memberClient(t, i).AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
			if err != nil || image(d) != want {
				return false, nil
			}
		}
		return true, nil
	})
}

func image(d *appsv1.Deployment) string { return d.Spec.Template.Spec.Containers[0].Image }
