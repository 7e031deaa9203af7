package dropin

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-io/tether/test/testenv"
)

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

// replicaSets are the names of the workload's ReplicaSets (one per pod
// template hash).
func (k *karmadaMember) replicaSets(t *testing.T) []string {
	t.Helper()
	list, err := k.MemberClient.AppsV1().ReplicaSets("default").List(context.Background(),
		metav1.ListOptions{LabelSelector: labels.Set{"app": "nginx"}.String()})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, rs := range list.Items {
		names = append(names, rs.Name+"/"+rs.Labels["pod-template-hash"])
	}
	slices.Sort(names)
	return names
}
