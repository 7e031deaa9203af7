package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// progressLabel gates where the rollout's pods may run: a node gets it
// when the test lets one more pod start.
const progressLabel = "tether-e2e/progress"

// seen records when each observed value first appeared.
type seen struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (s *seen) mark(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.at[key]; !ok {
		s.at[key] = time.Now()
	}
}

func (s *seen) get(key string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[key]
	return t, ok
}

// TestRolloutProgressAndHealthReachTheHubInTime runs the agent with its
// defaults and rolls out a Deployment of three pods that can start one at a
// time (a host port each, on nodes the test opens one by one). While the
// rollout is under way, each step of its counters (readyReplicas 0, 1, 2)
// must be on the hub within the progress interval (10s by default) plus
// slack, and the moment the member's Deployment is Healthy the hub must say
// so within seconds. Before the progress interval existed, the counters of
// a manifest that was not Healthy were held for two minutes and folded into
// the Healthy write: the hub never showed readyReplicas 1 or 2.
func TestRolloutProgressAndHealthReachTheHubInTime(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const cluster, ns, name = "timely", "timely", "web"
	memberNamespace(t, ns)
	nodes := closeAllNodes(t)

	memberSeen, hubSeen := &seen{at: map[string]time.Time{}}, &seen{at: map[string]time.Time{}}
	watchMemberDeployment(ctx, t, ns, name, memberSeen)
	watchHubWork(ctx, t, cluster, name, hubSeen)

	testenv.StartAgent(t, env, testenv.AgentOptions{Cluster: cluster, Args: electionArgs})
	mark, err := env.Hub.AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub(t).WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(cluster)).Create(ctx, deploymentWork(t, cluster, ns, name, len(nodes)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const interval, slack = 10 * time.Second, 15 * time.Second
	lags := map[string]time.Duration{}
	for i := 0; i <= len(nodes); i++ {
		if i > 0 {
			openNode(t, nodes[i-1], true)
		}
		key := fmt.Sprintf("ready=%d", i)
		if i == len(nodes) {
			key = "healthy"
		}
		testenv.Eventually(t, 2*time.Minute, "the member's Deployment reaches "+key, func() (bool, error) {
			_, ok := memberSeen.get(key)
			return ok, nil
		})
		testenv.Eventually(t, interval+slack+30*time.Second, "the hub shows "+key, func() (bool, error) {
			_, ok := hubSeen.get(key)
			return ok, nil
		})
		m, _ := memberSeen.get(key)
		h, _ := hubSeen.get(key)
		lags[key] = max(h.Sub(m), 0)
	}
	var keys []string
	for k := range lags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("member -> hub: %s after %s", k, lags[k].Round(10*time.Millisecond))
	}
	for k, lag := range lags {
		limit := interval + slack
		if k == "healthy" {
			limit = 5 * time.Second // within a second, with room for a loaded machine
		}
		if lag > limit {
			t.Errorf("%s reached the hub %s after the member, want at most %s", k, lag.Round(time.Millisecond), limit)
		}
	}
	events, err := env.Hub.AuditEvents(mark, func(ev testenv.AuditEvent) bool {
		return ev.IsWrite() && ev.Resource == "works" && ev.Subresource == "status" && ev.Name == name && ev.Stage == "ResponseComplete"
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Work status writes on the hub (audit log): %d", len(events))
}

// closeAllNodes removes the progress label from every member node, so that no
// pod of the rollout can start, and returns the nodes.
func closeAllNodes(t *testing.T) []string {
	t.Helper()
	list, err := member(t).CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range list.Items {
		names = append(names, n.Name)
		openNode(t, n.Name, false)
	}
	sort.Strings(names)
	t.Cleanup(func() {
		for _, n := range names {
			openNode(t, n, false)
		}
	})
	if len(names) < 2 {
		t.Fatalf("the member has %d nodes; the test needs at least 2", len(names))
	}
	return names
}

// openNode sets or removes the progress label of a node.
func openNode(t *testing.T, node string, open bool) {
	value := "null"
	if open {
		value = `"true"`
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, progressLabel, value)
	if _, err := member(t).CoreV1().Nodes().Patch(context.Background(), node, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Errorf("label node %s: %v", node, err)
	}
}

// deploymentWork is a Work for a Deployment whose pods each need a node
// with the progress label and a free host port: one pod per opened node.
func deploymentWork(t *testing.T, cluster, ns, name string, replicas int) *workv1alpha1.Work {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(replicas)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				NodeSelector: map[string]string{progressLabel: "true"},
				Containers: []corev1.Container{{Name: "web", Image: "nginx",
					Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 18080, Protocol: corev1.ProtocolTCP}}}}}}}}
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: workv1alpha1.ExecutionNamespace(cluster),
			Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
			{RawExtension: runtime.RawExtension{Raw: raw}}}}},
	}
}

// watchMemberDeployment records when the member's Deployment first shows
// each readyReplicas value (once its controller observed it) and when it
// is first Healthy by Karmada's rule.
func watchMemberDeployment(ctx context.Context, t *testing.T, ns, name string, s *seen) {
	w, err := member(t).AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			d, ok := ev.Object.(*appsv1.Deployment)
			if !ok || d.Status.ObservedGeneration != d.Generation {
				continue
			}
			s.mark(fmt.Sprintf("ready=%d", d.Status.ReadyReplicas))
			if d.Spec.Replicas != nil && d.Status.UpdatedReplicas >= *d.Spec.Replicas && d.Status.AvailableReplicas >= d.Status.UpdatedReplicas {
				s.mark("healthy")
			}
		}
	}()
}

// watchHubWork records when the Work's status on the hub first shows each
// readyReplicas value (a reflected status with the member's counters) and
// when it first says Healthy.
func watchHubWork(ctx context.Context, t *testing.T, cluster, name string, s *seen) {
	w, err := hub(t).WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(cluster)).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			work, ok := ev.Object.(*workv1alpha1.Work)
			if !ok || len(work.Status.ManifestStatuses) != 1 {
				continue
			}
			ms := work.Status.ManifestStatuses[0]
			if ms.Status != nil {
				var st struct {
					ReadyReplicas      int   `json:"readyReplicas"`
					ObservedGeneration int64 `json:"observedGeneration"`
				}
				if json.Unmarshal(ms.Status.Raw, &st) == nil && st.ObservedGeneration > 0 {
					s.mark(fmt.Sprintf("ready=%d", st.ReadyReplicas))
				}
			}
			if ms.Health == workv1alpha1.ResourceHealthy {
				s.mark("healthy")
			}
		}
	}()
}
