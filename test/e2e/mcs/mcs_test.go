package mcs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/mcs"
	"github.com/tether-io/tether/test/testenv"
)

const ns = "shop"

// manifestAddresses are the endpoint addresses of a reported Work's manifest.
func manifestAddresses(w *workv1alpha1.Work) []string {
	if len(w.Spec.Workload.Manifests) != 1 {
		return nil
	}
	var s discoveryv1.EndpointSlice
	if json.Unmarshal(w.Spec.Workload.Manifests[0].Raw, &s) != nil {
		return nil
	}
	var out []string
	for _, e := range s.Endpoints {
		out = append(out, e.Addresses...)
	}
	slices.Sort(out)
	return out
}

func hasAddresses(addresses ...string) func(*workv1alpha1.Work) bool {
	return func(w *workv1alpha1.Work) bool { return reflect.DeepEqual(manifestAddresses(w), addresses) }
}

// TestMultiClusterServices: the whole life of an exported Service on two
// members, each served by its own agent process.
func TestMultiClusterServices(t *testing.T) {
	env := testenv.Require(t)
	installCRDs(t, env.Members[0].Config) // member2 gets them later, while its agent runs
	args := append([]string{controllers}, electionArgs...)
	a1 := testenv.StartAgent(t, env, testenv.AgentOptions{Member: 0, Args: args})
	a2 := testenv.StartAgent(t, env, testenv.AgentOptions{Member: 1, Args: args})
	a1.WaitReady(t, time.Minute)
	a2.WaitReady(t, time.Minute)
	c1, c2 := a1.Cluster, a2.Cluster

	service(t, 0, ns, "web")
	createSlice(t, 0, slice(ns, "web-a", "web", "endpointslice-controller.k8s.io", "10.1.0.1", "10.1.0.2"))
	createSlice(t, 0, slice(ns, "web-b", "web", "endpointslice-controller.k8s.io", "10.1.0.3"))
	// What Karmada dispatched into member1 for another cluster's endpoints.
	createSlice(t, 0, slice(ns, "web-karmada", "web", "endpointslice-dispatch-controller.karmada.io", "10.9.0.1"))
	export(t, 0, ns, "web")

	t.Run("export reports each slice as Karmada's Work", func(t *testing.T) {
		w := waitReported(t, c1, ns, "web-a", hasAddresses("10.1.0.1", "10.1.0.2"))
		waitReported(t, c1, ns, "web-b", hasAddresses("10.1.0.3"))
		checkReportedWork(t, w, c1)
		if w, err := reported(t, c1, ns, "web-karmada"); err != nil || w != nil {
			t.Errorf("the slice Karmada dispatched was reported (%v)", err)
		}
		if w, err := reported(t, c2, ns, "web-a"); err != nil || w != nil {
			t.Errorf("member1's slice appeared in %s (%v)", workv1alpha1.ExecutionNamespace(c2), err)
		}
	})

	t.Run("endpoint changes reach the hub within a second", func(t *testing.T) {
		scaleAndMeasure(t, c1)
	})

	t.Run("member2 waits for its CRD, then reports only its own", func(t *testing.T) {
		if n := strings.Count(readLog(t, a2.Log), "The ServiceExport CRD is not installed"); n != 1 {
			t.Errorf("member2's agent logged the missing CRD %d times, want once", n)
		}
		installCRDs(t, env.Members[1].Config)
		service(t, 1, ns, "web")
		createSlice(t, 1, slice(ns, "web-a", "web", "endpointslice-controller.k8s.io", "10.2.0.1"))
		export(t, 1, ns, "web")
		waitReported(t, c2, ns, "web-a", hasAddresses("10.2.0.1"))
		if w, err := reported(t, c1, ns, "web-a"); err != nil || w == nil || slices.Contains(manifestAddresses(w), "10.2.0.1") {
			t.Errorf("member1's Work changed with member2's slice: %v (%v)", manifestAddresses(w), err)
		}
		if w, err := reported(t, c2, ns, "web-b"); err != nil || w != nil {
			t.Errorf("member1's slice web-b appeared in member2's namespace (%v)", err)
		}
	})

	t.Run("a deleted slice removes its Work", func(t *testing.T) {
		if err := member(t, 0).DiscoveryV1().EndpointSlices(ns).Delete(context.Background(), "web-b", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c1, ns, "web-b")
	})

	t.Run("unexport removes the Works and keeps the member's slice", func(t *testing.T) {
		unexport(t, 0, ns, "web")
		waitGone(t, c1, ns, "web-a")
		if _, err := member(t, 0).DiscoveryV1().EndpointSlices(ns).Get(context.Background(), "web-a", metav1.GetOptions{}); err != nil {
			t.Errorf("the member's EndpointSlice went with its Work: %v", err)
		}
		if w, err := reported(t, c2, ns, "web-a"); err != nil || w == nil {
			t.Errorf("member2's Work went with member1's export (%v)", err)
		}
	})

	t.Run("an export and a slice deleted while the agent is down are cleaned up at start", func(t *testing.T) {
		createSlice(t, 0, slice(ns, "web-c", "web", "endpointslice-controller.k8s.io", "10.1.0.6"))
		export(t, 0, ns, "web")
		waitReported(t, c1, ns, "web-a", nil)
		waitReported(t, c1, ns, "web-c", nil)
		other := otherWork(t, c1)
		a1.Kill()
		unexport(t, 0, ns, "web")
		if err := member(t, 0).DiscoveryV1().EndpointSlices(ns).Delete(context.Background(), "web-c", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		a1.Restart(t)
		waitGone(t, c1, ns, "web-a")
		waitGone(t, c1, ns, "web-c") // no member event names it: only the hub's Works do
		if _, err := hub(t).WorkV1alpha1().Works(other.Namespace).Get(context.Background(), other.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("the start-up cleanup touched a Work that is not a reported slice: %v", err)
		}
	})

	t.Run("endpointsliceCollect reports a MultiClusterService's slices", func(t *testing.T) {
		collect(t, c1)
	})

	t.Run("on a Karmada control plane the finalizer is added and left to it", func(t *testing.T) {
		controlPlaneFinalizer(t, a1)
	})
}

// electionArgs shorten leader election, so that a killed agent's successor
// takes over quickly (defaults 15s/10s/2s).
var electionArgs = []string{"--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s", "--leader-elect-retry-period=1s"}

// checkReportedWork compares a reported Work with what karmada-agent writes.
func checkReportedWork(t *testing.T, w *workv1alpha1.Work, cluster string) {
	t.Helper()
	want := map[string]string{mcs.ServiceNamespaceLabel: ns, mcs.ServiceNameLabel: "web", mcs.ManagedByLabel: "ServiceExport"}
	for k, v := range want {
		if w.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, w.Labels[k], v)
		}
	}
	if w.Spec.SuspendDispatching == nil || !*w.Spec.SuspendDispatching {
		t.Error("suspendDispatching is not true")
	}
	// A plain hub runs no controller that would remove Karmada's finalizer.
	if slices.Contains(w.Finalizers, mcs.ServiceExportFinalizer) {
		t.Errorf("finalizers %v on a plain hub", w.Finalizers)
	}
	var m struct {
		APIVersion, Kind string
		Metadata         metav1.ObjectMeta
	}
	if err := json.Unmarshal(w.Spec.Workload.Manifests[0].Raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.APIVersion != "discovery.k8s.io/v1" || m.Kind != "EndpointSlice" || m.Metadata.UID != "" || m.Metadata.ResourceVersion != "" {
		t.Errorf("manifest %s %s uid %q rv %q", m.APIVersion, m.Kind, m.Metadata.UID, m.Metadata.ResourceVersion)
	}
	if m.Metadata.Labels[workv1alpha1.ManagedLabel] != "true" || m.Metadata.Annotations[workv1alpha1.WorkNameAnnotation] != w.Name ||
		m.Metadata.Annotations[workv1alpha1.WorkNamespaceAnnotation] != workv1alpha1.ExecutionNamespace(cluster) ||
		m.Metadata.Annotations[workv1alpha1.ResourceTemplateUIDAnnotation] == "" {
		t.Errorf("manifest labels %v annotations %v", m.Metadata.Labels, m.Metadata.Annotations)
	}
}

// otherWork creates a Work in the cluster's namespace that carries the
// managed-by label but reports no EndpointSlice.
func otherWork(t *testing.T, cluster string) *workv1alpha1.Work {
	t.Helper()
	w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: "not-a-slice", Namespace: workv1alpha1.ExecutionNamespace(cluster),
		Labels: map[string]string{mcs.ManagedByLabel: "ServiceExport", mcs.ServiceNamespaceLabel: ns, mcs.ServiceNameLabel: "web"}},
		Spec: workv1alpha1.WorkSpec{SuspendDispatching: ptrTrue(), Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
			{RawExtension: rawJSON(t, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": ns}})}}}}}
	got, err := hub(t).WorkV1alpha1().Works(w.Namespace).Create(context.Background(), w, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = hub(t).WorkV1alpha1().Works(w.Namespace).Delete(context.Background(), w.Name, metav1.DeleteOptions{})
	})
	return got
}

func readLog(t *testing.T, path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// scaleAndMeasure changes web-a's endpoints several times and measures, from
// a hub watch, how long each change takes to reach the Work; then makes a
// burst of changes and counts the agent's hub writes of the Work.
func scaleAndMeasure(t *testing.T, cluster string) {
	env := testenv.Require(t)
	es := workv1alpha1.ExecutionNamespace(cluster)
	name := mcs.WorkName("EndpointSlice", "web-a", ns)
	steps := [][]string{{"10.1.0.1"}, {"10.1.0.1", "10.1.0.2", "10.1.0.4"}, {"10.1.0.4"}, {"10.1.0.1", "10.1.0.4"}, {"10.1.0.5"}}
	var lat []time.Duration
	for _, addrs := range steps {
		w, err := hub(t).WorkV1alpha1().Works(es).Watch(context.Background(), metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		setAddresses(t, 0, ns, "web-a", addrs...)
		ok := awaitAddresses(w, addrs, 10*time.Second)
		w.Stop()
		if !ok {
			t.Fatalf("the Work did not show endpoints %v within 10s", addrs)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("slice update -> hub Work: p50 %s, max %s over %d changes (%v)", lat[len(lat)/2], lat[len(lat)-1], len(lat), lat)
	if lat[len(lat)/2] > 3*time.Second {
		t.Errorf("median latency %s: endpoint changes should reach the hub within about a second", lat[len(lat)/2])
	}

	mark, err := env.Hub.AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	const burst = 10
	for i := range burst {
		setAddresses(t, 0, ns, "web-a", "10.1.1.1", fmt.Sprintf("10.1.2.%d", i))
	}
	waitReported(t, cluster, ns, "web-a", hasAddresses("10.1.1.1", "10.1.2.9"))
	evs, err := env.Hub.AuditEvents(mark, func(e testenv.AuditEvent) bool {
		return testenv.WritesBy(clusterv1alpha1.AgentUser(cluster))(e) && e.Resource == "works" && e.Subresource == "" && e.Name == name
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a burst of %d slice updates made %d hub writes of the Work", burst, len(evs))
	if len(evs) == 0 || len(evs) > burst {
		t.Errorf("%d Work writes for %d slice updates", len(evs), burst)
	}
}

// awaitAddresses reads the watch until the Work shows addresses.
func awaitAddresses(w watch.Interface, addresses []string, timeout time.Duration) bool {
	want := slices.Clone(addresses)
	slices.Sort(want)
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false
			}
			if wk, isWork := ev.Object.(*workv1alpha1.Work); isWork && reflect.DeepEqual(manifestAddresses(wk), want) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
