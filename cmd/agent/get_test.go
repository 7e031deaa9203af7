package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clienttesting "k8s.io/client-go/testing"

	"github.com/tether-io/tether/pkg/aggregate"
	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned/fake"
)

const demoLine = "default/nginx  2/2 ready  (member1 1/1 Healthy, member2 1/1 Healthy)"

var getNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// runGet runs 'get args...' against client and returns stdout and stderr.
func runGet(t *testing.T, client versioned.Interface, args ...string) (string, string, error) {
	t.Helper()
	o := &getOptions{now: func() time.Time { return getNow }}
	o.connect = func() (versioned.Interface, string, error) { return client, "https://hub.example:6443", nil }
	cmd := getCommand(o)
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func testCluster(name, version string, ready metav1.ConditionStatus, nodes *clusterv1alpha1.NodeSummary, age time.Duration) *clusterv1alpha1.Cluster {
	c := &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(getNow.Add(-age))}}
	c.Spec.SyncMode = clusterv1alpha1.Pull
	c.Status.KubernetesVersion = version
	c.Status.NodeSummary = nodes
	if ready != "" {
		c.Status.Conditions = []metav1.Condition{{Type: clusterv1alpha1.ClusterConditionReady, Status: ready, Reason: "ClusterReady"}}
	}
	return c
}

// demoWork is member's Work for the demo's nginx, applied, with its one
// replica ready and Healthy.
func demoWork(member string) *workv1alpha1.Work {
	w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: workv1alpha1.ExecutionNamespace(member), Name: "nginx-deployment"}}
	w.Spec.Workload.Manifests = []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{
		Raw: []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"namespace":"default","name":"nginx"},"spec":{"replicas":1}}`)}}}
	w.Status.Conditions = []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue,
		Reason: workv1alpha1.ReasonAppliedSuccessful, Message: workv1alpha1.MessageAppliedSuccessful}}
	w.Status.ManifestStatuses = []workv1alpha1.ManifestStatus{{
		Identifier: workv1alpha1.ResourceIdentifier{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "default", Name: "nginx"},
		Status:     &runtime.RawExtension{Raw: []byte(`{"replicas":1,"readyReplicas":1,"updatedReplicas":1,"availableReplicas":1}`)},
		Health:     workv1alpha1.ResourceHealthy,
	}}
	return w
}

func TestGetClustersTable(t *testing.T) {
	client := fake.NewSimpleClientset(
		testCluster("member2", "", "", nil, 90*time.Second),
		testCluster("member1", "v1.36.3", metav1.ConditionTrue, &clusterv1alpha1.NodeSummary{TotalNum: 3, ReadyNum: 2}, 49*time.Hour),
	)
	out, _, err := runGet(t, client, "clusters")
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"NAME      VERSION   MODE   READY     NODES   AGE\n" +
		"member1   v1.36.3   Pull   True      2/3     2d1h\n" +
		"member2   -         Pull   Unknown   -       90s\n"
	if out != want {
		t.Errorf("get clusters printed:\n%s\nwant:\n%s", out, want)
	}

	out, _, err = runGet(t, client, "cluster", "member2", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var views []clusterView
	if err := json.Unmarshal([]byte(out), &views); err != nil {
		t.Fatalf("-o json is not a list of clusters: %v\n%s", err, out)
	}
	if len(views) != 1 || views[0].Name != "member2" || views[0].Ready != metav1.ConditionUnknown || views[0].SyncMode != clusterv1alpha1.Pull {
		t.Errorf("get cluster member2 -o json = %+v", views)
	}

	_, _, err = runGet(t, client, "clusters", "member3")
	if err == nil || !strings.Contains(err.Error(), `cluster "member3" is not registered on the hub (registered: member1, member2)`) {
		t.Errorf("naming an unknown cluster: error %v", err)
	}
}

func TestGetWorks(t *testing.T) {
	client := fake.NewSimpleClientset(demoWork("member2"), demoWork("member1"))
	out, _, err := runGet(t, client, "works")
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"KIND         RESOURCE        APPLIED   READY       DRIFT   CLUSTERS\n" +
		"Deployment   default/nginx   2/2       2/2 ready   -       member1 1/1 Healthy, member2 1/1 Healthy\n"
	if out != want {
		t.Errorf("get works printed:\n%s\nwant:\n%s", out, want)
	}

	out, _, err = runGet(t, client, "works", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var resources []aggregate.Resource
	if err := json.Unmarshal([]byte(out), &resources); err != nil {
		t.Fatalf("-o json is not a list of resources: %v\n%s", err, out)
	}
	if len(resources) != 1 || resources[0].Line() != demoLine || !resources[0].FullyApplied || resources[0].Status == nil {
		t.Fatalf("get works -o json = %s", out)
	}
	var sum struct{ Replicas, ReadyReplicas int }
	if err := json.Unmarshal(resources[0].Status.Raw, &sum); err != nil || sum.Replicas != 2 || sum.ReadyReplicas != 2 {
		t.Errorf("aggregated status = %s (%v), want 2 replicas, 2 ready", resources[0].Status.Raw, err)
	}

	out, _, err = runGet(t, client, "wk", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"- apiVersion: apps/v1\n", "  fullyApplied: true\n", "    readyReplicas: 2\n", "  - applied: true\n    clusterName: member1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("get works -o yaml lacks %q:\n%s", want, out)
		}
	}
}

func TestGetWorksWarnsAboutUnreadableWorks(t *testing.T) {
	broken := demoWork("member3")
	broken.Name = "broken"
	broken.Spec.Workload.Manifests[0].Raw = []byte(`"not an object"`)
	out, errOut, err := runGet(t, fake.NewSimpleClientset(demoWork("member1"), broken), "works")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "default/nginx   1/1       1/1 ready   -       member1 1/1 Healthy") {
		t.Errorf("the readable Work is not shown:\n%s", out)
	}
	if !strings.Contains(errOut, "Warning: Work karmada-es-member3/broken: manifest 0 is not a Kubernetes object") {
		t.Errorf("no warning naming the unreadable Work:\n%s", errOut)
	}
}

func TestGetEmptyHub(t *testing.T) {
	client := fake.NewSimpleClientset()
	for _, what := range []string{"clusters", "works"} {
		out, errOut, err := runGet(t, client, what)
		if err != nil || out != "" || !strings.HasPrefix(errOut, "No ") {
			t.Errorf("get %s on an empty hub: out %q, err %q, %v", what, out, errOut, err)
		}
		out, _, err = runGet(t, client, what, "-o", "json")
		if err != nil || out != "[]\n" {
			t.Errorf("get %s -o json on an empty hub: %q, %v", what, out, err)
		}
	}
}

func TestGetErrors(t *testing.T) {
	noCRDs := fake.NewSimpleClientset()
	noCRDs.PrependReactor("list", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: a.GetResource().Group, Resource: a.GetResource().Resource}, "")
	})
	forbidden := fake.NewSimpleClientset()
	forbidden.PrependReactor("list", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: a.GetResource().Group, Resource: a.GetResource().Resource}, "", nil)
	})
	cases := []struct {
		name   string
		client versioned.Interface
		args   []string
		want   string
	}{
		{"works on a hub without the CRDs", noCRDs, []string{"works"},
			"the hub at https://hub.example:6443 does not serve works.work.karmada.io, so it is not prepared as a hub: run 'tether-agent hub init'"},
		{"clusters on a hub without the CRDs", noCRDs, []string{"clusters"},
			"does not serve clusters.cluster.karmada.io, so it is not prepared as a hub: run 'tether-agent hub init'"},
		{"a user who may not list", forbidden, []string{"works"}, "use an administrator's kubeconfig (--kubeconfig, --context)"},
		{"an unknown output format", fake.NewSimpleClientset(), []string{"works", "-o", "name"}, `--output "name" is not supported: use wide, yaml or json`},
		{"nothing to get", fake.NewSimpleClientset(), []string{}, "get needs what to get: clusters or works"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runGet(t, tc.client, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestGetNamesAMissingKubeconfig(t *testing.T) {
	cmd := newGetCommand()
	cmd.SetArgs([]string{"works", "--kubeconfig", filepath.Join(t.TempDir(), "hub.kubeconfig")})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "--kubeconfig") || !strings.Contains(err.Error(), "hub.kubeconfig") {
		t.Errorf("error = %v, want it to name --kubeconfig and the file", err)
	}
}

// checkColumns asserts that each header of a table starts at the column
// where every row's cell under it starts: the cell is non-blank there and
// preceded by a blank (a row may end before a column it leaves empty).
func checkColumns(t *testing.T, what, table string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	header := lines[0]
	var starts []int
	for i := range header {
		if header[i] != ' ' && (i == 0 || header[i-1] == ' ') {
			starts = append(starts, i)
		}
	}
	for _, row := range lines[1:] {
		if row == "" {
			break // notes under the table
		}
		for c, at := range starts {
			if at >= len(row) || row[at] == ' ' || (at > 0 && row[at-1] != ' ') {
				t.Errorf("%s: the cell of row %q under column %d (%q, at %d) does not start there:\n%s",
					what, row, c+1, strings.Fields(header[at:])[0], at, table)
				break
			}
		}
	}
}

func TestGetWide(t *testing.T) {
	c := testCluster("member1", "v1.36.3", metav1.ConditionTrue, nil, time.Hour)
	c.Spec.APIEndpoint, c.Spec.Region, c.Spec.Zones = "https://10.0.0.1:6443", "eu-west", []string{"a", "b"}
	client := fake.NewSimpleClientset(demoWork("member1"), c)
	out, _, err := runGet(t, client, "works", "-o", "wide")
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"APIVERSION   KIND         RESOURCE        APPLIED   READY       DRIFT   CLUSTERS              WORKS                                 DRIFTED\n" +
		"apps/v1      Deployment   default/nginx   1/1       1/1 ready   -       member1 1/1 Healthy   karmada-es-member1/nginx-deployment   -\n"
	if out != want {
		t.Errorf("get works -o wide printed:\n%s\nwant:\n%s", out, want)
	}
	out, _, err = runGet(t, client, "clusters", "-o", "wide")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ClusterReady   https://10.0.0.1:6443   -          eu-west   a,b\n") {
		t.Errorf("get clusters -o wide lacks the reason, endpoint, region and zones:\n%s", out)
	}
}

// TestHelpStatesEachDefaultOnce walks every command's flags: a usage that
// states its default in words ("(default: ...)") must do it once, and not
// also have a value cobra prints as "(default ...)".
func TestHelpStatesEachDefaultOnce(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			n := strings.Count(f.Usage, "(default")
			if n > 1 || (n == 1 && f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]") {
				t.Errorf("%s --%s states its default more than once: %q (and cobra prints %q)", c.CommandPath(), f.Name, f.Usage, f.DefValue)
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCommand())
}

// driftedWork is demoWork whose agent recorded drift of the Deployment.
func driftedWork(member, state string, paths ...string) *workv1alpha1.Work {
	w := demoWork(member)
	var fields []string
	for _, p := range paths {
		fields = append(fields, `{"path":"`+p+`","valueInMember":"3","valueInHub":"1","manager":"kubectl-edit"}`)
	}
	w.Status.ManifestStatuses[0].Status.Raw = []byte(`{"replicas":1,"readyReplicas":1,"updatedReplicas":1,"availableReplicas":1,"drift":{"mode":"correct","state":"` +
		state + `","fields":[` + strings.Join(fields, ",") + `],"firstObserved":"2026-01-01T10:00:00Z","lastObserved":"2026-01-01T10:00:00Z","repairs":1}}`)
	return w
}

func TestGetWorksShowsDrift(t *testing.T) {
	client := fake.NewSimpleClientset(driftedWork("member1", "Corrected", "/spec/replicas"),
		driftedWork("member2", "Drifted", "/spec/replicas", "/spec/paused", "/metadata/labels/a", "/metadata/labels/b"), demoWork("member3"))
	out, _, err := runGet(t, client, "works")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "3/3 ready   1 drifted, 1 corrected   member1") {
		t.Errorf("get works does not count the drifted and corrected clusters:\n%s", out)
	}
	checkColumns(t, "get works", out)
	out, _, err = runGet(t, client, "works", "-o", "wide")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "member1 /spec/replicas; member2 /spec/replicas,/spec/paused,/metadata/labels/a +1\n") {
		t.Errorf("get works -o wide does not list the drifted paths per cluster:\n%s", out)
	}
	checkColumns(t, "get works -o wide", out)
}

func TestGetTablesLineUp(t *testing.T) {
	broken := demoWork("member3")
	broken.Status.Conditions[0].Status = metav1.ConditionFalse
	client := fake.NewSimpleClientset(driftedWork("member1", "Corrected", "/spec/replicas"), demoWork("member2"), broken,
		testCluster("member1", "v1.36.3", metav1.ConditionTrue, &clusterv1alpha1.NodeSummary{TotalNum: 3, ReadyNum: 2}, time.Hour))
	for _, args := range [][]string{{"works"}, {"works", "-o", "wide"}, {"clusters"}, {"clusters", "-o", "wide"}} {
		out, _, err := runGet(t, client, args...)
		if err != nil {
			t.Errorf("get %v: %v", args, err)
			continue
		}
		checkColumns(t, "get "+strings.Join(args, " "), out)
	}
}

func TestGetNamesTheKubeconfigOfTheEnvironment(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "from-env.kubeconfig")
	t.Setenv("KUBECONFIG", missing)
	cmd := newGetCommand()
	cmd.SetArgs([]string{"works"})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "$KUBECONFIG") {
		t.Errorf("error = %v, want it to name %s from $KUBECONFIG", err, missing)
	}
}

func TestGetCompletesOutputFormats(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs([]string{"__complete", "get", "works", "-o", ""})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(out.String()); len(got) < 3 || strings.Join(got[:3], ",") != "wide,yaml,json" {
		t.Errorf("completion of -o: %q, want wide, yaml, json", out.String())
	}
}
