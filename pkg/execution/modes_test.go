package execution

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/drift"
	"github.com/tether-io/tether/test/testenv"
)

// writesTo counts the member writes a Recorder saw to objects whose path
// contains part.
func writesTo(rec *testenv.Recorder, part string) int {
	return rec.Count(func(r testenv.Request) bool { return r.Write() && strings.Contains(r.Path, part) })
}

// TestIgnoreAutoscalerMakesNoMemberWrites runs the agent over a Deployment
// whose manifest ignores /spec/replicas while an autoscaler in the member
// rescales it again and again: every rescale reaches the agent (a re-sync)
// and none makes it write; the replicas and their ownership stay the
// autoscaler's. A change on the hub is applied without them.
func TestIgnoreAutoscalerMakesNoMemberWrites(t *testing.T) {
	a := member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "ignore-hpa")
	d := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ignore-hpa",
"annotations":{"tether.io/drift-mode":"ignore","tether.io/drift-ignore-paths":"/spec/replicas"}},
"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`
	createWork(t, newWork("member1", "ignore-hpa", manifests(t, d)))
	waitApplied(t, es1, "ignore-hpa", metav1.ConditionTrue)
	deploys := memberClient(t, 0).AppsV1().Deployments("ignore-hpa")
	const object = "/namespaces/ignore-hpa/deployments/web"
	a.member.Reset()
	for replicas := int32(3); replicas <= 7; replicas++ {
		before := a.ctrl.Stats().LocalSame
		testenv.Eventually(t, time.Minute, "the autoscaler rescales", func() (bool, error) {
			s, err := deploys.GetScale(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			s.Spec.Replicas = replicas
			_, err = deploys.UpdateScale(ctx, "web", s, metav1.UpdateOptions{FieldManager: "autoscaler"})
			return err == nil, nil // a conflict with the deployment controller is retried
		})
		// The rescale re-syncs the Work, which the engine finds unchanged.
		testenv.Eventually(t, time.Minute, "the agent re-syncs after the rescale", func() (bool, error) {
			return a.ctrl.Stats().LocalSame > before, nil
		})
	}
	if n := writesTo(a.member, object); n != 0 {
		_, lines := writeLines(a.member)
		t.Fatalf("the agent wrote the Deployment %d times while the autoscaler rescaled it: %v", n, lines)
	}
	live, err := deploys.Get(ctx, "web", metav1.GetOptions{})
	must(t, err)
	if got := ptr.Deref(live.Spec.Replicas, 0); got != 7 {
		t.Errorf("replicas %d, want the autoscaler's 7", got)
	}
	for _, mf := range live.ManagedFields {
		if mf.Manager == "tether" && strings.Contains(mf.FieldsV1.GetRawString(), `"f:replicas"`) {
			t.Errorf("Tether still owns spec.replicas: %s", mf.FieldsV1.GetRawString())
		}
	}

	// A change on the hub is applied, and leaves the replicas alone.
	updateWork(t, es1, "ignore-hpa", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = manifests(t, strings.Replace(d, `"image":"nginx"`, `"image":"nginx:1.27"`, 1))
	})
	testenv.Eventually(t, time.Minute, "the hub change lands", func() (bool, error) {
		live, err = deploys.Get(ctx, "web", metav1.GetOptions{})
		return err == nil && live.Spec.Template.Spec.Containers[0].Image == "nginx:1.27", nil
	})
	if got := ptr.Deref(live.Spec.Replicas, 0); got != 7 {
		t.Errorf("after the hub change: replicas %d, want the autoscaler's 7", got)
	}
	if n := writesTo(a.member, object); n != 1 {
		_, lines := writeLines(a.member)
		t.Errorf("the hub change took %d writes of the Deployment, want 1: %v", n, lines)
	}
}

// TestInvalidDriftAnnotationFailsOneManifest: a manifest with a bad drift
// annotation fails alone, with a message naming the annotation that does
// not quote its value; the Work's other manifest is applied.
func TestInvalidDriftAnnotationFailsOneManifest(t *testing.T) {
	member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "bad-drift")
	bad := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bad","namespace":"bad-drift",
"annotations":{"tether.io/drift-mode":"ignore","tether.io/drift-ignore-paths":"data.password-hunter2"}},"data":{"k":"v"}}`
	createWork(t, newWork("member1", "bad-drift", manifests(t, bad, configMap("bad-drift", "good", map[string]string{"k": "v"}))))
	w := waitApplied(t, es1, "bad-drift", metav1.ConditionFalse)
	c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
	for _, want := range []string{"(1/2)", "ConfigMap/bad-drift/bad", "tether.io/drift-ignore-paths", "start with '/'"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("Applied message lacks %q: %s", want, c.Message)
		}
	}
	if strings.Contains(c.Message, "hunter2") {
		t.Errorf("the message quotes the annotation: %s", c.Message)
	}
	found := false
	for _, s := range w.Status.ManifestStatuses {
		found = found || (s.Identifier.Ordinal == 0 && s.Status != nil && strings.Contains(string(s.Status.Raw), "drift-ignore-paths"))
	}
	if !found {
		t.Errorf("the bad manifest's status lacks its error: %+v", w.Status.ManifestStatuses)
	}
	if _, err := memberClient(t, 0).CoreV1().ConfigMaps("bad-drift").Get(ctx, "good", metav1.GetOptions{}); err != nil {
		t.Errorf("the valid manifest was not applied: %v", err)
	}
	if _, err := memberClient(t, 0).CoreV1().ConfigMaps("bad-drift").Get(ctx, "bad", metav1.GetOptions{}); err == nil {
		t.Error("the manifest with the bad annotation was applied")
	}
}

// driftRecord returns the drift record on the Work's status entry of
// ordinal i, nil when there is none.
func driftRecord(t *testing.T, ns, name string, i int) *drift.Record {
	t.Helper()
	w, err := hubClient(t).WorkV1alpha1().Works(ns).Get(context.Background(), name, metav1.GetOptions{})
	must(t, err)
	for _, ms := range w.Status.ManifestStatuses {
		if ms.Identifier.Ordinal == i && ms.Status != nil {
			return drift.Decode(ms.Status.Raw)
		}
	}
	return nil
}

// TestReportLeavesTheMemberEdit runs the agent over a ConfigMap in mode
// report: a member edit is recorded on the Work (Drifted, its path, both
// values, the editing manager) and stays, with no member write by the
// agent; a change of the manifest on the hub is then applied whole.
func TestReportLeavesTheMemberEdit(t *testing.T) {
	a := member1Agent(t)
	ctx := context.Background()
	memberNamespace(t, 0, "report-agent")
	cm := func(value string) string {
		return `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"report-agent",
"annotations":{"tether.io/drift-mode":"report"}},"data":{"k":"` + value + `"}}`
	}
	createWork(t, newWork("member1", "report-agent", manifests(t, cm("v1"))))
	waitApplied(t, es1, "report-agent", metav1.ConditionTrue)
	cms := memberClient(t, 0).CoreV1().ConfigMaps("report-agent")
	const object = "/namespaces/report-agent/configmaps/cfg"
	a.member.Reset()
	live, err := cms.Get(ctx, "cfg", metav1.GetOptions{})
	must(t, err)
	live.Data["k"] = "edited"
	_, err = cms.Update(ctx, live, metav1.UpdateOptions{FieldManager: "operator"})
	must(t, err)
	var r *drift.Record
	testenv.Eventually(t, time.Minute, "the drift recorded on the Work", func() (bool, error) {
		r = driftRecord(t, es1, "report-agent", 0)
		return r != nil, nil
	})
	if r.Mode != string(drift.Report) || r.State != drift.Drifted || r.Repairs != 0 || len(r.Fields) != 1 {
		t.Fatalf("record %+v, want mode report, Drifted, no repair, one field", r)
	}
	if f := r.Fields[0]; f.Path != "/data/k" || f.ValueInMember != `"edited"` || f.ValueInHub != `"v1"` || f.Manager != "operator" {
		t.Errorf("drifted field %+v", f)
	}
	// The sync that recorded the drift wrote nothing to the member; any
	// later one that did would show in the count after the hub change.
	if n := writesTo(a.member, object); n != 0 {
		_, lines := writeLines(a.member)
		t.Fatalf("the agent wrote the ConfigMap %d times under report: %v", n, lines)
	}

	// The hub changes the manifest: applied whole, and the record goes.
	updateWork(t, es1, "report-agent", func(w *workv1alpha1.Work) { w.Spec.Workload.Manifests = manifests(t, cm("v2")) })
	testenv.Eventually(t, time.Minute, "the hub change applied", func() (bool, error) {
		got, err := cms.Get(ctx, "cfg", metav1.GetOptions{})
		return err == nil && got.Data["k"] == "v2", nil
	})
	if n := writesTo(a.member, object); n != 1 {
		_, lines := writeLines(a.member)
		t.Errorf("%d writes of the ConfigMap, want the hub change's 1: %v", n, lines)
	}
	testenv.Eventually(t, time.Minute, "the drift record ends with the hub change", func() (bool, error) {
		return driftRecord(t, es1, "report-agent", 0) == nil, nil
	})
}
