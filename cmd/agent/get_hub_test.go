package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/pkg/aggregate"
	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// The tests of this package that need a cluster read a hub (with Tether's
// CRDs) and, for unregister and the agent run as karmada-agent, a member;
// the others run without touching them.
func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1}) }

// TestGetOnHub writes Clusters and Works with their statuses on a real hub,
// as agents would, and reads them back through 'tether-agent get'.
func TestGetOnHub(t *testing.T) {
	env := testenv.Require(t)
	ctx := t.Context()
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	kube := kubernetes.NewForConfigOrDie(env.Hub.Config)

	createCluster(t, ctx, hub, "member1", clusterv1alpha1.ClusterStatus{
		KubernetesVersion: "v1.36.3",
		NodeSummary:       &clusterv1alpha1.NodeSummary{TotalNum: 3, ReadyNum: 2},
		Conditions:        []metav1.Condition{readyCondition(metav1.ConditionTrue, clusterv1alpha1.ReasonClusterReady)},
	})
	createCluster(t, ctx, hub, "member2", clusterv1alpha1.ClusterStatus{
		Conditions: []metav1.Condition{readyCondition(metav1.ConditionFalse, clusterv1alpha1.ReasonClusterNotReachable)},
	})
	settings := func(member string, applied metav1.ConditionStatus) *workv1alpha1.Work {
		w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: workv1alpha1.ExecutionNamespace(member), Name: "settings-configmap"}}
		w.Spec.Workload.Manifests = []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{
			Raw: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"namespace":"default","name":"settings"},"data":{"a":"b"}}`)}}}
		w.Status.Conditions = []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: applied, Reason: "R", Message: "m"}}
		w.Status.ManifestStatuses = []workv1alpha1.ManifestStatus{{
			Identifier: workv1alpha1.ResourceIdentifier{Version: "v1", Kind: "ConfigMap", Namespace: "default", Name: "settings"},
			Health:     workv1alpha1.ResourceHealthy,
		}}
		return w
	}
	for _, member := range []string{"member1", "member2"} {
		createNamespace(t, ctx, kube, workv1alpha1.ExecutionNamespace(member))
		createWork(t, ctx, hub, demoWork(member))
	}
	createWork(t, ctx, hub, settings("member1", metav1.ConditionTrue))
	createWork(t, ctx, hub, settings("member2", metav1.ConditionFalse))

	out := runTetherAgent(t, "get", "clusters", "--kubeconfig", env.Hub.Kubeconfig)
	t.Logf("get clusters:\n%s", out)
	rows := tableRows(t, out, "NAME VERSION MODE READY NODES AGE")
	if got := strings.Join(rows["member1"][:5], " "); got != "member1 v1.36.3 Pull True 2/3" {
		t.Errorf("member1 row: %q\n%s", got, out)
	}
	if got := strings.Join(rows["member2"][:5], " "); got != "member2 - Pull False -" {
		t.Errorf("member2 row: %q\n%s", got, out)
	}

	out = runTetherAgent(t, "get", "works", "--kubeconfig", env.Hub.Kubeconfig)
	t.Logf("get works:\n%s", out)
	checkColumns(t, "get works", out)
	normalized := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		normalized[strings.Join(strings.Fields(l), " ")] = true
	}
	for _, want := range []string{
		"Deployment default/nginx 2/2 2/2 ready - member1 1/1 Healthy, member2 1/1 Healthy",
		"ConfigMap default/settings 1/2 1/2 healthy - member1 Healthy, member2 not applied",
	} {
		if !normalized[want] {
			t.Errorf("get works lacks the row %q:\n%s", want, out)
		}
	}

	out = runTetherAgent(t, "get", "works", "--kubeconfig", env.Hub.Kubeconfig, "-o", "json")
	var resources []aggregate.Resource
	if err := json.Unmarshal([]byte(out), &resources); err != nil {
		t.Fatalf("get works -o json: %v\n%s", err, out)
	}
	found := false
	for _, r := range resources {
		if r.Kind != "Deployment" || r.Ref() != "default/nginx" {
			continue
		}
		found = true
		var sum map[string]int
		if err := json.Unmarshal(r.Status.Raw, &sum); err != nil {
			t.Fatal(err)
		}
		if sum["replicas"] != 2 || sum["readyReplicas"] != 2 || sum["availableReplicas"] != 2 || !r.FullyApplied {
			t.Errorf("aggregated nginx: fullyApplied %v, status %s", r.FullyApplied, r.Status.Raw)
		}
	}
	if !found {
		t.Errorf("get works -o json has no Deployment default/nginx:\n%s", out)
	}
}

// runTetherAgent runs the CLI in-process and returns what it printed.
func runTetherAgent(t *testing.T, args ...string) string {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("tether-agent %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// tableRows checks the header and returns the rows' fields by first column.
func tableRows(t *testing.T, table, header string) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if strings.Join(strings.Fields(lines[0]), " ") != header {
		t.Fatalf("header %q, want %q", lines[0], header)
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[f[0]] = f
	}
	for _, r := range rows {
		if len(r) != len(strings.Fields(header)) {
			t.Fatalf("row %q does not have the header's columns:\n%s", r, table)
		}
	}
	return rows
}

func readyCondition(status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: clusterv1alpha1.ClusterConditionReady, Status: status, Reason: reason, Message: "m", LastTransitionTime: metav1.Now()}
}

func createCluster(t *testing.T, ctx context.Context, hub versioned.Interface, name string, status clusterv1alpha1.ClusterStatus) {
	t.Helper()
	c := &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name}}
	c.Spec.SyncMode = clusterv1alpha1.Pull
	c.Spec.APIEndpoint = "https://" + name + ".example:6443"
	c, err := hub.ClusterV1alpha1().Clusters().Create(ctx, c, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = hub.ClusterV1alpha1().Clusters().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	c.Status = status
	if _, err := hub.ClusterV1alpha1().Clusters().UpdateStatus(ctx, c, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createWork creates w, then writes its status as an agent does.
func createWork(t *testing.T, ctx context.Context, hub versioned.Interface, w *workv1alpha1.Work) {
	t.Helper()
	works := hub.WorkV1alpha1().Works(w.Namespace)
	created, err := works.Create(ctx, w, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = works.Delete(context.Background(), w.Name, metav1.DeleteOptions{}) })
	for i := range w.Status.Conditions {
		w.Status.Conditions[i].LastTransitionTime = metav1.Now()
	}
	created.Status = w.Status
	if _, err := works.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func createNamespace(t *testing.T, ctx context.Context, kube kubernetes.Interface, name string) {
	t.Helper()
	_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}
