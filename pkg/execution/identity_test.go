package execution

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// TestNamespacelessManifestKeepsItsObject: a namespaced manifest without
// metadata.namespace lands in "default", its status says "default", and
// neither a restart nor an edit of the Work deletes and re-creates it.
func TestNamespacelessManifestKeepsItsObject(t *testing.T) {
	const cluster = "nsless"
	es := workv1alpha1.ExecutionNamespace(cluster)
	first := startAgent(t, cluster, 0, nil)
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nsless"},"data":{"k":"v"}}`
	createWork(t, newWork(cluster, "nsless", manifests(t, cm)))
	w := waitApplied(t, es, "nsless", metav1.ConditionTrue)
	testenv.Eventually(t, time.Minute, "the status lists the object in default", func() (bool, error) {
		ctx := context.Background()
		w, _ = hubClient(t).WorkV1alpha1().Works(es).Get(ctx, "nsless", metav1.GetOptions{})
		return w != nil && len(w.Status.ManifestStatuses) == 1 && w.Status.ManifestStatuses[0].Identifier.Namespace == "default", nil
	})
	cms := memberClient(t, 0).CoreV1().ConfigMaps("default")
	before, err := cms.Get(context.Background(), "nsless", metav1.GetOptions{})
	must(t, err)
	waitIdle(t, first)
	first.stop(t)

	second := startAgent(t, cluster, 0, nil)
	defer second.stop(t)
	waitIdle(t, second)
	updateWork(t, es, "nsless", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = manifests(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nsless"},"data":{"k":"v2"}}`)
	})
	testenv.Eventually(t, time.Minute, "the edit reaches the member", func() (bool, error) {
		ctx := context.Background()
		cur, err := cms.Get(ctx, "nsless", metav1.GetOptions{})
		return err == nil && cur.Data["k"] == "v2", nil
	})
	waitIdle(t, second)
	after, err := cms.Get(context.Background(), "nsless", metav1.GetOptions{})
	must(t, err)
	if after.UID != before.UID {
		t.Errorf("the ConfigMap was deleted and re-created: UID %s became %s", before.UID, after.UID)
	}
	if n, _ := writeLines(second.member); n != 1 {
		_, writes := writeLines(second.member)
		t.Errorf("restart and one edit made %d member writes, want 1 (the edit): %v", n, writes)
	}
	deleteWorkAndWait(t, es, "nsless", cms, "nsless")
}

// TestTwoWorksNamingOneObjectDoNotFight: the second Work that lists an
// object reports a conflict naming both Works, even with conflict-resolution
// overwrite, and the object's resourceVersion stays put.
func TestTwoWorksNamingOneObjectDoNotFight(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "twoworks")
	cms := memberClient(t, 0).CoreV1().ConfigMaps("twoworks")
	overwrite := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"shared","namespace":"twoworks",
"annotations":{"work.karmada.io/conflict-resolution":"overwrite"}},"data":{"from":"%s"}}`
	createWork(t, newWork("member1", "first", manifests(t, strings.ReplaceAll(overwrite, "%s", "first"))))
	waitApplied(t, es1, "first", metav1.ConditionTrue)
	createWork(t, newWork("member1", "second", manifests(t, strings.ReplaceAll(overwrite, "%s", "second"))))
	w := waitApplied(t, es1, "second", metav1.ConditionFalse)
	msg := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied).Message
	if !strings.Contains(msg, es1+"/first") || !strings.Contains(msg, es1+"/second") {
		t.Errorf("the conflict does not name both Works: %s", msg)
	}
	obj, err := cms.Get(ctx, "shared", metav1.GetOptions{})
	must(t, err)
	if obj.Data["from"] != "first" || obj.Annotations[workv1alpha1.WorkNameAnnotation] != "first" {
		t.Errorf("the object moved to the second Work: data %v annotations %v", obj.Data, obj.Annotations)
	}
	consistently(t, 3*time.Second, "the object is left alone", func(ctx context.Context) error {
		cur, err := cms.Get(ctx, "shared", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.ResourceVersion != obj.ResourceVersion {
			return fmt.Errorf("resourceVersion moved from %s to %s: the Works fight", obj.ResourceVersion, cur.ResourceVersion)
		}
		return nil
	})
	if c := meta.FindStatusCondition(mustWork(t, es1, "first").Status.Conditions, workv1alpha1.WorkApplied); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("the first Work lost its Applied condition: %+v", c)
	}

	// Once the first Work lets go of it, the second takes it over.
	must(t, hubClient(t).WorkV1alpha1().Works(es1).Delete(ctx, "first", metav1.DeleteOptions{}))
	testenv.Eventually(t, time.Minute, "the second Work applies it", func() (bool, error) {
		cur, err := cms.Get(ctx, "shared", metav1.GetOptions{})
		return err == nil && cur.Data["from"] == "second", nil
	})
	deleteWorkAndWait(t, es1, "second", cms, "shared")
}

// TestOneWorkNamingAnObjectTwice fails the second manifest, clearly, and
// applies the first.
func TestOneWorkNamingAnObjectTwice(t *testing.T) {
	member1Agent(t)
	memberNamespace(t, 0, "twice")
	cms := memberClient(t, 0).CoreV1().ConfigMaps("twice")
	createWork(t, newWork("member1", "twice", manifests(t,
		configMap("twice", "same", map[string]string{"k": "first"}),
		configMap("twice", "same", map[string]string{"k": "second"}))))
	w := waitApplied(t, es1, "twice", metav1.ConditionFalse)
	msg := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied).Message
	if !strings.Contains(msg, "manifest 1 names the same object as manifest 0") || !strings.Contains(msg, "(1/2)") {
		t.Errorf("Applied message does not explain the duplicate: %s", msg)
	}
	cur, err := cms.Get(context.Background(), "same", metav1.GetOptions{})
	must(t, err)
	if cur.Data["k"] != "first" {
		t.Errorf("the member object has %v, want the first manifest's data", cur.Data)
	}
	deleteWorkAndWait(t, es1, "twice", cms, "same")
}

// TestIdentityChangingOverrideFails: a policy that moves a manifest into
// another namespace fails that manifest; nothing lands in the target.
func TestIdentityChangingOverrideFails(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "tenant")
	cop := &policyv1alpha1.ClusterOverridePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "move-to-kube-system"},
		Spec: policyv1alpha1.OverrideSpec{
			ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap", Name: "moved"}},
			OverrideRules: []policyv1alpha1.RuleWithCluster{{Overriders: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{
				{Path: "/metadata/namespace", Operator: policyv1alpha1.OverriderOpReplace, Value: apiextensionsv1.JSON{Raw: []byte(`"kube-system"`)}}}}}},
		},
	}
	_, err := hubClient(t).PolicyV1alpha1().ClusterOverridePolicies().Create(ctx, cop, metav1.CreateOptions{})
	must(t, err)
	defer func() {
		_ = hubClient(t).PolicyV1alpha1().ClusterOverridePolicies().Delete(ctx, cop.Name, metav1.DeleteOptions{})
	}()
	createWork(t, newWork("member1", "moved", manifests(t, configMap("tenant", "moved", map[string]string{"k": "v"}))))
	w := waitApplied(t, es1, "moved", metav1.ConditionFalse)
	msg := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied).Message
	if !strings.Contains(msg, "change its namespace") || !strings.Contains(msg, "move-to-kube-system") {
		t.Errorf("Applied message does not name the identity change and the policy: %s", msg)
	}
	for _, ns := range []string{"kube-system", "tenant"} {
		if _, err := memberClient(t, 0).CoreV1().ConfigMaps(ns).Get(ctx, "moved", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap moved exists in %s (err %v)", ns, err)
		}
	}
	deleteWorkAndWait(t, es1, "moved", memberClient(t, 0).CoreV1().ConfigMaps("tenant"))
}

func mustWork(t *testing.T, ns, name string) *workv1alpha1.Work {
	t.Helper()
	w, err := hubClient(t).WorkV1alpha1().Works(ns).Get(context.Background(), name, metav1.GetOptions{})
	must(t, err)
	return w
}

// consistently checks cond every 100ms for d and fails at the first error:
// the way to assert that something does not happen.
func consistently(t *testing.T, d time.Duration, what string, cond func(ctx context.Context) error) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); <-tick.C {
		if err := cond(context.Background()); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}
