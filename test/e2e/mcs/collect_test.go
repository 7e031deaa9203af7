package mcs

import (
	"context"
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/mcs"
)

func ptrTrue() *bool { b := true; return &b }

func rawJSON(t *testing.T, obj any) runtime.RawExtension {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: raw}
}

// mcsWork is the Work Karmada's control plane writes in a provider
// cluster's namespace for MultiClusterService ns/name.
func mcsWork(t *testing.T, cluster, name string) *workv1alpha1.Work {
	return &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Name: mcs.WorkName("MultiClusterService", name, ns), Namespace: workv1alpha1.ExecutionNamespace(cluster),
			Labels: map[string]string{mcs.MCSNamespaceLabel: ns, mcs.MCSNameLabel: name, "networking.karmada.io/multiclusterservice-permanent-id": "id-1"}},
		Spec: workv1alpha1.WorkSpec{SuspendDispatching: ptrTrue(), Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
			{RawExtension: rawJSON(t, map[string]any{"apiVersion": "networking.karmada.io/v1alpha1", "kind": "MultiClusterService",
				"metadata": map[string]any{"name": name, "namespace": ns},
				"spec":     map[string]any{"types": []string{"CrossCluster"}}})}}}},
	}
}

// collect: a MultiClusterService Work on the hub makes the agent report the
// Service's slices (no ServiceExport needed); deleting it removes them.
func collect(t *testing.T, cluster string) {
	service(t, 0, ns, "api")
	createSlice(t, 0, slice(ns, "api-a", "api", "endpointslice-controller.k8s.io", "10.3.0.1"))
	works := hub(t).WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(cluster))
	trigger, err := works.Create(context.Background(), mcsWork(t, cluster, "api"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := waitReported(t, cluster, ns, "api-a", hasAddresses("10.3.0.1"))
	want := map[string]string{mcs.MCSNamespaceLabel: ns, mcs.MCSNameLabel: "api", mcs.ManagedByLabel: "MultiClusterService"}
	for k, v := range want {
		if w.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, w.Labels[k], v)
		}
	}
	if w.Labels[mcs.ServiceNameLabel] != "" || w.Spec.SuspendDispatching == nil || !*w.Spec.SuspendDispatching {
		t.Errorf("labels %v, suspendDispatching %v", w.Labels, w.Spec.SuspendDispatching)
	}
	setAddresses(t, 0, ns, "api-a", "10.3.0.1", "10.3.0.2")
	waitReported(t, cluster, ns, "api-a", hasAddresses("10.3.0.1", "10.3.0.2"))
	if err := works.Delete(context.Background(), trigger.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, cluster, ns, "api-a")
}
