package capacity

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

func node(name string, ready, cordoned bool, allocatable ...string) *Node {
	return &Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Ready: ready, Cordoned: cordoned, Allocatable: FromList(list(allocatable...))}
}

// pod builds a cached pod from a full spec, as the informer's transform does.
func pod(name, nodeName string, phase corev1.PodPhase, terminating bool, spec corev1.PodSpec) *Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Spec: spec, Status: corev1.PodStatus{Phase: phase}}
	p.Spec.NodeName = nodeName
	if terminating {
		now := metav1.Now()
		p.DeletionTimestamp = &now
	}
	return PodOf(p)
}

func containers(requests ...string) corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{container("c", requests...)}}
}

func TestSummarize(t *testing.T) {
	nodes := []*Node{
		node("n1", true, false, "cpu", "4", "memory", "8Gi", "pods", "110"),
		node("n2", true, false, "cpu", "4", "memory", "8Gi", "pods", "110"),
		node("cordoned", true, true, "cpu", "4", "memory", "8Gi", "pods", "110"),
		node("notready", false, false, "cpu", "4", "memory", "8Gi", "pods", "110"),
	}
	withInit := containers("cpu", "500m", "memory", "256Mi")
	withInit.InitContainers = []corev1.Container{container("i", "cpu", "3", "memory", "128Mi")}
	pods := []*Pod{
		// Karmada's accumulator bug: after "plain" the running total is
		// 1 cpu, so "init" adds 500m and is raised to 3 cpu: 3 in total
		// instead of the correct 1 + 3 = 4.
		pod("plain", "n1", corev1.PodRunning, false, containers("cpu", "1", "memory", "1Gi")),
		pod("init", "n2", corev1.PodRunning, false, withInit),
		pod("overhead", "n2", corev1.PodPending, false, corev1.PodSpec{
			Containers: []corev1.Container{container("c", "cpu", "100m", "memory", "100Mi")},
			Overhead:   list("cpu", "50m", "memory", "10Mi"),
		}),
		pod("terminating", "n1", corev1.PodRunning, true, containers("cpu", "2")),
		pod("succeeded", "n1", corev1.PodSucceeded, false, containers("cpu", "2")),
		pod("failed", "n2", corev1.PodFailed, false, containers("cpu", "2")),
		pod("on-cordoned", "cordoned", corev1.PodRunning, false, containers("cpu", "2")),
		pod("on-notready", "notready", corev1.PodRunning, false, containers("cpu", "2")),
		pod("on-unknown-node", "gone", corev1.PodRunning, false, containers("cpu", "2")),
		pod("pending", "", corev1.PodPending, false, containers("cpu", "200m", "memory", "1Mi")),
		pod("pending-terminating", "", corev1.PodPending, true, containers("cpu", "9")),
	}
	gotNodes, got := Summarize(nodes, pods, nil)

	if gotNodes.TotalNum != 4 || gotNodes.ReadyNum != 3 {
		t.Errorf("nodeSummary = %+v, want 4 total, 3 ready", gotNodes)
	}
	assertList(t, "allocatable", got.Allocatable, list("cpu", "8", "memory", "16Gi", "pods", "220"))
	// plain 1 cpu 1Gi + init max(3 cpu, 500m) max(128Mi, 256Mi) + overhead 150m 110Mi.
	assertList(t, "allocated", got.Allocated, list("cpu", "4150m", "memory", "1390Mi", "pods", "3"))
	assertList(t, "allocating", got.Allocating, list("cpu", "200m", "memory", "1Mi", "pods", "1"))
	if got.AllocatableModelings != nil {
		t.Errorf("modelings without models: %v", got.AllocatableModelings)
	}
}

func TestSummarizeNothing(t *testing.T) {
	nodes, got := Summarize(nil, nil, nil)
	if nodes.TotalNum != 0 || nodes.ReadyNum != 0 {
		t.Errorf("nodeSummary = %+v", nodes)
	}
	raw, _ := json.Marshal(got)
	if string(raw) != "{}" {
		t.Errorf("empty resourceSummary serializes as %s, want {}", raw)
	}
}

func TestModelingsVisitEveryNode(t *testing.T) {
	models := []clusterv1alpha1.ResourceModel{
		model(0, "0", "0"), model(1, "2", "4Gi"), model(2, "4", "16Gi"),
	}
	nodes := []*Node{
		node("full", true, false, "cpu", "8", "memory", "32Gi", "pods", "1"), // no pod slot left
		node("big", true, false, "cpu", "8", "memory", "32Gi", "pods", "110"),
		node("cpu-poor", true, false, "cpu", "3", "memory", "32Gi", "pods", "110"),
		node("mem-poor", true, false, "cpu", "8", "memory", "6Gi", "pods", "110"),
		node("busy", true, false, "cpu", "8", "memory", "32Gi", "pods", "110"),
		node("small", true, false, "cpu", "1", "memory", "1Gi", "pods", "110"),
		node("cordoned", true, true, "cpu", "8", "memory", "32Gi", "pods", "110"),
	}
	pods := []*Pod{
		pod("fills", "full", corev1.PodRunning, false, containers("cpu", "1")),
		// leaves 3 cpu and 31Gi on "busy": grade 1.
		pod("uses", "busy", corev1.PodRunning, false, containers("cpu", "5", "memory", "1Gi")),
	}
	_, got := Summarize(nodes, pods, models)
	want := []clusterv1alpha1.AllocatableModeling{{Grade: 0, Count: 1}, {Grade: 1, Count: 3}, {Grade: 2, Count: 1}}
	if len(got.AllocatableModelings) != len(want) {
		t.Fatalf("modelings = %v, want %v", got.AllocatableModelings, want)
	}
	for i := range want {
		if got.AllocatableModelings[i] != want[i] {
			t.Fatalf("modelings = %v, want %v (the full node must not stop the count)", got.AllocatableModelings, want)
		}
	}
}

func TestModelingsSkipNodesBelowEveryGrade(t *testing.T) {
	models := []clusterv1alpha1.ResourceModel{model(3, "1", "1Gi"), model(4, "2", "2Gi")}
	nodes := []*Node{
		node("tiny", true, false, "cpu", "500m", "memory", "8Gi", "pods", "10"),
		node("ok", true, false, "cpu", "2", "memory", "8Gi", "pods", "10"),
	}
	_, got := Summarize(nodes, nil, models)
	want := []clusterv1alpha1.AllocatableModeling{{Grade: 3, Count: 0}, {Grade: 4, Count: 1}}
	for i := range want {
		if got.AllocatableModelings[i] != want[i] {
			t.Fatalf("modelings = %v, want %v", got.AllocatableModelings, want)
		}
	}
}

func TestListFormats(t *testing.T) {
	r := Resources{MilliCPU: 1500, Memory: 1 << 30, EphemeralStorage: 0, Pods: 3,
		Scalar: map[corev1.ResourceName]int64{"hugepages-2Mi": 4 << 20, "example.com/dongle": 2, "zero": 0}}
	raw, err := json.Marshal(r.List())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cpu":"1500m","example.com/dongle":"2","hugepages-2Mi":"4Mi","memory":"1Gi","pods":"3"}`
	if string(raw) != want {
		t.Fatalf("List serializes as %s, want %s", raw, want)
	}
	if (Resources{}).List() != nil {
		t.Fatal("an empty Resources must list as nil")
	}
}

func TestFromListRoundsUp(t *testing.T) {
	r := FromList(list("cpu", "1500u", "memory", "1.5"))
	if r.MilliCPU != 2 || r.Memory != 2 {
		t.Fatalf("FromList = %+v, want 2 milli-CPU and 2 bytes", r)
	}
}

func model(grade uint, cpu, memory string) clusterv1alpha1.ResourceModel {
	return clusterv1alpha1.ResourceModel{Grade: grade, Ranges: []clusterv1alpha1.ResourceModelRange{
		{Name: corev1.ResourceCPU, Min: resource.MustParse(cpu), Max: resource.MustParse("1000")},
		{Name: corev1.ResourceMemory, Min: resource.MustParse(memory), Max: resource.MustParse("1Ti")},
	}}
}

func assertList(t *testing.T, what string, got, want corev1.ResourceList) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
		return
	}
	for name, q := range want {
		if g, ok := got[name]; !ok || g.Cmp(q) != 0 {
			t.Errorf("%s = %v, want %v", what, got, want)
			return
		}
	}
}
