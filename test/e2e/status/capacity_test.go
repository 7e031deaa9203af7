package status

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	statuscluster "github.com/tether-io/tether/pkg/status/cluster"
	"github.com/tether-io/tether/test/testenv"
)

const capacityNS = "capacity"

func requests(pairs ...string) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}}
	for i := 0; i < len(pairs); i += 2 {
		r.Requests[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return r
}

func podOn(name, node string, spec corev1.PodSpec) *corev1.Pod {
	spec.NodeName = node
	for i := range spec.Containers {
		spec.Containers[i].Image = "busybox"
	}
	for i := range spec.InitContainers {
		spec.InitContainers[i].Image = "busybox"
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: capacityNS}, Spec: spec}
}

// TestClusterStatusMatchesHandSums puts pods with known requests on kwok
// nodes with known allocatable and compares the reported status with sums
// worked out by hand. Three nodes have 8 cpu, 32Gi, 110 pods and 100Gi
// ephemeral storage each; a fourth, cordoned, counts in nodeSummary only.
func TestClusterStatusMatchesHandSums(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	hubAdmin := karmadaclient.NewForConfigOrDie(env.Hub.Config)

	a := newAgent(t, "capacity")
	a.join(t)
	// A condition the hub owns, and resource models, set before the agent reports.
	addForeignCondition(t, hubAdmin, a.name)
	models := fmt.Sprintf(`{"spec":{"resourceModels":[%s,%s]}}`,
		`{"grade":0,"ranges":[{"name":"cpu","min":"0","max":"6"},{"name":"memory","min":"0","max":"16Gi"}]}`,
		`{"grade":1,"ranges":[{"name":"cpu","min":"6","max":"1000"},{"name":"memory","min":"16Gi","max":"1Ti"}]}`)
	_, err := hubAdmin.ClusterV1alpha1().Clusters().Patch(ctx, a.name, types.MergePatchType, []byte(models), metav1.PatchOptions{})
	testenv.NoError(t, err)

	createCordonedNode(t, member, "capacity-cordoned")
	fillMember(t, member)

	a.runStatus(t, statuscluster.StatusConfig{})
	want := clusterv1alpha1.ResourceSummary{
		Allocatable: list("cpu", "24", "memory", "96Gi", "pods", "330", "ephemeral-storage", "300Gi"),
		Allocated:   list("cpu", "3050m", "memory", "1064Mi", "pods", "4"),
		Allocating:  list("cpu", "1", "memory", "1Gi", "pods", "1"),
		// node-0 keeps 4950m free (grade 0); node-1 and node-2 keep 8 (grade 1).
		AllocatableModelings: []clusterv1alpha1.AllocatableModeling{{Grade: 0, Count: 1}, {Grade: 1, Count: 2}},
	}
	c := waitCluster(t, a.name, 2*time.Minute, "report the hand-computed resource summary", func(c *clusterv1alpha1.Cluster) bool {
		return c.Status.ResourceSummary != nil && sameSummary(*c.Status.ResourceSummary, want)
	})
	raw, _ := json.Marshal(c.Status.ResourceSummary)
	t.Logf("resourceSummary: %s", raw)

	if n := c.Status.NodeSummary; n == nil || n.TotalNum != 4 || n.ReadyNum != 4 {
		t.Errorf("nodeSummary = %+v, want 4 nodes, 4 ready", n)
	}
	if v, _ := member.Discovery().ServerVersion(); c.Status.KubernetesVersion != v.GitVersion {
		t.Errorf("kubernetesVersion = %q, want %q", c.Status.KubernetesVersion, v.GitVersion)
	}
	for typ, reason := range map[string]string{
		clusterv1alpha1.ClusterConditionReady:                  clusterv1alpha1.ReasonClusterReady,
		clusterv1alpha1.ClusterConditionCompleteAPIEnablements: clusterv1alpha1.ReasonAPIEnablementsComplete,
		"HubOwned": "SetByTheHub",
	} {
		if cond := findCondition(c, typ); cond == nil || cond.Status != metav1.ConditionTrue || cond.Reason != reason {
			t.Errorf("condition %s = %+v, want True/%s", typ, cond, reason)
		}
	}
	if !hasAPI(c, "apps/v1", "deployments", "Deployment") {
		t.Errorf("apiEnablements lack apps/v1 deployments: %+v", c.Status.APIEnablements)
	}
}

// fillMember creates, in namespace capacity, one pod of each case the
// arithmetic must get right, and waits for the Job's pod to succeed.
func fillMember(t *testing.T, member kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	ensureNamespace(t, member, capacityNS)
	// Leave the member as it was: later tests measure it at rest.
	t.Cleanup(func() {
		_ = member.CoreV1().Namespaces().Delete(ctx, capacityNS, metav1.DeleteOptions{})
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := member.CoreV1().Namespaces().Get(ctx, capacityNS, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			t.Errorf("namespace %s was not deleted: %v", capacityNS, err)
		}
	})
	rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "capacity-overhead"}, Handler: "kwok",
		Overhead: &nodev1.Overhead{PodFixed: corev1.ResourceList{"cpu": resource.MustParse("150m"), "memory": resource.MustParse("100Mi")}}}
	testenv.NoError(t, testenv.IgnoreExists(member.NodeV1().RuntimeClasses().Create(ctx, rc, metav1.CreateOptions{})))
	t.Cleanup(func() { _ = member.NodeV1().RuntimeClasses().Delete(ctx, rc.Name, metav1.DeleteOptions{}) })

	const node = "kwok-node-0"
	pods := []*corev1.Pod{
		// 500m, 256Mi.
		podOn("plain", node, corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: requests("cpu", "500m", "memory", "256Mi")}}}),
		// max(init 2, 250m) cpu, max(init 64Mi, 512Mi) memory: 2, 512Mi.
		podOn("with-init", node, corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "i", Resources: requests("cpu", "2", "memory", "64Mi")}},
			Containers:     []corev1.Container{{Name: "c", Resources: requests("cpu", "250m", "memory", "512Mi")}},
		}),
		// a sidecar runs beside the container: 100m+200m, 32Mi+64Mi.
		podOn("with-sidecar", node, corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "s", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways), Resources: requests("cpu", "100m", "memory", "32Mi")}},
			Containers:     []corev1.Container{{Name: "c", Resources: requests("cpu", "200m", "memory", "64Mi")}},
		}),
		// overhead from the RuntimeClass: 100m+150m, 100Mi+100Mi.
		podOn("with-overhead", node, corev1.PodSpec{
			RuntimeClassName: ptr.To(rc.Name),
			Containers:       []corev1.Container{{Name: "c", Resources: requests("cpu", "100m", "memory", "100Mi")}},
		}),
		// waits for a node that does not exist: allocating.
		podOn("pending", "", corev1.PodSpec{
			NodeSelector: map[string]string{"capacity-test/nowhere": "true"},
			Containers:   []corev1.Container{{Name: "c", Resources: requests("cpu", "1", "memory", "1Gi")}},
		}),
		// on the cordoned node: not counted.
		podOn("on-cordoned", "capacity-cordoned", corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: requests("cpu", "1")}}}),
		// held by a finalizer and deleted below: terminating, not counted.
		podOn("terminating", node, corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: requests("cpu", "4")}}}),
	}
	pods[len(pods)-1].Finalizers = []string{"tether.io/test-hold"}
	for _, p := range pods {
		_, err := member.CoreV1().Pods(capacityNS).Create(ctx, p, metav1.CreateOptions{})
		testenv.NoError(t, err)
	}
	t.Cleanup(func() {
		_, _ = member.CoreV1().Pods(capacityNS).Patch(ctx, "terminating", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	})
	testenv.NoError(t, member.CoreV1().Pods(capacityNS).Delete(ctx, "terminating", metav1.DeleteOptions{}))
	// A Job's pod: kwok completes it, and a Succeeded pod is not counted.
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "done", Namespace: capacityNS}, Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox", Resources: requests("cpu", "3")}}},
	}}}
	_, err := member.BatchV1().Jobs(capacityNS).Create(ctx, job, metav1.CreateOptions{})
	testenv.NoError(t, err)
	waitJobPodSucceeded(t, member)
}

func list(pairs ...string) corev1.ResourceList { return requests(pairs...).Requests }

func sameSummary(got, want clusterv1alpha1.ResourceSummary) bool {
	same := func(a, b corev1.ResourceList) bool {
		if len(a) != len(b) {
			return false
		}
		for k, v := range b {
			if q, ok := a[k]; !ok || q.Cmp(v) != 0 {
				return false
			}
		}
		return true
	}
	if len(got.AllocatableModelings) != len(want.AllocatableModelings) {
		return false
	}
	for i := range want.AllocatableModelings {
		if got.AllocatableModelings[i] != want.AllocatableModelings[i] {
			return false
		}
	}
	return same(got.Allocatable, want.Allocatable) && same(got.Allocated, want.Allocated) && same(got.Allocating, want.Allocating)
}

func findCondition(c *clusterv1alpha1.Cluster, typ string) *metav1.Condition {
	for i := range c.Status.Conditions {
		if c.Status.Conditions[i].Type == typ {
			return &c.Status.Conditions[i]
		}
	}
	return nil
}

func hasAPI(c *clusterv1alpha1.Cluster, groupVersion, name, kind string) bool {
	for _, e := range c.Status.APIEnablements {
		if e.GroupVersion != groupVersion {
			continue
		}
		for _, r := range e.Resources {
			if r.Name == name && r.Kind == kind {
				return true
			}
		}
	}
	return false
}

func addForeignCondition(t *testing.T, hub karmadaclient.Interface, name string) {
	t.Helper()
	ctx := context.Background()
	c, err := hub.ClusterV1alpha1().Clusters().Get(ctx, name, metav1.GetOptions{})
	testenv.NoError(t, err)
	c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: "HubOwned", Status: metav1.ConditionTrue,
		Reason: "SetByTheHub", Message: "the agent must keep this", LastTransitionTime: metav1.Now()})
	_, err = hub.ClusterV1alpha1().Clusters().UpdateStatus(ctx, c, metav1.UpdateOptions{})
	testenv.NoError(t, err)
}

func createCordonedNode(t *testing.T, member kubernetes.Interface, name string) {
	t.Helper()
	ctx := context.Background()
	v, err := member.Discovery().ServerVersion()
	testenv.NoError(t, err)
	testenv.NoError(t, testenv.CreateFakeNode(ctx, member, name, list("cpu", "8", "memory", "32Gi", "pods", "110", "ephemeral-storage", "100Gi"), v.GitVersion))
	t.Cleanup(func() { _ = member.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}) })
	_, err = member.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"unschedulable":true}}`), metav1.PatchOptions{})
	testenv.NoError(t, err)
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		n, err := member.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("node %s did not become Ready: %v", name, err)
	}
}

func waitJobPodSucceeded(t *testing.T, member kubernetes.Interface) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := member.CoreV1().Pods(capacityNS).List(ctx, metav1.ListOptions{LabelSelector: "job-name=done"})
		if err != nil || len(pods.Items) == 0 {
			return false, nil
		}
		return pods.Items[0].Status.Phase == corev1.PodSucceeded, nil
	})
	if err != nil {
		t.Fatalf("the Job's pod did not succeed: %v", err)
	}
}
