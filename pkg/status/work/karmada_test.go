package work

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
	"github.com/tether-io/tether/pkg/status/interpret"
	"github.com/tether-io/tether/test/karmadafixture"
	"github.com/tether-io/tether/test/testenv"
)

// karmadaWork is the recorded Work, in namespace ns, with the status
// karmada-agent wrote, and the member Deployment in the state that status
// shows (the recording of the Deployment has no status of its own).
func karmadaWork(t *testing.T, ns string) (*workv1alpha1.Work, *unstructured.Unstructured) {
	t.Helper()
	work := karmadafixture.RecordedWork(t, "edge")
	work.Namespace, work.ManagedFields = ns, nil
	live := karmadafixture.WorkloadObject(t, "edge") // numbers as int64, as from a client
	live.SetManagedFields(nil)
	var reflected map[string]any
	if err := json.Unmarshal(work.Status.ManifestStatuses[0].Status.Raw, &reflected); err != nil {
		t.Fatal(err)
	}
	status := map[string]any{}
	for _, k := range []string{"replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "observedGeneration"} {
		status[k] = int64(reflected[k].(float64))
	}
	live.Object["status"] = status
	return work, live
}

// syncOutcome is the outcome the Work controller reports for a Work whose
// manifests all applied (pkg/execution's Applied and Dispatching conditions).
func syncOutcome(generation int64) ApplyOutcome {
	return ApplyOutcome{Generation: generation,
		Applied: &metav1.Condition{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue,
			Reason: workv1alpha1.ReasonAppliedSuccessful, Message: workv1alpha1.MessageAppliedSuccessful, ObservedGeneration: generation},
		Dispatching: &metav1.Condition{Type: workv1alpha1.WorkDispatching, Status: metav1.ConditionTrue,
			Reason: workv1alpha1.ReasonDispatching, Message: workv1alpha1.MessageDispatching, ObservedGeneration: generation}}
}

// When Tether takes over a Work from karmada-agent, with the member object
// as karmada-agent left it, the status it computes says what karmada-agent
// wrote, field by field, and it writes nothing: not on its first look at the
// Work, not after the Work controller reports the apply.
func TestTakeoverFromKarmadaAgentRewritesNoStatus(t *testing.T) {
	const ns = "karmada-es-edge"
	env := testenv.Require(t)
	ctx := context.Background()
	work, live := karmadaWork(t, ns)
	want := *work.Status.DeepCopy()
	kube := kubernetes.NewForConfigOrDie(env.Hub.Config)
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	created, err := hub.WorkV1alpha1().Works(ns).Create(ctx, work, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status = *want.DeepCopy()
	if _, err := hub.WorkV1alpha1().Works(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	source := func(id manifest.Identity) member.Answer {
		if id.Kind == live.GetKind() && id.Namespace == live.GetNamespace() && id.Name == live.GetName() {
			return member.Answer{State: member.Present, ID: id, Object: live.DeepCopy()}
		}
		return member.Answer{State: member.Absent, ID: id}
	}
	w := startHubWriter(t, ns, source, interpret.Health)
	key := ns + "/" + work.Name
	w.Touch(key) // the first look, as after a start
	testenv.Eventually(t, time.Minute, "the writer idle after its first look", w.idle)
	stored := w.get(t, ns, work.Name)
	outcome := syncOutcome(stored.Generation)
	got, pending := w.build(stored, outcome, true)
	if pending {
		t.Fatal("the status build waits for a member cache")
	}
	compareWithKarmada(t, got, want)
	w.SetOutcome(key, outcome)
	testenv.Eventually(t, time.Minute, "the writer idle after the apply outcome", w.idle)
	if n, _ := countWrites(w.requests, 0); n != 0 {
		t.Errorf("%d Work status writes on taking over from karmada-agent, want none", n)
	}
	after := w.get(t, ns, work.Name)
	if c := meta.FindStatusCondition(after.Status.Conditions, workv1alpha1.WorkApplied); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Applied on the hub after the takeover: %+v", c)
	}
}

// compareWithKarmada compares Tether's status with karmada-agent's, field
// by field: conditions by type, status, reason, message and transition
// time (Tether's observedGeneration is its own extension); manifest
// statuses by identifier, reflected status (as JSON values) and health.
func compareWithKarmada(t *testing.T, got, want workv1alpha1.WorkStatus) {
	t.Helper()
	if len(got.Conditions) != len(want.Conditions) {
		t.Fatalf("%d conditions, karmada-agent wrote %d: %+v", len(got.Conditions), len(want.Conditions), got.Conditions)
	}
	for i, w := range want.Conditions {
		g := got.Conditions[i]
		if g.Type != w.Type || g.Status != w.Status || g.Reason != w.Reason || g.Message != w.Message || !g.LastTransitionTime.Equal(&w.LastTransitionTime) {
			t.Errorf("condition %d: got %+v, karmada-agent wrote %+v", i, g, w)
		}
	}
	if len(got.ManifestStatuses) != len(want.ManifestStatuses) {
		t.Fatalf("%d manifest statuses, karmada-agent wrote %d", len(got.ManifestStatuses), len(want.ManifestStatuses))
	}
	for i, w := range want.ManifestStatuses {
		g := got.ManifestStatuses[i]
		if g.Identifier != w.Identifier {
			t.Errorf("manifest %d: identifier %+v, karmada-agent wrote %+v", i, g.Identifier, w.Identifier)
		}
		if g.Health != w.Health {
			t.Errorf("manifest %d: health %s, karmada-agent wrote %s", i, g.Health, w.Health)
		}
		if !sameJSON(g.Status, w.Status) {
			t.Errorf("manifest %d: status %s, karmada-agent wrote %s", i, rawOf(g.Status), rawOf(w.Status))
		}
	}
}

func sameJSON(a, b *runtime.RawExtension) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	if json.Unmarshal(a.Raw, &x) != nil || json.Unmarshal(b.Raw, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

func rawOf(r *runtime.RawExtension) string {
	if r == nil {
		return "(none)"
	}
	return string(r.Raw)
}

// An empty member status is stored on the hub as {} where karmada-agent
// writes {} (a new CronJob, a custom resource with an empty status), and
// is absent where karmada-agent writes nothing (a Deployment whose
// controller has not reported yet); never null.
func TestEmptyStatusIsStoredAsEmptyObject(t *testing.T) {
	const ns, name = "empty-status", "mixed"
	manifests := []string{
		`{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"nightly","namespace":"apps"}}`,
		`{"apiVersion":"example.io/v1","kind":"Widget","metadata":{"name":"w","namespace":"apps"}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"apps"}}`,
	}
	want := []string{"{}", "{}", ""} // "" is absent
	source := func(id manifest.Identity) member.Answer {
		obj := objectOf(id)
		obj.Object["status"] = map[string]any{}
		return member.Answer{State: member.Present, ID: id, Object: obj}
	}
	w := startHubWriter(t, ns, source, interpret.Health)
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	for _, m := range manifests {
		work.Spec.Workload.Manifests = append(work.Spec.Workload.Manifests, workv1alpha1.Manifest{RawExtension: runtime.RawExtension{Raw: []byte(m)}})
	}
	if _, err := w.hub.WorkV1alpha1().Works(ns).Create(context.Background(), work, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, "the status written", func() (bool, error) {
		return len(w.get(t, ns, name).Status.ManifestStatuses) == len(manifests), nil
	})
	// The stored JSON, as the hub serves it.
	raw, err := w.hub.WorkV1alpha1().RESTClient().Get().Namespace(ns).Resource("works").Name(name).DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Status struct {
			ManifestStatuses []map[string]json.RawMessage `json:"manifestStatuses"`
		} `json:"status"`
	}
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	for i, ms := range stored.Status.ManifestStatuses {
		got, present := ms["status"]
		switch {
		case want[i] == "" && present:
			t.Errorf("manifest %d: status %s stored, karmada-agent writes none", i, got)
		case want[i] != "" && (!present || string(got) != want[i]):
			t.Errorf("manifest %d: status %q (present %v) stored, want %s", i, got, present, want[i])
		}
	}
}
