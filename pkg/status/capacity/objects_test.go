package capacity

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// list builds a ResourceList from name, quantity pairs.
func list(pairs ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		out[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return out
}

func container(name string, requests ...string) corev1.Container {
	return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: list(requests...)}}
}

func sidecar(name string, requests ...string) corev1.Container {
	c := container(name, requests...)
	c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
	return c
}

func TestPodRequests(t *testing.T) {
	cases := []struct {
		name string
		spec corev1.PodSpec
		want Resources
	}{
		{
			name: "containers are summed",
			spec: corev1.PodSpec{Containers: []corev1.Container{
				container("a", "cpu", "100m", "memory", "64Mi"),
				container("b", "cpu", "250m", "memory", "128Mi", "ephemeral-storage", "1Gi"),
			}},
			want: Resources{MilliCPU: 350, Memory: 192 << 20, EphemeralStorage: 1 << 30},
		},
		{
			name: "the largest init container raises each resource separately",
			spec: corev1.PodSpec{
				InitContainers: []corev1.Container{
					container("i1", "cpu", "2", "memory", "10Mi"),
					container("i2", "cpu", "500m", "memory", "1Gi"),
				},
				Containers: []corev1.Container{container("a", "cpu", "1", "memory", "512Mi")},
			},
			want: Resources{MilliCPU: 2000, Memory: 1 << 30},
		},
		{
			name: "smaller init containers change nothing",
			spec: corev1.PodSpec{
				InitContainers: []corev1.Container{container("i", "cpu", "100m")},
				Containers:     []corev1.Container{container("a", "cpu", "1")},
			},
			want: Resources{MilliCPU: 1000},
		},
		{
			name: "sidecars add to the containers and to later init containers (KEP-753)",
			spec: corev1.PodSpec{
				InitContainers: []corev1.Container{
					sidecar("proxy", "cpu", "200m", "memory", "100Mi"),
					container("migrate", "cpu", "1", "memory", "50Mi"),
				},
				Containers: []corev1.Container{container("app", "cpu", "500m", "memory", "200Mi")},
			},
			// running: 500m+200m, 300Mi; init phase of migrate: 1+200m, 150Mi.
			want: Resources{MilliCPU: 1200, Memory: 300 << 20},
		},
		{
			name: "overhead is added",
			spec: corev1.PodSpec{
				Containers: []corev1.Container{container("a", "cpu", "1", "memory", "1Gi")},
				Overhead:   list("cpu", "250m", "memory", "120Mi"),
			},
			want: Resources{MilliCPU: 1250, Memory: 1<<30 + 120<<20},
		},
		{
			name: "pod-level requests replace the container sum",
			spec: corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Requests: list("cpu", "3", "memory", "2Gi")},
				Containers: []corev1.Container{container("a", "cpu", "1", "memory", "1Gi")},
			},
			want: Resources{MilliCPU: 3000, Memory: 2 << 30},
		},
		{
			name: "extended resources and hugepages are scalar",
			spec: corev1.PodSpec{Containers: []corev1.Container{
				container("a", "nvidia.com/gpu", "2", "hugepages-2Mi", "4Mi"),
			}},
			want: Resources{Scalar: map[corev1.ResourceName]int64{"nvidia.com/gpu": 2, "hugepages-2Mi": 4 << 20}},
		},
		{
			name: "a pod without requests requests nothing",
			spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}},
			want: Resources{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PodRequests(&corev1.Pod{Spec: tc.spec})
			assertResources(t, got, tc.want)
		})
	}
}

func TestPodRequestsDuringAnInPlaceResize(t *testing.T) {
	pod := &corev1.Pod{
		Spec: corev1.PodSpec{Containers: []corev1.Container{container("a", "cpu", "500m")}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name:               "a",
			AllocatedResources: list("cpu", "2"),
			Resources:          &corev1.ResourceRequirements{Requests: list("cpu", "2")},
		}}},
	}
	// Shrinking from 2 to 500m: the node still holds 2 until the kubelet acts.
	assertResources(t, PodRequests(pod), Resources{MilliCPU: 2000})
}

func TestPodOf(t *testing.T) {
	now := metav1.Now()
	full := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: "p", ResourceVersion: "7", UID: "u",
			Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"big": "x"},
			DeletionTimestamp: &now,
		},
		Spec: corev1.PodSpec{
			NodeName:   "n1",
			Containers: []corev1.Container{container("a", "cpu", "1")},
			Overhead:   list("cpu", "100m"),
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	got := PodOf(full)
	want := &Pod{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: "p", ResourceVersion: "7"},
		NodeName:    "n1",
		Terminating: true,
		Requests:    Resources{MilliCPU: 1100},
	}
	if got.Namespace != want.Namespace || got.Name != want.Name || got.ResourceVersion != want.ResourceVersion ||
		got.UID != "" || got.Labels != nil || got.Annotations != nil || got.NodeName != want.NodeName ||
		got.Terminating != want.Terminating || got.Finished {
		t.Fatalf("PodOf = %+v, want %+v", got, want)
	}
	assertResources(t, got.Requests, want.Requests)

	for phase, finished := range map[corev1.PodPhase]bool{corev1.PodSucceeded: true, corev1.PodFailed: true, corev1.PodPending: false} {
		full.Status.Phase = phase
		if got := PodOf(full).Finished; got != finished {
			t.Errorf("phase %s: Finished = %v, want %v", phase, got, finished)
		}
	}
}

func TestNodeOf(t *testing.T) {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", ResourceVersion: "3", Labels: map[string]string{"a": "b"}},
		Spec:       corev1.NodeSpec{Unschedulable: true},
		Status: corev1.NodeStatus{
			Allocatable: list("cpu", "4", "memory", "8Gi", "pods", "110"),
			Capacity:    list("cpu", "8"),
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
			},
			Images: []corev1.ContainerImage{{Names: []string{"nginx"}, SizeBytes: 1}},
		},
	}
	got := NodeOf(n)
	if got.Name != "n1" || got.ResourceVersion != "3" || got.Labels != nil || !got.Ready || !got.Cordoned {
		t.Fatalf("NodeOf = %+v", got)
	}
	assertResources(t, got.Allocatable, Resources{MilliCPU: 4000, Memory: 8 << 30, Pods: 110})
}

func TestDeepCopyObjectSharesNothing(t *testing.T) {
	p := &Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Requests: Resources{Scalar: map[corev1.ResourceName]int64{"x": 1}}}
	c := p.DeepCopyObject().(*Pod)
	c.Requests.Scalar["x"] = 2
	c.Name = "q"
	if p.Requests.Scalar["x"] != 1 || p.Name != "p" {
		t.Fatalf("copy of a Pod shares state with the original: %+v", p)
	}
	n := &Node{Allocatable: Resources{Scalar: map[corev1.ResourceName]int64{"x": 1}}}
	nc := n.DeepCopyObject().(*Node)
	nc.Allocatable.Scalar["x"] = 2
	if n.Allocatable.Scalar["x"] != 1 {
		t.Fatalf("copy of a Node shares state with the original")
	}
}

func assertResources(t *testing.T, got, want Resources) {
	t.Helper()
	g, w := got.List(), want.List()
	if len(g) != len(w) {
		t.Fatalf("got %v, want %v", g, w)
	}
	for name, q := range w {
		if gq, ok := g[name]; !ok || gq.Cmp(q) != 0 {
			t.Fatalf("got %v, want %v", g, w)
		}
	}
}
