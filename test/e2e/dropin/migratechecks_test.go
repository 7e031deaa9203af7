package dropin

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/karmadamember"
	"github.com/tether-io/tether/test/testenv"
)

type marks struct{ member, hub testenv.AuditMark }

func (k *karmadaMember) marks(t *testing.T) marks {
	t.Helper()
	var m marks
	var err error
	if m.member, err = k.Member.AuditMark(); err != nil {
		t.Fatal(err)
	}
	if m.hub, err = k.Env.Hub.AuditMark(); err != nil {
		t.Fatal(err)
	}
	return m
}

func complete(match func(testenv.AuditEvent) bool) func(testenv.AuditEvent) bool {
	return func(e testenv.AuditEvent) bool { return e.Stage == "ResponseComplete" && match(e) }
}

func (k *karmadaMember) memberWrites(t *testing.T, m marks, match func(testenv.AuditEvent) bool) []testenv.AuditEvent {
	t.Helper()
	ev, err := k.Member.AuditEvents(m.member, complete(match))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (k *karmadaMember) hubWrites(t *testing.T, m marks, match func(testenv.AuditEvent) bool) []testenv.AuditEvent {
	t.Helper()
	ev, err := k.Env.Hub.AuditEvents(m.hub, complete(match))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// workload is what must not change when the agent is swapped.
type workload struct {
	uid         types.UID
	generation  int64
	template    corev1.PodTemplateSpec
	replicaSets []string
}

func (k *karmadaMember) workloadState(t *testing.T) workload {
	t.Helper()
	d, err := k.MemberClient.AppsV1().Deployments("default").Get(context.Background(), "nginx", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return workload{uid: d.UID, generation: d.Generation, template: d.Spec.Template, replicaSets: k.replicaSets(t)}
}

// waitsWhileKarmadaAgentHolds checks that the Tether agent, while the
// stand-in renews karmada-agent's hub Lease, reads that Lease again and
// again and writes nothing but its own member leader Lease.
func (k *karmadaMember) waitsWhileKarmadaAgentHolds(t *testing.T, agent *testenv.AgentProcess, m marks) {
	t.Helper()
	user := clusterv1alpha1.AgentUser(k.Name)
	leaseReads := func(e testenv.AuditEvent) bool {
		return e.User == user && e.Resource == "leases" && e.Name == "karmada-agent-"+k.Name && e.Verb == "get"
	}
	notLease := func(e testenv.AuditEvent) bool { return e.User == agentSA && e.IsWrite() && e.Resource != "leases" }
	noWrites := func() {
		if w := k.memberWrites(t, m, notLease); len(w) != 0 {
			t.Fatalf("the Tether agent wrote %d times to the member while karmada-agent held its Lease, first %s %s %s/%s",
				len(w), w[0].Verb, w[0].Resource, w[0].Namespace, w[0].Name)
		}
		if w := k.hubWrites(t, m, testenv.WritesBy(user)); len(w) != 0 {
			t.Fatalf("the Tether agent wrote %d times to the hub while karmada-agent held its Lease, first %s %s %s/%s",
				len(w), w[0].Verb, w[0].Resource, w[0].Namespace, w[0].Name)
		}
	}
	testenv.Eventually(t, 2*time.Minute, "the Tether agent reads karmada-agent's hub Lease three times (its check and two attempts)", func() (bool, error) {
		noWrites()
		if code, done := agent.Exited(); done {
			t.Fatalf("the Tether agent exited with %d while waiting", code)
		}
		return len(k.hubWrites(t, m, leaseReads)) >= 3, nil
	})
	noWrites()
	if log, _ := os.ReadFile(agent.Log); !strings.Contains(string(log), "Waiting for karmada-agent's Lease on the hub") {
		t.Error("the agent did not log that it waits for karmada-agent's hub Lease")
	}
	if h := holderOf(hubLease(t, k.HubClient, k.Name)); h != "karmada-agent-standin_"+k.Name {
		t.Errorf("the hub Lease is held by %q while the stand-in renews it", h)
	}
}

// checkTakeover checks the workload once Tether has taken it over: the
// same object, pods and template; at most one write, a patch (the
// ownership move); Tether owns karmada-agent's fields.
func (k *karmadaMember) checkTakeover(t *testing.T, before workload, m marks) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, 2*time.Minute, "Tether takes the workload's fields over", func() (bool, error) {
		d, err := k.MemberClient.AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range d.ManagedFields {
			if e.Manager == "tether" {
				return true, nil
			}
		}
		return false, nil
	})
	after := k.workloadState(t)
	if after.uid != before.uid || after.generation != before.generation || !equality.Semantic.DeepEqual(after.template, before.template) ||
		!equality.Semantic.DeepEqual(after.replicaSets, before.replicaSets) {
		t.Errorf("the workload changed: uid %s -> %s, generation %d -> %d, ReplicaSets %v -> %v, template equal %v", before.uid, after.uid,
			before.generation, after.generation, before.replicaSets, after.replicaSets, equality.Semantic.DeepEqual(after.template, before.template))
	}
	writes := k.memberWrites(t, m, func(e testenv.AuditEvent) bool {
		return e.User == agentSA && e.IsWrite() && e.Resource == "deployments" && e.Namespace == "default"
	})
	if len(writes) > 1 || (len(writes) == 1 && writes[0].Verb != "patch") {
		t.Errorf("%d writes to the unchanged workload, want at most the one managedFields patch: %+v", len(writes), writes)
	}
	t.Logf("writes to the workload by the Tether agent: %d", len(writes))
	d, err := k.MemberClient.AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range d.ManagedFields {
		if e.Manager == "karmada-agent" {
			t.Errorf("karmada-agent still owns fields of the workload (%s entry): Tether must own them", e.Operation)
		}
	}
}

// appliedWatch records whether the Work's Applied condition was ever not True.
type appliedWatch struct {
	flipped atomic.Bool
	events  atomic.Int32
	stop    context.CancelFunc
	done    chan struct{}
}

func (k *karmadaMember) watchApplied(t *testing.T) *appliedWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &appliedWatch{stop: cancel, done: make(chan struct{})}
	w, err := k.Karmada.WorkV1alpha1().Works(k.Work.Namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", k.Work.Name).String(), ResourceVersion: k.currentWork(t).ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(a.done)
		defer w.Stop()
		for ev := range w.ResultChan() {
			work, ok := ev.Object.(*workv1alpha1.Work)
			if !ok || ev.Type == watch.Error {
				continue
			}
			a.events.Add(1)
			if c := meta.FindStatusCondition(work.Status.Conditions, workv1alpha1.WorkApplied); c == nil || c.Status != metav1.ConditionTrue {
				a.flipped.Store(true)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-a.done })
	return a
}

func (k *karmadaMember) currentWork(t *testing.T) *workv1alpha1.Work {
	t.Helper()
	w, err := k.Karmada.WorkV1alpha1().Works(k.Work.Namespace).Get(context.Background(), k.Work.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// checkWorkStatus: Applied never left True, and the status was written at
// most once (Tether's wording of the same state).
func (k *karmadaMember) checkWorkStatus(t *testing.T, a *appliedWatch, m marks) {
	t.Helper()
	statusWrites := k.hubWrites(t, m, func(e testenv.AuditEvent) bool {
		return e.User == clusterv1alpha1.AgentUser(k.Name) && e.IsWrite() && e.Resource == "works" && e.Subresource == "status"
	})
	t.Logf("Work status writes by the Tether agent: %d; Work events seen: %d", len(statusWrites), a.events.Load())
	if len(statusWrites) > 1 {
		t.Errorf("%d Work status writes after the swap, want at most 1 (no churn)", len(statusWrites))
	}
	if a.flipped.Load() {
		t.Error("the Work's Applied condition left True during the swap")
	}
	if c := meta.FindStatusCondition(k.currentWork(t).Status.Conditions, workv1alpha1.WorkApplied); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Applied after the swap: %+v", c)
	}
}

// checkMemberLeaseOwner: the Tether agent's member leader Lease is owned
// by the agent's Deployment, so that deleting the Deployment removes it.
func (k *karmadaMember) checkMemberLeaseOwner(t *testing.T, d interface{ GetUID() types.UID }) {
	t.Helper()
	l, err := k.MemberClient.CoordinationV1().Leases(karmadamember.Namespace).Get(context.Background(), "karmada-agent-"+k.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Tether agent's member Lease: %v", err)
	}
	for _, r := range l.OwnerReferences {
		if r.Kind == "Deployment" && r.Name == "karmada-agent" && r.UID == d.GetUID() && r.APIVersion == "apps/v1" {
			return
		}
	}
	t.Errorf("the member Lease's owner references are %+v, want the Deployment karmada-agent (uid %s)", l.OwnerReferences, d.GetUID())
}

// checkFieldRemoval removes an annotation from the Work's manifest; the
// member object must lose it (Tether owns the field now).
func (k *karmadaMember) checkFieldRemoval(t *testing.T) {
	t.Helper()
	const removed = "kubectl.kubernetes.io/last-applied-configuration"
	w := k.currentWork(t)
	var obj map[string]any
	if err := json.Unmarshal(w.Spec.Workload.Manifests[0].Raw, &obj); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	ann := u.GetAnnotations()
	delete(ann, removed)
	u.SetAnnotations(ann)
	raw, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	w.Spec.Workload.Manifests[0].Raw = raw
	if _, err := k.Karmada.WorkV1alpha1().Works(w.Namespace).Update(context.Background(), w, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Minute, "the annotation removed from the Work disappears from the member object", func() (bool, error) {
		d, err := k.MemberClient.AppsV1().Deployments("default").Get(context.Background(), "nginx", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		_, still := d.Annotations[removed]
		return !still, nil
	})
}

// checkUnregisterRemovesMemberLease deletes the agent Deployment as
// karmadactl unregister does; garbage collection removes the Lease.
func (k *karmadaMember) checkUnregisterRemovesMemberLease(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := k.MemberClient.AppsV1().Deployments(karmadamember.Namespace).Delete(ctx, "karmada-agent", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Minute, "the member Lease is garbage-collected with the agent Deployment", func() (bool, error) {
		_, err := k.MemberClient.CoordinationV1().Leases(karmadamember.Namespace).Get(ctx, "karmada-agent-"+k.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}
