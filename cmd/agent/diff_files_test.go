package main

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/test/testenv"
)

// Inputs of TestDiffFiles: a Cluster, a policy that sets data.size on it,
// and the ConfigMap as a Work would carry it, edited (mode slow) or not.
const (
	diffFilesCluster = `
apiVersion: cluster.karmada.io/v1alpha1
kind: Cluster
metadata: {name: edge-f}
`
	diffFilesPolicy = `
apiVersion: policy.karmada.io/v1alpha1
kind: OverridePolicy
metadata: {name: diff-files-size, namespace: default}
spec:
  resourceSelectors: [{apiVersion: v1, kind: ConfigMap, name: diff-files}]
  overrideRules:
    - targetCluster: {clusterNames: [edge-f]}
      overriders:
        plaintext: [{path: /data/size, operator: replace, value: "7"}]
`
	diffFilesEdited    = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"diff-files","namespace":"default"},"data":{"mode":"slow","size":"3"}}`
	diffFilesUnchanged = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"diff-files","namespace":"default"},"data":{"mode":"fast","size":"3"}}`
)

// wantFilesDiff: the edit and the policy, against the object as the agent
// applied it for its Work (whose markers the files' manifest keeps).
const wantFilesDiff = `--- live/ConfigMap/default/diff-files
+++ tether/ConfigMap/default/diff-files
@@ -1,8 +1,9 @@
 data:
-  mode: fast
-  size: "3"
+  mode: slow
+  size: "7"
 metadata:
   annotations:
+    policy.karmada.io/applied-overrides: '[{"policyName":"diff-files-size","overriders":{"plaintext":[{"path":"/data/size","operator":"replace","value":"7"}]}}]'
     work.karmada.io/name: diff-files
     work.karmada.io/namespace: karmada-es-edge-f
   labels:
`

// TestDiffFiles diffs manifests from files, rendered with policies and a
// Cluster from files, without a hub.
func TestDiffFiles(t *testing.T) {
	env := testenv.Require(t)
	ctx := t.Context()
	member := env.Members[0]
	w := diffWork(t, "edge-f", "diff-files")
	w.Spec.Workload.Manifests = w.Spec.Workload.Manifests[:1]
	applyAsAgent(t, ctx, member.Config, w)
	files := writeFiles(t, diffFilesCluster+"---"+diffFilesPolicy, diffFilesEdited, diffFilesUnchanged)

	rec := &testenv.Recorder{}
	r := runDiff(t, rec, "-f", files[0], "-f", files[1], "--kubeconfig", member.Kubeconfig)
	t.Logf("diff -f:\n%s", r.out)
	if r.code != diffChanges || r.out != wantFilesDiff {
		t.Errorf("diff -f of an edited manifest with a policy: exit %d (stderr %q), stdout\n%s\nwant exit 1 and\n%s", r.code, r.errOut, r.out, wantFilesDiff)
	}
	noWrites(t, rec)
	if r := runDiff(t, rec, "-f", files[2], "--kubeconfig", member.Kubeconfig); r.code != diffNoChange || r.out != "" {
		t.Errorf("diff -f of the manifest as applied: exit %d, stdout %q, stderr %q; want exit 0 and no output", r.code, r.out, r.errOut)
	}
	noWrites(t, rec)

	// A field the manifest no longer sets is removed by the apply: it shows
	// as removed, though the dry-run result no longer lists it as owned.
	dropped := writeFiles(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"diff-files","namespace":"default"},"data":{"mode":"fast"}}`)
	r = runDiff(t, rec, "-f", dropped[0], "--kubeconfig", member.Kubeconfig)
	if r.code != diffChanges || !strings.Contains(r.out, "\n   mode: fast\n-  size: \"3\"\n") {
		t.Errorf("diff -f of a manifest without data.size: exit %d (stderr %q), stdout\n%s\nwant exit 1 and size removed", r.code, r.errOut, r.out)
	}

	// A policy that cannot be applied fails its manifest (exit 2, the policy
	// named); the other manifests are still diffed.
	bad := writeFiles(t, diffFilesCluster+"---"+strings.Replace(diffFilesPolicy, "/data/size", "data/size", 1),
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"diff-files-other","namespace":"default"},"data":{"k":"v"}}`)
	r = runDiff(t, rec, "-f", bad[0], "-f", files[1], "-f", bad[1], "--kubeconfig", member.Kubeconfig)
	if r.code != diffError || !strings.Contains(r.errOut, "diff-files-size") || !strings.Contains(r.errOut, "1 of 2 manifests") ||
		!strings.Contains(r.out, "+++ tether/ConfigMap/default/diff-files-other\n") {
		t.Errorf("diff -f with a broken policy: exit %d, stderr %q, stdout\n%s\nwant exit 2 naming the policy, and the other manifest diffed", r.code, r.errOut, r.out)
	}
	if got, err := kubernetes.NewForConfigOrDie(member.Config).CoreV1().ConfigMaps("default").Get(ctx, "diff-files", metav1.GetOptions{}); err != nil || got.Data["mode"] != "fast" {
		t.Errorf("the member's ConfigMap after diff: %v, %v; want it unchanged", got.Data, err)
	}
}

// TestDiffUsageErrors: bad input exits 2 with a message that names the
// flag or argument, before any cluster is contacted.
func TestDiffUsageErrors(t *testing.T) {
	bad := writeFiles(t, diffFilesEdited)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no input"},
		{[]string{"work"}, "NAMESPACE/NAME"},
		{[]string{"work", "only-a-name"}, "is not NAMESPACE/NAME"},
		{[]string{"--no-such-flag"}, "unknown flag"},
		{[]string{"-f", bad[0], "--render-overrides", "Sometimes"}, "--render-overrides"},
		{[]string{"-f", "/nonexistent/manifests.yaml"}, "-f /nonexistent/manifests.yaml"},
		{[]string{"-f", bad[0], "--kubeconfig", "/nonexistent/kubeconfig"}, "--kubeconfig"},
	} {
		r := runDiff(t, &testenv.Recorder{}, tc.args...)
		if r.code != diffError || !strings.Contains(r.errOut, tc.want) {
			t.Errorf("diff %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), r.code, r.errOut, tc.want)
		}
	}
}
