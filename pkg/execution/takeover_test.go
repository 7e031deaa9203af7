package execution

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/test/karmadafixture"
	"github.com/tether-io/tether/test/testenv"
)

// createAsKarmadaAgent creates the fixture Deployment in namespace ns the way
// karmada-agent does (an Update-operation create under its field manager)
// and checks that the member recorded the fixture's ownership for it.
// edit, if set, changes the object first (as the Work's manifest must be).
func createAsKarmadaAgent(t *testing.T, cluster, ns string, edit func(*appsv1.Deployment)) *appsv1.Deployment {
	t.Helper()
	recorded := karmadafixture.Deployment(t, cluster)
	d := recorded.DeepCopy()
	d.Namespace, d.ManagedFields, d.Generation, d.Status = ns, nil, 0, appsv1.DeploymentStatus{}
	delete(d.Annotations, "deployment.kubernetes.io/revision") // the deployment controller's
	if edit != nil {
		edit(d)
	}
	created, err := memberClient(t, 0).AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{FieldManager: "karmada-agent"})
	must(t, err)
	want, _ := managedEntry(recorded.ManagedFields, "karmada-agent", metav1.ManagedFieldsOperationUpdate)
	got, ok := managedEntry(created.ManagedFields, "karmada-agent", metav1.ManagedFieldsOperationUpdate)
	if edit == nil && (!ok || !fieldsOf(t, got).Equals(fieldsOf(t, want))) {
		t.Fatalf("the member did not record karmada-agent's ownership as in the fixture:\n got %s\nwant %s", got.FieldsV1, want.FieldsV1)
	}
	return created
}

// karmadaWork is the fixture's Work for cluster, its manifest moved to ns
// and changed by edit, if set.
func karmadaWork(t *testing.T, cluster, ns string, edit func(*unstructured.Unstructured)) *workv1alpha1.Work {
	t.Helper()
	w := karmadafixture.RecordedWork(t, cluster)
	w.ManagedFields, w.Status = nil, workv1alpha1.WorkStatus{}
	w.Spec.Workload.Manifests[0].Raw = editManifest(t, w.Spec.Workload.Manifests[0].Raw, func(m *unstructured.Unstructured) {
		m.SetNamespace(ns)
		if edit != nil {
			edit(m)
		}
	})
	return w
}

func editManifest(t *testing.T, raw []byte, edit func(*unstructured.Unstructured)) []byte {
	t.Helper()
	m := &unstructured.Unstructured{}
	must(t, m.UnmarshalJSON(raw))
	edit(m)
	out, err := m.MarshalJSON()
	must(t, err)
	return out
}

func managedEntry(entries []metav1.ManagedFieldsEntry, manager string, op metav1.ManagedFieldsOperationType) (metav1.ManagedFieldsEntry, bool) {
	for _, e := range entries {
		if e.Manager == manager && e.Operation == op && e.Subresource == "" {
			return e, true
		}
	}
	return metav1.ManagedFieldsEntry{}, false
}

func fieldsOf(t *testing.T, e metav1.ManagedFieldsEntry) *fieldpath.Set {
	t.Helper()
	s := &fieldpath.Set{}
	if e.FieldsV1 != nil {
		must(t, s.FromJSON(bytes.NewReader(e.FieldsV1.GetRawBytes())))
	}
	return s
}

// rollout is what must survive a take-over untouched: the Deployment's
// identity, generation and template, and the ReplicaSets and Pods it runs.
type rollout struct {
	uid        types.UID
	generation int64
	template   any
	replicaSet map[string]string // name: pod-template-hash
	pods       map[string]types.UID
}

// settledRollout waits until the Deployment's rollout is complete and no
// controller has more to write, and returns it.
func settledRollout(t *testing.T, ns, name string) rollout {
	t.Helper()
	cs := memberClient(t, 0)
	var r rollout
	testenv.Eventually(t, time.Minute, "the rollout of "+name+" completes", func() (bool, error) {
		ctx := context.Background()
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		want := *d.Spec.Replicas
		st := d.Status
		if st.ObservedGeneration != d.Generation || st.UpdatedReplicas != want || st.AvailableReplicas != want || st.Replicas != want {
			return false, nil
		}
		r = rollout{uid: d.UID, generation: d.Generation, template: d.Spec.Template, replicaSet: map[string]string{}, pods: map[string]types.UID{}}
		rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false, nil
		}
		for _, rs := range rss.Items {
			r.replicaSet[rs.Name] = rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		}
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false, nil
		}
		for _, p := range pods.Items {
			r.pods[p.Name] = p.UID
		}
		return len(r.pods) == int(want), nil
	})
	return r
}

// untouched fails the test when the rollout differs from before.
func untouched(t *testing.T, before, after rollout) {
	t.Helper()
	if after.uid != before.uid {
		t.Errorf("the Deployment was re-created: UID %s became %s", before.uid, after.uid)
	}
	if after.generation != before.generation {
		t.Errorf("the Deployment's generation moved from %d to %d", before.generation, after.generation)
	}
	if !equality.Semantic.DeepEqual(after.template, before.template) {
		t.Errorf("the pod template changed:\nbefore %+v\n after %+v", before.template, after.template)
	}
	if !equality.Semantic.DeepEqual(after.replicaSet, before.replicaSet) {
		t.Errorf("ReplicaSets (name: pod-template-hash) changed from %v to %v", before.replicaSet, after.replicaSet)
	}
	if !equality.Semantic.DeepEqual(after.pods, before.pods) {
		t.Errorf("Pods changed from %v to %v", before.pods, after.pods)
	}
}

// ownershipOnly fails unless body is a JSON patch that touches nothing but
// metadata.managedFields and the resourceVersion guard.
func ownershipOnly(t *testing.T, write string) {
	t.Helper()
	method, rest, _ := strings.Cut(write, " ")
	_, body, _ := strings.Cut(rest, " ")
	var ops []struct{ Op, Path string }
	if method != "PATCH" || json.Unmarshal([]byte(body), &ops) != nil || len(ops) == 0 {
		t.Errorf("the write is not a JSON patch: %.300s", write)
		return
	}
	for _, op := range ops {
		if op.Path != "/metadata/managedFields" && op.Path != "/metadata/resourceVersion" {
			t.Errorf("the ownership patch touches %s (%s)", op.Path, op.Op)
		}
	}
}

// TestTakeOverFromKarmadaAgent starts Tether on a member where karmada-agent
// applied a Deployment (the recorded fixture, with its Work on the hub). The
// take-over costs one managedFields-only patch and leaves the rollout alone;
// afterwards Tether owns what karmada-agent owned, so a field removed from the
// Work leaves the member object, and a restart writes nothing.
func TestTakeOverFromKarmadaAgent(t *testing.T) {
	const cluster, ns = "takeover", "takeover"
	es := workv1alpha1.ExecutionNamespace(cluster)
	ctx := context.Background()
	memberNamespace(t, 0, ns)
	agentHubConfig(t, cluster) // creates the execution namespace
	createAsKarmadaAgent(t, cluster, ns, nil)
	work := createWork(t, karmadaWork(t, cluster, ns, nil))
	before := settledRollout(t, ns, "nginx")

	first := startAgent(t, cluster, 0, nil)
	waitApplied(t, es, work.Name, metav1.ConditionTrue)
	waitIdle(t, first)
	n, writes := writeLines(first.member)
	if n != 1 {
		t.Errorf("taking over made %d member writes, want 1 (the ownership patch): %v", n, writes)
	}
	for _, w := range writes {
		ownershipOnly(t, w)
	}
	if st := first.ctrl.Stats(); st.Applies != 0 || st.OwnershipMoves != 1 {
		t.Errorf("engine stats after the take-over: %d applies, %d ownership moves; want 0 and 1", st.Applies, st.OwnershipMoves)
	}
	untouched(t, before, settledRollout(t, ns, "nginx"))
	d, err := memberClient(t, 0).AppsV1().Deployments(ns).Get(ctx, "nginx", metav1.GetOptions{})
	must(t, err)
	if _, ok := managedEntry(d.ManagedFields, "karmada-agent", metav1.ManagedFieldsOperationUpdate); ok {
		t.Error("karmada-agent still has an Update entry for the Deployment")
	}
	mine, ok := managedEntry(d.ManagedFields, apply.DefaultFieldManager, metav1.ManagedFieldsOperationApply)
	image := fieldpath.MakePathOrDie("spec", "template", "spec", "containers", fieldpath.KeyByFields("name", "nginx"), "image")
	label := fieldpath.MakePathOrDie("metadata", "labels", "propagationpolicy.karmada.io/permanent-id")
	if !ok || !fieldsOf(t, mine).Has(image) || !fieldsOf(t, mine).Has(label) {
		t.Errorf("Tether does not own the container image and the labels: %+v", d.ManagedFields)
	}

	// A label dropped from the Work leaves the member object (it would stay
	// while karmada-agent's Update entry still owned it).
	updateWork(t, es, work.Name, func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests[0].Raw = editManifest(t, w.Spec.Workload.Manifests[0].Raw, func(m *unstructured.Unstructured) {
			unstructured.RemoveNestedField(m.Object, "metadata", "labels", "propagationpolicy.karmada.io/permanent-id")
		})
	})
	testenv.Eventually(t, time.Minute, "the label removed from the Work leaves the member object", func() (bool, error) {
		d, err := memberClient(t, 0).AppsV1().Deployments(ns).Get(ctx, "nginx", metav1.GetOptions{})
		_, has := d.Labels["propagationpolicy.karmada.io/permanent-id"]
		return err == nil && !has, nil
	})
	waitApplied(t, es, work.Name, metav1.ConditionTrue)
	untouched(t, before, settledRollout(t, ns, "nginx"))
	waitIdle(t, first)
	first.stop(t)

	second := startAgent(t, cluster, 0, nil)
	defer second.stop(t)
	waitIdle(t, second)
	if n, writes := writeLines(second.member); n != 0 {
		t.Errorf("a restart after the take-over made %d member writes: %v", n, writes)
	}
	deleteDeploymentWork(t, es, work.Name, ns, "nginx")
}

// TestTakeOverLeavesOtherManagersAlone: an object of the Work that another
// manager (not karmada-agent) wrote is not patched for ownership; Tether
// applies it as it applies any object it does not own yet, and the other
// manager keeps its entry.
func TestTakeOverLeavesOtherManagersAlone(t *testing.T) {
	const cluster, ns = "takeover-other", "takeover-other"
	es := workv1alpha1.ExecutionNamespace(cluster)
	ctx := context.Background()
	memberNamespace(t, 0, ns)
	agentHubConfig(t, cluster) // creates the execution namespace
	d := karmadafixture.Deployment(t, cluster)
	d.Namespace, d.ManagedFields, d.Status = ns, nil, appsv1.DeploymentStatus{}
	_, err := memberClient(t, 0).AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{FieldManager: "someone-else"})
	must(t, err)
	work := createWork(t, karmadaWork(t, cluster, ns, nil))
	before := settledRollout(t, ns, "nginx")

	a := startAgent(t, cluster, 0, nil)
	defer a.stop(t)
	waitApplied(t, es, work.Name, metav1.ConditionTrue)
	waitIdle(t, a)
	if st := a.ctrl.Stats(); st.OwnershipMoves != 0 {
		t.Errorf("%d ownership patches for an object karmada-agent never wrote", st.OwnershipMoves)
	}
	_, writes := writeLines(a.member)
	for _, w := range writes {
		if strings.Contains(w, "/metadata/managedFields") {
			t.Errorf("a managedFields patch for an object karmada-agent never wrote: %.200s", w)
		}
	}
	untouched(t, before, settledRollout(t, ns, "nginx"))
	live, err := memberClient(t, 0).AppsV1().Deployments(ns).Get(ctx, "nginx", metav1.GetOptions{})
	must(t, err)
	if _, ok := managedEntry(live.ManagedFields, "someone-else", metav1.ManagedFieldsOperationUpdate); !ok {
		t.Errorf("the other manager lost its entry: %+v", live.ManagedFields)
	}
	deleteDeploymentWork(t, es, work.Name, ns, "nginx")
}

// deleteDeploymentWork deletes a Work and waits until its Deployment and then
// the Work are gone (the finalizer released).
func deleteDeploymentWork(t *testing.T, es, work, ns, deployment string) {
	t.Helper()
	must(t, hubClient(t).WorkV1alpha1().Works(es).Delete(context.Background(), work, metav1.DeleteOptions{}))
	testenv.Eventually(t, time.Minute, "the Deployment and then the Work are deleted", func() (bool, error) {
		ctx := context.Background()
		if _, err := memberClient(t, 0).AppsV1().Deployments(ns).Get(ctx, deployment, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, nil
		}
		_, err := hubClient(t).WorkV1alpha1().Works(es).Get(ctx, work, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// TestTakeOverLeavesRetainedReplicas: with the retain-replicas label the
// agent leaves spec.replicas to the member (an autoscaler), so the take-over
// must not make Tether its owner: the next apply would remove it and the
// Deployment would fall back to one replica.
func TestTakeOverLeavesRetainedReplicas(t *testing.T) {
	const cluster, ns = "takeover-retain", "takeover-retain"
	es := workv1alpha1.ExecutionNamespace(cluster)
	memberNamespace(t, 0, ns)
	agentHubConfig(t, cluster) // creates the execution namespace
	createAsKarmadaAgent(t, cluster, ns, func(d *appsv1.Deployment) {
		d.Labels[workv1alpha1.RetainReplicasLabel] = "true"
		d.Spec.Replicas = ptr.To[int32](2)
	})
	work := createWork(t, karmadaWork(t, cluster, ns, func(m *unstructured.Unstructured) {
		labels := m.GetLabels()
		labels[workv1alpha1.RetainReplicasLabel] = "true"
		m.SetLabels(labels)
		must(t, unstructured.SetNestedField(m.Object, int64(2), "spec", "replicas"))
	}))
	before := settledRollout(t, ns, "nginx")

	a := startAgent(t, cluster, 0, nil)
	defer a.stop(t)
	waitApplied(t, es, work.Name, metav1.ConditionTrue)
	waitIdle(t, a)
	if st := a.ctrl.Stats(); st.Applies != 0 || st.OwnershipMoves != 1 {
		t.Errorf("engine stats after the take-over: %d applies, %d ownership moves; want 0 and 1", st.Applies, st.OwnershipMoves)
	}
	d, err := memberClient(t, 0).AppsV1().Deployments(ns).Get(context.Background(), "nginx", metav1.GetOptions{})
	must(t, err)
	if *d.Spec.Replicas != 2 {
		t.Errorf("spec.replicas is %d after the take-over, want 2", *d.Spec.Replicas)
	}
	mine, _ := managedEntry(d.ManagedFields, apply.DefaultFieldManager, metav1.ManagedFieldsOperationApply)
	if fieldsOf(t, mine).Has(fieldpath.MakePathOrDie("spec", "replicas")) {
		t.Error("Tether owns spec.replicas of a Deployment whose replicas are retained")
	}
	untouched(t, before, settledRollout(t, ns, "nginx"))
	deleteDeploymentWork(t, es, work.Name, ns, "nginx")
}

// TestRetainLabelKeepsTheReplicasTetherApplied: a Deployment Tether applied
// with spec.replicas whose template then gets the retain-replicas label
// (replicas left to an HPA; the manifest no longer sets them) keeps its
// replicas: the next apply must not remove a field Tether owned, which
// would drop the workload to one replica.
func TestRetainLabelKeepsTheReplicasTetherApplied(t *testing.T) {
	const cluster, ns = "retain-later", "retain-later"
	es := workv1alpha1.ExecutionNamespace(cluster)
	memberNamespace(t, 0, ns)
	a := startAgent(t, cluster, 0, nil)
	defer a.stop(t)
	work := createWork(t, newWork(cluster, "web", manifests(t, deploymentManifest(ns, "web", 3))))
	waitApplied(t, es, work.Name, metav1.ConditionTrue)
	updateWork(t, es, work.Name, func(w *workv1alpha1.Work) {
		m := &unstructured.Unstructured{}
		must(t, m.UnmarshalJSON(w.Spec.Workload.Manifests[0].Raw))
		m.SetLabels(map[string]string{workv1alpha1.RetainReplicasLabel: "true"})
		unstructured.RemoveNestedField(m.Object, "spec", "replicas")
		raw, err := m.MarshalJSON()
		must(t, err)
		w.Spec.Workload.Manifests[0].Raw = raw
	})
	waitApplied(t, es, work.Name, metav1.ConditionTrue)
	testenv.Eventually(t, time.Minute, "the retain-replicas label on the member Deployment", func() (bool, error) {
		ctx := context.Background()
		d, err := memberClient(t, 0).AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		if got := ptr.Deref(d.Spec.Replicas, 1); got != 3 {
			t.Fatalf("spec.replicas is %d after the retain-replicas label came, want 3", got)
		}
		return d.Labels[workv1alpha1.RetainReplicasLabel] == "true", nil
	})
	deleteDeploymentWork(t, es, work.Name, ns, "web")
}
