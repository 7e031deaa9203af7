package execution

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	statuswork "github.com/tether-io/tether/pkg/status/work"
	"github.com/tether-io/tether/test/testenv"
)

const es1 = "karmada-es-member1"

// TestApplyUpdateDriftGCDelete walks a Work through its life: apply, update,
// drift repair (a changed field and a deleted object), garbage collection of
// a removed manifest, and deletion.
func TestApplyUpdateDriftGCDelete(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "life")
	cms := memberClient(t, 0).CoreV1().ConfigMaps("life")
	createWork(t, newWork("member1", "life", manifests(t,
		configMap("life", "a", map[string]string{"k": "v1"}),
		configMap("life", "b", map[string]string{"k": "v1"}))))
	w := waitApplied(t, es1, "life", metav1.ConditionTrue)
	if c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied); c.Reason != workv1alpha1.ReasonAppliedSuccessful || c.Message != workv1alpha1.MessageAppliedSuccessful {
		t.Errorf("Applied condition: %+v", c)
	}
	if c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkDispatching); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != w.Generation {
		t.Errorf("Dispatching condition: %+v", c)
	}
	a, err := cms.Get(ctx, "a", metav1.GetOptions{})
	must(t, err)
	if a.Labels[workv1alpha1.ManagedLabel] != "true" || a.Annotations[workv1alpha1.WorkNameAnnotation] != "life" ||
		a.Annotations[workv1alpha1.WorkNamespaceAnnotation] != es1 {
		t.Errorf("member object not stamped: labels %v annotations %v", a.Labels, a.Annotations)
	}

	// Update through the Work.
	updateWork(t, es1, "life", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = manifests(t, configMap("life", "a", map[string]string{"k": "v2"}), configMap("life", "b", map[string]string{"k": "v1"}))
	})
	testenv.Eventually(t, time.Minute, "update reaches the member", func() (bool, error) {
		a, err := cms.Get(ctx, "a", metav1.GetOptions{})
		return err == nil && a.Data["k"] == "v2", nil
	})

	// Drift: someone edits a field Tether owns, and deletes the other object.
	a, _ = cms.Get(ctx, "a", metav1.GetOptions{})
	a.Data["k"] = "tampered"
	_, err = cms.Update(ctx, a, metav1.UpdateOptions{FieldManager: "someone"})
	must(t, err)
	must(t, cms.Delete(ctx, "b", metav1.DeleteOptions{}))
	testenv.Eventually(t, time.Minute, "drift is repaired and the deleted object re-created", func() (bool, error) {
		a, err := cms.Get(ctx, "a", metav1.GetOptions{})
		if err != nil || a.Data["k"] != "v2" {
			return false, nil
		}
		_, err = cms.Get(ctx, "b", metav1.GetOptions{})
		return err == nil, nil
	})

	// Drift in metadata: someone rewrites an annotation Tether owns (the one
	// that routes the object's events to its Work), and adds one of its own.
	a, _ = cms.Get(ctx, "a", metav1.GetOptions{})
	a.Annotations[workv1alpha1.WorkNameAnnotation] = "someone-else"
	a.Annotations["example.com/note"] = "kept"
	_, err = cms.Update(ctx, a, metav1.UpdateOptions{FieldManager: "someone"})
	must(t, err)
	testenv.Eventually(t, time.Minute, "the owned annotation is restored and the foreign one kept", func() (bool, error) {
		a, err := cms.Get(ctx, "a", metav1.GetOptions{})
		return err == nil && a.Annotations[workv1alpha1.WorkNameAnnotation] == "life" && a.Annotations["example.com/note"] == "kept", nil
	})

	// GC: manifest b is removed from the Work.
	updateWork(t, es1, "life", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = manifests(t, configMap("life", "a", map[string]string{"k": "v2"}))
	})
	testenv.Eventually(t, time.Minute, "the removed manifest's object is garbage-collected", func() (bool, error) {
		_, err := cms.Get(ctx, "b", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})

	// No routine Events: nothing failed, so nothing was posted but one
	// Event per drift episode (the data, then the annotation).
	var drifts []string
	for _, ev := range eventsFor(t, es1, "life") {
		if ev.Reason != statuswork.EventDriftCorrected {
			t.Errorf("routine syncs posted an Event: %s: %s", ev.Reason, ev.Message)
			continue
		}
		drifts = append(drifts, ev.Message)
	}
	if len(drifts) != 2 {
		t.Errorf("%d drift Events, want 2 (one per episode): %q", len(drifts), drifts)
	}

	// Delete the Work: member objects go, then the finalizer.
	deleteWorkAndWait(t, es1, "life", cms, "a")
}

func TestPreserveOnDeletion(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "preserve")
	w := newWork("member1", "preserve", manifests(t, configMap("preserve", "kept", map[string]string{"k": "v"})))
	w.Spec.PreserveResourcesOnDeletion = ptr.To(true)
	createWork(t, w)
	waitApplied(t, es1, "preserve", metav1.ConditionTrue)
	must(t, hubClient(t).WorkV1alpha1().Works(es1).Delete(ctx, "preserve", metav1.DeleteOptions{}))
	testenv.Eventually(t, time.Minute, "the Work is gone", func() (bool, error) {
		_, err := hubClient(t).WorkV1alpha1().Works(es1).Get(ctx, "preserve", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	kept, err := memberClient(t, 0).CoreV1().ConfigMaps("preserve").Get(ctx, "kept", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("a preserved object was deleted: %v", err)
	}
	if _, ok := kept.Labels[workv1alpha1.ManagedLabel]; ok {
		t.Errorf("preserved object still carries %s", workv1alpha1.ManagedLabel)
	}
	for _, k := range []string{workv1alpha1.WorkNameAnnotation, workv1alpha1.WorkNamespaceAnnotation} {
		if _, ok := kept.Annotations[k]; ok {
			t.Errorf("preserved object still carries annotation %s", k)
		}
	}
	if kept.Data["k"] != "v" {
		t.Errorf("preserved data changed: %v", kept.Data)
	}
}

// TestDeletionNeverWedgesNorTouchesOthers deletes a Work whose object is
// already gone and whose other object was taken by another Work.
func TestDeletionNeverWedgesNorTouchesOthers(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "wedge")
	cms := memberClient(t, 0).CoreV1().ConfigMaps("wedge")
	w := newWork("member1", "wedge", manifests(t, configMap("wedge", "gone", map[string]string{"k": "v"})))
	w.Spec.PreserveResourcesOnDeletion = ptr.To(true) // karmada-agent wedges here when the object is gone
	createWork(t, w)
	waitApplied(t, es1, "wedge", metav1.ConditionTrue)
	other := newWork("member1", "wedge-other", manifests(t, configMap("wedge", "theirs", map[string]string{"k": "v"})))
	createWork(t, other)
	waitApplied(t, es1, "wedge-other", metav1.ConditionTrue)
	// Let the object disappear for good: suspend, then delete it.
	updateWork(t, es1, "wedge", func(w *workv1alpha1.Work) { w.Spec.SuspendDispatching = ptr.To(true) })
	testenv.Eventually(t, time.Minute, "suspended", func() (bool, error) {
		w, err := hubClient(t).WorkV1alpha1().Works(es1).Get(ctx, "wedge", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkDispatching)
		return c != nil && c.Status == metav1.ConditionFalse && c.ObservedGeneration == w.Generation, nil
	})
	must(t, cms.Delete(ctx, "gone", metav1.DeleteOptions{}))
	must(t, hubClient(t).WorkV1alpha1().Works(es1).Delete(ctx, "wedge", metav1.DeleteOptions{}))
	testenv.Eventually(t, time.Minute, "the Work with a vanished object is finalized", func() (bool, error) {
		_, err := hubClient(t).WorkV1alpha1().Works(es1).Get(ctx, "wedge", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if _, err := cms.Get(ctx, "theirs", metav1.GetOptions{}); err != nil {
		t.Fatalf("another Work's object was touched: %v", err)
	}
}

func TestConflictAbortAndOverwrite(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "conflict")
	cms := memberClient(t, 0).CoreV1().ConfigMaps("conflict")
	for _, name := range []string{"abort", "overwrite"} {
		_, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "conflict"}, Data: map[string]string{"k": "local"}}, metav1.CreateOptions{})
		must(t, err)
	}
	createWork(t, newWork("member1", "conflict-abort", manifests(t, configMap("conflict", "abort", map[string]string{"k": "hub"}))))
	w := waitApplied(t, es1, "conflict-abort", metav1.ConditionFalse)
	c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
	for _, want := range []string{"Failed to apply all manifests (0/1)", "ConfigMap/conflict/abort", "not managed by Karmada", workv1alpha1.ConflictResolutionAnnotation + "=overwrite"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("Applied message lacks %q: %s", want, c.Message)
		}
	}
	if c.Reason != workv1alpha1.ReasonAppliedFailed {
		t.Errorf("reason %s", c.Reason)
	}
	if live, _ := cms.Get(ctx, "abort", metav1.GetOptions{}); live.Data["k"] != "local" {
		t.Errorf("an unmanaged object was changed despite abort: %v", live.Data)
	}
	if ms := w.Status.ManifestStatuses; len(ms) != 1 || ms[0].Status == nil || !strings.Contains(string(ms[0].Status.Raw), "not managed by Karmada") {
		t.Errorf("the manifest's status entry does not carry the error: %+v", ms)
	}
	testenv.Eventually(t, time.Minute, "a Warning Event for the failed apply", func() (bool, error) {
		for _, e := range eventsFor(t, es1, "conflict-abort") {
			if e.Type == corev1.EventTypeWarning && e.Reason == "ApplyFailed" && strings.Contains(e.Message, "ConfigMap/conflict/abort") {
				return true, nil
			}
		}
		return false, nil
	})

	ow := configMap("conflict", "overwrite", map[string]string{"k": "hub"})
	ow = strings.Replace(ow, `"name":"overwrite"`, `"name":"overwrite","annotations":{"work.karmada.io/conflict-resolution":"overwrite"}`, 1)
	createWork(t, newWork("member1", "conflict-overwrite", manifests(t, ow)))
	waitApplied(t, es1, "conflict-overwrite", metav1.ConditionTrue)
	live, err := cms.Get(ctx, "overwrite", metav1.GetOptions{})
	must(t, err)
	if live.Data["k"] != "hub" || live.Labels[workv1alpha1.ManagedLabel] != "true" {
		t.Errorf("overwrite did not take the object over: data %v labels %v", live.Data, live.Labels)
	}
}

func TestSuspendMakesNoMemberWrites(t *testing.T) {
	a := member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "suspend")
	w := newWork("member1", "suspended", manifests(t, configMap("suspend", "s", map[string]string{"k": "v"})))
	w.Spec.SuspendDispatching = ptr.To(true)
	before, _ := writeLines(a.member)
	createWork(t, w)
	testenv.Eventually(t, time.Minute, "Dispatching=False/SuspendDispatching", func() (bool, error) {
		w, err := hubClient(t).WorkV1alpha1().Works(es1).Get(ctx, "suspended", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkDispatching)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == workv1alpha1.ReasonSuspendDispatching &&
			c.Message == workv1alpha1.MessageSuspendDispatching, nil
	})
	if _, err := memberClient(t, 0).CoreV1().ConfigMaps("suspend").Get(ctx, "s", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a suspended Work was applied: %v", err)
	}
	after, writes := writeLines(a.member)
	for _, wr := range writes[before:after] {
		if strings.Contains(wr, "/suspend/") {
			t.Errorf("member write for a suspended Work: %s", wr)
		}
	}
	updateWork(t, es1, "suspended", func(w *workv1alpha1.Work) { w.Spec.SuspendDispatching = nil })
	waitApplied(t, es1, "suspended", metav1.ConditionTrue)
}

func TestCRDWithResourceAndMissingNamespace(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	crd := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.tether.io}
spec:
  group: example.tether.io
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}`
	cr := `{"apiVersion":"example.tether.io/v1","kind":"Gadget","metadata":{"name":"g1","namespace":"gadgets"},"spec":{"size":1}}`
	ns := `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"gadgets"}}`
	// The custom resource comes first and its namespace last; ordering fixes both.
	createWork(t, newWork("member1", "gadgets", manifests(t, cr, crd, ns)))
	waitApplied(t, es1, "gadgets", metav1.ConditionTrue)
	dyn := dynamic.NewForConfigOrDie(testenv.Require(t).Members[0].Config)
	if _, err := dyn.Resource(schema.GroupVersionResource{Group: "example.tether.io", Version: "v1", Resource: "gadgets"}).Namespace("gadgets").Get(ctx, "g1", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}

	// A Work whose namespace comes later, from another Work: it fails, then
	// succeeds once the namespace exists.
	createWork(t, newWork("member1", "late-ns", manifests(t, configMap("late", "cm", map[string]string{"k": "v"}))))
	w := waitApplied(t, es1, "late-ns", metav1.ConditionFalse)
	if c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied); !strings.Contains(c.Message, "late") {
		t.Errorf("message does not name the missing namespace: %s", c.Message)
	}
	createWork(t, newWork("member1", "late-ns-namespace", manifests(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"late"}}`)))
	waitApplied(t, es1, "late-ns", metav1.ConditionTrue)
}

func TestInvalidManifestBesideValidOnes(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "mixed")
	ms := manifests(t,
		configMap("mixed", "ok-1", map[string]string{"k": "v"}),
		`{"apiVersion":"nowhere.example.com/v1","kind":"Ghost","metadata":{"name":"boo","namespace":"mixed"}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"bad","namespace":"mixed"},"spec":{"ports":[{"port":99999}]}}`,
		configMap("mixed", "ok-2", map[string]string{"k": "v"}))
	ms = append(ms, workv1alpha1.Manifest{})
	ms[4].Raw = []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}`)
	createWork(t, newWork("member1", "mixed", ms))
	w := waitApplied(t, es1, "mixed", metav1.ConditionFalse)
	c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
	for _, want := range []string{"(2/5)", "Ghost", "Service/mixed/bad", "manifest 4"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("Applied message lacks %q: %s", want, c.Message)
		}
	}
	for _, name := range []string{"ok-1", "ok-2"} {
		if _, err := memberClient(t, 0).CoreV1().ConfigMaps("mixed").Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("valid manifest %s not applied: %v", name, err)
		}
	}
	if n := len(w.Status.ManifestStatuses); n != 5 {
		t.Fatalf("want 5 manifest statuses, got %d", n)
	}
	for _, i := range []int{1, 2, 4} {
		if s := w.Status.ManifestStatuses[i].Status; s == nil || !strings.Contains(string(s.Raw), "applyError") {
			t.Errorf("manifest %d status lacks its error: %+v", i, w.Status.ManifestStatuses[i])
		}
	}
}

// TestGCOfAManifestRemovedBeforeStatusIsWritten removes a manifest from a
// Work before the agent wrote any status for it: the status lists nothing
// yet, so only the agent's own record of what it applied finds the object.
func TestGCOfAManifestRemovedBeforeStatusIsWritten(t *testing.T) {
	ctx := context.Background()
	es2 := workv1alpha1.ExecutionNamespace("member2")
	memberNamespace(t, 1, "early-gc")
	a := startAgent(t, "member2", 1, func(c *Config) { c.StatusWindow = time.Hour })
	defer a.stop(t)
	cms := memberClient(t, 1).CoreV1().ConfigMaps("early-gc")
	createWork(t, newWork("member2", "early-gc", manifests(t,
		configMap("early-gc", "a", map[string]string{"k": "v"}),
		configMap("early-gc", "b", map[string]string{"k": "v"}))))
	testenv.Eventually(t, time.Minute, "both objects applied", func() (bool, error) {
		_, errA := cms.Get(ctx, "a", metav1.GetOptions{})
		_, errB := cms.Get(ctx, "b", metav1.GetOptions{})
		return errA == nil && errB == nil, nil
	})
	w, err := hubClient(t).WorkV1alpha1().Works(es2).Get(ctx, "early-gc", metav1.GetOptions{})
	must(t, err)
	if len(w.Status.ManifestStatuses) != 0 {
		t.Fatalf("the status was written (%d manifest statuses); the test needs it unwritten", len(w.Status.ManifestStatuses))
	}
	updateWork(t, es2, "early-gc", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = manifests(t, configMap("early-gc", "a", map[string]string{"k": "v"}))
	})
	testenv.Eventually(t, time.Minute, "the removed manifest's object is garbage-collected", func() (bool, error) {
		_, err := cms.Get(ctx, "b", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	deleteWorkAndWait(t, es2, "early-gc", cms, "a")
}
