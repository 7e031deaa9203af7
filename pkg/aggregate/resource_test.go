package aggregate

import (
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// workOf builds a Work in cluster's execution namespace from YAML manifests.
func workOf(t *testing.T, cluster, name string, manifests ...string) workv1alpha1.Work {
	t.Helper()
	w := workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: workv1alpha1.ExecutionNamespace(cluster), Name: name}}
	for _, m := range manifests {
		raw, err := yaml.YAMLToJSON([]byte(m))
		if err != nil {
			t.Fatalf("bad test manifest: %v\n%s", err, m)
		}
		w.Spec.Workload.Manifests = append(w.Spec.Workload.Manifests, workv1alpha1.Manifest{RawExtension: runtime.RawExtension{Raw: raw}})
	}
	return w
}

// applied sets the Applied condition.
func applied(w workv1alpha1.Work, status metav1.ConditionStatus, message string) workv1alpha1.Work {
	w.Status.Conditions = append(w.Status.Conditions, metav1.Condition{Type: workv1alpha1.WorkApplied, Status: status, Reason: "R", Message: message})
	return w
}

// reported adds a manifestStatus; status is JSON ("" for none).
func reported(w workv1alpha1.Work, id workv1alpha1.ResourceIdentifier, health workv1alpha1.ResourceHealth, status string) workv1alpha1.Work {
	ms := workv1alpha1.ManifestStatus{Identifier: id, Health: health}
	if status != "" {
		ms.Status = &runtime.RawExtension{Raw: []byte(status)}
	}
	w.Status.ManifestStatuses = append(w.Status.ManifestStatuses, ms)
	return w
}

func deployID(ordinal int, ns, name string) workv1alpha1.ResourceIdentifier {
	return workv1alpha1.ResourceIdentifier{Ordinal: ordinal, Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: name}
}

const nginx = `{apiVersion: apps/v1, kind: Deployment, metadata: {namespace: default, name: nginx}, spec: {replicas: 1}}`

// readyNginx is one member running its one nginx replica.
func readyNginx(t *testing.T, cluster string) workv1alpha1.Work {
	w := applied(workOf(t, cluster, "nginx-687f7fb96f", nginx), metav1.ConditionTrue, workv1alpha1.MessageAppliedSuccessful)
	return reported(w, deployID(0, "default", "nginx"), workv1alpha1.ResourceHealthy,
		`{"replicas":1,"readyReplicas":1,"updatedReplicas":1,"availableReplicas":1,"generation":1,"observedGeneration":1}`)
}

func TestWorksDemo(t *testing.T) {
	// member2 first: clusters come out sorted anyway.
	got, err := Works([]workv1alpha1.Work{readyNginx(t, "member2"), readyNginx(t, "member1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d resources, want 1: %+v", len(got), got)
	}
	r := got[0]
	if line := r.Line(); line != "default/nginx  2/2 ready  (member1 1/1 Healthy, member2 1/1 Healthy)" {
		t.Errorf("Line() = %q", line)
	}
	if !r.FullyApplied || r.APIVersion != "apps/v1" || r.Kind != "Deployment" {
		t.Errorf("resource = %+v", r)
	}
	assertJSON(t, "status", r.Status,
		`{"availableReplicas":2,"readyReplicas":2,"replicas":2,"unavailableReplicas":0,"updatedReplicas":2}`)
	assertJSON(t, "member1 status", r.Clusters[0].Status,
		`{"replicas":1,"readyReplicas":1,"updatedReplicas":1,"availableReplicas":1,"generation":1,"observedGeneration":1}`)
}

func TestWorks(t *testing.T) {
	cm := `{apiVersion: v1, kind: ConfigMap, metadata: {namespace: default, name: settings}}`
	cmID := workv1alpha1.ResourceIdentifier{Ordinal: 1, Version: "v1", Kind: "ConfigMap", Namespace: "default", Name: "settings"}
	deleting := readyNginx(t, "member3")
	deleting.DeletionTimestamp = &metav1.Time{}
	notExecution := readyNginx(t, "x")
	notExecution.Namespace = "default"
	bare := readyNginx(t, "")

	cases := []struct {
		name    string
		works   []workv1alpha1.Work
		want    []string // Line() of each resource, in order
		applied []bool   // FullyApplied of each resource
		errs    []string // substrings of the error; none means no error
	}{
		{
			name: "a cluster that did not apply reports no status, its message and Unknown health",
			works: []workv1alpha1.Work{readyNginx(t, "member1"),
				reported(applied(workOf(t, "member2", "nginx-1", nginx), metav1.ConditionFalse, "Failed to apply all manifests (0/1): boom"),
					deployID(0, "default", "nginx"), workv1alpha1.ResourceHealthy, `{"readyReplicas":1}`)},
			want:    []string{"default/nginx  1/2 ready  (member1 1/1 Healthy, member2 not applied)"},
			applied: []bool{false},
		},
		{
			name:    "a Work without an Applied condition is not applied",
			works:   []workv1alpha1.Work{workOf(t, "member1", "nginx-1", nginx)},
			want:    []string{"default/nginx  0/1 ready  (member1 not applied)"},
			applied: []bool{false},
		},
		{
			name: "several manifests in one Work are several resources, matched by ordinal",
			works: []workv1alpha1.Work{
				reported(reported(reported(applied(workOf(t, "member1", "app", nginx, cm), metav1.ConditionTrue, ""),
					// wrong ordinal for the ConfigMap: not used
					workv1alpha1.ResourceIdentifier{Ordinal: 0, Version: "v1", Kind: "ConfigMap", Namespace: "default", Name: "settings"}, workv1alpha1.ResourceUnhealthy, ""),
					cmID, workv1alpha1.ResourceHealthy, ""),
					deployID(0, "default", "nginx"), workv1alpha1.ResourceUnhealthy, `{"replicas":1}`),
			},
			want: []string{
				"default/nginx  0/1 ready  (member1 0/1 Unhealthy)",
				"default/settings  1/1 healthy  (member1 Healthy)",
			},
			applied: []bool{true, true},
		},
		{
			name: "the first matching manifestStatus wins",
			works: []workv1alpha1.Work{reported(reported(applied(workOf(t, "member1", "n", nginx), metav1.ConditionTrue, ""),
				deployID(0, "default", "nginx"), workv1alpha1.ResourceHealthy, `{"readyReplicas":1}`),
				deployID(0, "default", "nginx"), workv1alpha1.ResourceUnhealthy, `{"readyReplicas":0}`)},
			want:    []string{"default/nginx  1/1 ready  (member1 1/1 Healthy)"},
			applied: []bool{true},
		},
		{
			name: "a manifestStatus for another namespace, group or name does not match",
			works: []workv1alpha1.Work{reported(reported(reported(applied(workOf(t, "member1", "n", nginx), metav1.ConditionTrue, ""),
				deployID(0, "other", "nginx"), workv1alpha1.ResourceHealthy, `{"readyReplicas":1}`),
				workv1alpha1.ResourceIdentifier{Group: "extensions", Version: "v1", Kind: "Deployment", Namespace: "default", Name: "nginx"}, workv1alpha1.ResourceHealthy, ""),
				deployID(0, "default", "web"), workv1alpha1.ResourceHealthy, "")},
			want:    []string{"default/nginx  0/1 ready  (member1 0/1 Unknown)"},
			applied: []bool{true},
		},
		{
			name: "a manifest without namespace matches the live namespace; no health reads Unknown; replicas default to 1",
			works: []workv1alpha1.Work{reported(applied(workOf(t, "member1", "n", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web}}`), metav1.ConditionTrue, ""),
				deployID(0, "team-a", "web"), "", `{"readyReplicas":1}`)},
			want:    []string{"web  1/1 ready  (member1 1/1 Unknown)"},
			applied: []bool{true},
		},
		{
			name:    "Works being deleted or outside execution namespaces are skipped",
			works:   []workv1alpha1.Work{deleting, notExecution, bare, readyNginx(t, "member1")},
			want:    []string{"default/nginx  1/1 ready  (member1 1/1 Healthy)"},
			applied: []bool{true},
		},
		{
			name: "resources are sorted by namespace, name, kind; cluster-scoped first",
			works: []workv1alpha1.Work{
				applied(workOf(t, "member1", "b", `{apiVersion: v1, kind: Service, metadata: {namespace: b, name: a}}`,
					`{apiVersion: v1, kind: ConfigMap, metadata: {namespace: b, name: a}}`), metav1.ConditionTrue, ""),
				applied(workOf(t, "member1", "ns", `{apiVersion: v1, kind: Namespace, metadata: {name: z}}`), metav1.ConditionTrue, ""),
			},
			want: []string{
				"z  0/1 healthy  (member1 Unknown)",
				"b/a  0/1 healthy  (member1 Unknown)",
				"b/a  0/1 healthy  (member1 Unknown)",
			},
			applied: []bool{true, true, true},
		},
		{
			name: "a manifest that is not an object is an error naming the Work; the rest is returned",
			works: []workv1alpha1.Work{readyNginx(t, "member1"),
				func() workv1alpha1.Work {
					w := workOf(t, "member2", "broken")
					w.Spec.Workload.Manifests = []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: []byte(`[1]`)}}}
					return w
				}()},
			want:    []string{"default/nginx  1/1 ready  (member1 1/1 Healthy)"},
			applied: []bool{true},
			errs:    []string{"Work karmada-es-member2/broken: manifest 0 is not a Kubernetes object"},
		},
		{
			name: "a malformed status is an error naming the resource and the cluster",
			works: []workv1alpha1.Work{readyNginx(t, "member1"),
				reported(applied(workOf(t, "member2", "n2", nginx), metav1.ConditionTrue, ""), deployID(0, "default", "nginx"), workv1alpha1.ResourceHealthy, `{"readyReplicas":"one"}`)},
			want:    []string{"default/nginx  1/2 ready  (member1 1/1 Healthy, member2 0/1 Healthy)"},
			applied: []bool{true},
			errs:    []string{"Deployment default/nginx: status reported by cluster member2 (Work n2): status.readyReplicas is \"one\", not an integer"},
		},
		{
			name: "a manifest with a malformed spec.replicas is an error naming the Work",
			works: []workv1alpha1.Work{applied(workOf(t, "member1", "n",
				`{apiVersion: apps/v1, kind: Deployment, metadata: {namespace: default, name: nginx}, spec: {replicas: two}}`), metav1.ConditionTrue, "")},
			want:    []string{"default/nginx  0/0 ready  (member1 0/0 Unknown)"},
			applied: []bool{true},
			errs:    []string{"Work karmada-es-member1/n: manifest 0 (Deployment default/nginx): manifest spec.replicas"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Works(tc.works)
			for _, want := range tc.errs {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v, want it to contain %q", err, want)
				}
			}
			if len(tc.errs) == 0 && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			var lines []string
			var fully []bool
			for i := range got {
				lines = append(lines, got[i].Line())
				fully = append(fully, got[i].FullyApplied)
			}
			if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
			if len(fully) != len(tc.applied) {
				t.Fatalf("FullyApplied = %v, want %v", fully, tc.applied)
			}
			for i := range fully {
				if fully[i] != tc.applied[i] {
					t.Errorf("FullyApplied = %v, want %v", fully, tc.applied)
				}
			}
		})
	}
}

// assertJSON compares a raw status with the expected JSON as values.
func assertJSON(t *testing.T, what string, got *runtime.RawExtension, want string) {
	t.Helper()
	if got == nil {
		if want != "" {
			t.Errorf("%s = nil, want %s", what, want)
		}
		return
	}
	var g, w any
	if err := json.Unmarshal(got.Raw, &g); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want for %s: %v", what, err)
	}
	gs, _ := json.Marshal(g)
	ws, _ := json.Marshal(w)
	if string(gs) != string(ws) {
		t.Errorf("%s = %s, want %s", what, gs, ws)
	}
}
