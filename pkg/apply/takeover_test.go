package apply

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
	"github.com/tether-io/tether/test/testenv"
)

// karmadaManifest is the content of the fixture Deployment in namespace ns,
// without what the server and the deployment controller add: what its Work
// lists.
func karmadaManifest(t *testing.T, ns string) *unstructured.Unstructured {
	t.Helper()
	obj := karmadaWorkload(t)
	obj.SetNamespace(ns)
	obj.SetResourceVersion("")
	obj.SetManagedFields(nil)
	obj.SetGeneration(0)
	unstructured.RemoveNestedField(obj.Object, "status")
	unstructured.RemoveNestedField(obj.Object, "metadata", "annotations", "deployment.kubernetes.io/revision")
	return obj
}

// TestTakeOwnershipFromKarmadaAgent runs the engine over a Deployment that
// karmada-agent created and that an earlier Tether co-owns: the run moves the ownership with one
// managedFields patch even from a stale read (the conflict is retried on a
// fresh one), applies nothing, and the next run finds nothing to do.
func TestTakeOwnershipFromKarmadaAgent(t *testing.T) {
	ctx := context.Background()
	a, dyn, counter := newApplier(t)
	namespace(t, a, "legacy")
	desired := karmadaManifest(t, "legacy")
	gvr := a.mustGVR(t, desired)
	deployments := dyn.Resource(gvr).Namespace("legacy")
	if _, err := deployments.Create(ctx, desired, metav1.CreateOptions{FieldManager: "karmada-agent"}); err != nil {
		t.Fatal(err)
	}
	created := rolledOut(t, deployments, "nginx", 1)

	// An earlier Tether applied the same content beside karmada-agent.
	if _, err := deployments.Apply(ctx, "nginx", desired, metav1.ApplyOptions{FieldManager: DefaultFieldManager, Force: true}); err != nil {
		t.Fatal(err)
	}
	// The engine reads the object as it was before that apply.
	stale := New(Config{Client: a.client, Kinds: a.kinds, Types: a.types, Cache: &staleOnce{obj: created}})
	counter.Reset()
	e := stale.ApplyOne(ctx, desired, Options{})
	if e.Err != nil || e.Action != Unchanged || !e.OwnershipMoved {
		t.Fatalf("take-over: %s moved=%t %v; want unchanged, moved", e.Action, e.OwnershipMoved, e.Err)
	}
	if st := stale.Stats(); st.Applies != 0 || st.OwnershipMoves != 2 {
		t.Errorf("take-over from a stale read: %d applies, %d ownership patches; want 0 and 2 (one refused)", st.Applies, st.OwnershipMoves)
	}
	if w := len(counter.Writes()); w != counter.Count(isPatch) {
		t.Errorf("writes other than patches: %v", methods(counter))
	}

	live, err := deployments.Get(ctx, "nginx", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if HasLegacyOwner(live) {
		t.Error("karmada-agent still has an Update entry")
	}
	if live.GetGeneration() != created.GetGeneration() {
		t.Errorf("generation moved from %d to %d", created.GetGeneration(), live.GetGeneration())
	}
	owned := a.ownedFields(live)
	if owned == nil || !owned.Has(fieldpath.MakePathOrDie("spec", "progressDeadlineSeconds")) {
		t.Errorf("Tether's Apply entry does not own what karmada-agent owned: %v", live.GetManagedFields())
	}

	counter.Reset()
	if e := a.ApplyOne(ctx, desired, Options{}); e.Action != Unchanged || e.OwnershipMoved || e.DecidedBy != "fieldset" {
		t.Errorf("after the take-over: %s moved=%t by %q %v; want unchanged by fieldset", e.Action, e.OwnershipMoved, e.DecidedBy, e.Err)
	}
	if w := len(counter.Writes()); w != 0 {
		t.Errorf("after the take-over the engine wrote %d times: %v", w, methods(counter))
	}

	// A field dropped from the manifest now leaves the object.
	unstructured.RemoveNestedField(desired.Object, "metadata", "labels", "propagationpolicy.karmada.io/permanent-id")
	if e := a.ApplyOne(ctx, desired, Options{}); e.Action != Configured {
		t.Fatalf("removed label: %s %v", e.Action, e.Err)
	}
	live, _ = deployments.Get(ctx, "nginx", metav1.GetOptions{})
	for k := range live.GetLabels() {
		if strings.HasPrefix(k, "propagationpolicy.karmada.io/") {
			t.Errorf("label %s removed from the manifest is still on the object", k)
		}
	}
}

// TestTakeOwnershipOfAnUndefaultedManifest: karmada-agent created an object
// from a manifest that leaves fields to the server's defaults, so its Update
// entry owns those defaults too. The take-over moves only what the manifest
// sets, and the object costs the ownership patch alone: no apply, and the
// defaults stay, owned by no one.
func TestTakeOwnershipOfAnUndefaultedManifest(t *testing.T) {
	ctx := context.Background()
	a, dyn, counter := newApplier(t)
	namespace(t, a, "legacy-plain")
	desired := objects(t, "legacy-plain", workload)[0]
	gvr := a.mustGVR(t, desired)
	deployments := dyn.Resource(gvr).Namespace("legacy-plain")
	if _, err := deployments.Create(ctx, desired, metav1.CreateOptions{FieldManager: "karmada-agent"}); err != nil {
		t.Fatal(err)
	}
	rolledOut(t, deployments, "web", 2)
	counter.Reset()
	before := a.Stats()
	e := a.ApplyOne(ctx, desired, Options{})
	if e.Err != nil || e.Action != Unchanged || !e.OwnershipMoved {
		t.Fatalf("take-over: %s moved=%t %v; want unchanged, moved", e.Action, e.OwnershipMoved, e.Err)
	}
	after := a.Stats()
	if moves := after.OwnershipMoves - before.OwnershipMoves; moves < 1 || int64(len(counter.Writes())) != moves {
		t.Errorf("take-over wrote %v with %d ownership patches; want those patches only", methods(counter), moves)
	}
	if n := after.Applies - before.Applies; n != 0 {
		t.Errorf("take-over applied %d times", n)
	}
	live, err := deployments.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := fieldpath.MakePathOrDie("spec", "progressDeadlineSeconds")
	if owned := a.ownedFields(live); owned == nil || owned.Has(deadline) || !owned.Has(fieldpath.MakePathOrDie("spec", "replicas")) {
		t.Errorf("Tether's Apply entry after the take-over: %v", live.GetManagedFields())
	}
	if v, _, _ := unstructured.NestedInt64(live.Object, "spec", "progressDeadlineSeconds"); v != 600 {
		t.Errorf("a default karmada-agent owned is gone: progressDeadlineSeconds=%d", v)
	}
}

// rolledOut waits until the Deployment's rollout is complete, so that the
// deployment controller does not write to it while a test counts writes, and
// returns it.
func rolledOut(t *testing.T, deployments dynamic.ResourceInterface, name string, replicas int64) *unstructured.Unstructured {
	t.Helper()
	var d *unstructured.Unstructured
	testenv.Eventually(t, time.Minute, "Deployment "+name+" rolled out", func() (bool, error) {
		var err error
		if d, err = deployments.Get(context.Background(), name, metav1.GetOptions{}); err != nil {
			return false, err
		}
		observed, _, _ := unstructured.NestedInt64(d.Object, "status", "observedGeneration")
		available, _, _ := unstructured.NestedInt64(d.Object, "status", "availableReplicas")
		return observed == d.GetGeneration() && available == replicas, nil
	})
	return d
}

// staleOnce is a member cache that serves obj once, then nothing.
type staleOnce struct {
	obj    *unstructured.Unstructured
	served atomic.Bool
}

func (s *staleOnce) Live(id manifest.Identity) member.Answer {
	if s.served.Swap(true) {
		return member.Answer{ID: id, State: member.Absent}
	}
	return member.Answer{ID: id, State: member.Present, Object: s.obj.DeepCopy()}
}

func (s *staleOnce) OwnedFields(*unstructured.Unstructured) []byte { return nil }
