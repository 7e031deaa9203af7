package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/test/testenv"
)

// diffRun is one run of 'tether-agent diff': what it printed and its exit code.
type diffRun struct {
	out, errOut string
	code        int
}

// runDiff runs 'diff' in-process with every client's requests recorded by rec.
func runDiff(t *testing.T, rec *testenv.Recorder, args ...string) diffRun {
	t.Helper()
	cmd := diffCommand(&diffOptions{wrap: rec.Wrap})
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	r := diffRun{out: out.String()}
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		r.code = exitCode(err)
		if !errors.As(err, new(reported)) {
			errOut.WriteString("Error: " + err.Error() + "\n")
		}
	}
	r.out, r.errOut = out.String(), errOut.String()
	return r
}

// diffManifest is a manifest as raw JSON in a Work.
func diffManifest(t *testing.T, obj runtime.Object) workv1alpha1.Manifest {
	t.Helper()
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	js, err := (&unstructured.Unstructured{Object: raw}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return workv1alpha1.Manifest{RawExtension: runtime.RawExtension{Raw: js}}
}

// applyAsAgent applies the Work's manifests to the member as the agent
// does (stamped, through the apply engine, field manager tether), without
// rendering.
func applyAsAgent(t *testing.T, ctx context.Context, cfg *rest.Config, work *workv1alpha1.Work) {
	t.Helper()
	disc := memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg))
	a := apply.New(apply.Config{Client: dynamic.NewForConfigOrDie(cfg), Mapper: restmapper.NewDeferredDiscoveryRESTMapper(disc),
		Types: apply.NewTypeCache(disc)})
	for _, m := range manifest.DecodeWork(work) {
		if !m.Usable() {
			t.Fatalf("manifest %d: %v", m.Ordinal, m.Err)
		}
		manifest.Stamp(m.Object, manifest.WorkRef{Namespace: work.Namespace, Name: work.Name})
		if e := a.ApplyOne(ctx, m.Object, apply.Options{}); e.Err != nil {
			t.Fatalf("apply %s: %v", e.Subject, e.Err)
		}
	}
}

// noWrites fails t when rec saw a request that changes state, and when it
// saw no dry run (then the diff did not reach the member at all).
func noWrites(t *testing.T, rec *testenv.Recorder) {
	t.Helper()
	for _, r := range rec.Writes() {
		t.Errorf("diff wrote: %s %s?%s", r.Method, r.Path, r.Query)
	}
	if n := rec.Count(func(r testenv.Request) bool { return r.DryRun }); n == 0 {
		t.Error("diff sent no dry-run request")
	}
	for _, r := range rec.Requests(nil) {
		if r.Method != "GET" && !r.DryRun {
			t.Errorf("diff sent %s %s, neither a GET nor a dry run", r.Method, r.Path)
		}
	}
}

// diffWork is the Work the tests diff: a ConfigMap and a Secret.
func diffWork(t *testing.T, cluster, name string) *workv1alpha1.Work {
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Data: map[string]string{"mode": "fast", "size": "3"}}
	secret := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Data: map[string][]byte{"password": []byte("hub-secret-value")}}
	w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: workv1alpha1.ExecutionNamespace(cluster), Name: name}}
	w.Spec.Workload.Manifests = []workv1alpha1.Manifest{diffManifest(t, cm), diffManifest(t, secret)}
	return w
}

// TestDiffWork diffs a Work against the member, as the agent applied it,
// then as a member-side edit changed it; the member and hub see no write.
func TestDiffWork(t *testing.T) {
	env := testenv.Require(t)
	ctx := t.Context()
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	member := env.Members[0]
	memberKube := kubernetes.NewForConfigOrDie(member.Config)
	const cluster = "diff-member"
	createNamespace(t, ctx, kubernetes.NewForConfigOrDie(env.Hub.Config), workv1alpha1.ExecutionNamespace(cluster))
	work := createDiffWork(t, ctx, hub, diffWork(t, cluster, "diff-app"))
	applyAsAgent(t, ctx, member.Config, work)
	args := []string{"work", work.Namespace + "/" + work.Name, "--karmada-kubeconfig", env.Hub.Kubeconfig, "--kubeconfig", member.Kubeconfig}

	rec := &testenv.Recorder{}
	if r := runDiff(t, rec, args...); r.code != diffNoChange || r.out != "" {
		t.Fatalf("diff of an unchanged member: exit %d, stdout %q, stderr %q; want exit 0 and no output", r.code, r.out, r.errOut)
	}
	noWrites(t, rec)

	editMember(t, ctx, memberKube, "diff-app", "slow", "member-edited-value")

	rec = &testenv.Recorder{}
	r := runDiff(t, rec, args...)
	t.Logf("diff after member edits:\n%s", r.out)
	if r.code != diffChanges {
		t.Fatalf("diff of a changed member: exit %d (stderr %q), want 1", r.code, r.errOut)
	}
	if r.out != wantConfigMapDiff+wantSecretDiff {
		t.Errorf("diff after member edits: want\n%s%s\ngot\n%s", wantConfigMapDiff, wantSecretDiff, r.out)
	}
	for _, v := range []string{"hub-secret-value", "member-edited-value"} {
		if strings.Contains(r.out+r.errOut, v) || strings.Contains(r.out+r.errOut, base64.StdEncoding.EncodeToString([]byte(v))) {
			t.Errorf("diff printed the Secret value %q (plain or base64)", v)
		}
	}
	noWrites(t, rec)

	// The agent's identities: its hub kubeconfig, and a member identity that
	// may only read and patch the objects.
	agentHub, err := env.Hub.AgentKubeconfig(ctx, cluster, env.Hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	agentMember := limitedMemberIdentity(t, ctx, member, "diff-agent")
	rec = &testenv.Recorder{}
	r2 := runDiff(t, rec, "work", work.Namespace+"/"+work.Name, "--karmada-kubeconfig", agentHub, "--kubeconfig", agentMember)
	if r2.code != diffChanges || r2.out != r.out {
		t.Errorf("diff as the agent's identities: exit %d (stderr %q), stdout\n%s\nwant exit 1 and the admin's diff", r2.code, r2.errOut, r2.out)
	}
	noWrites(t, rec)
	if got, err := memberKube.CoreV1().ConfigMaps("default").Get(ctx, "diff-app", metav1.GetOptions{}); err != nil || got.Data["mode"] != "slow" {
		t.Errorf("the member's ConfigMap after diff: %v, %v; want it unchanged (mode slow)", got.Data, err)
	}
}

// The diffs TestDiffWork expects after the member-side edits.
const (
	wantConfigMapDiff = `--- live/ConfigMap/default/diff-app
+++ tether/ConfigMap/default/diff-app
@@ -1,5 +1,5 @@
 data:
-  mode: slow
+  mode: fast
   size: "3"
 metadata:
   annotations:
`
	wantSecretDiff = `--- live/Secret/default/diff-app
+++ tether/Secret/default/diff-app
@@ -1,5 +1,5 @@
 data:
-  password: '*** (before)'
+  password: '*** (after)'
 metadata:
   annotations:
     work.karmada.io/name: diff-app
`
)

// createDiffWork creates w on the hub and returns it.
func createDiffWork(t *testing.T, ctx context.Context, hub versioned.Interface, w *workv1alpha1.Work) *workv1alpha1.Work {
	t.Helper()
	works := hub.WorkV1alpha1().Works(w.Namespace)
	created, err := works.Create(ctx, w, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = works.Delete(context.Background(), w.Name, metav1.DeleteOptions{}) })
	return created
}

// editMember edits the ConfigMap's mode and the Secret's password in the
// member, as a user with kubectl edit would (field manager kubectl-edit).
func editMember(t *testing.T, ctx context.Context, kube kubernetes.Interface, name, mode, password string) {
	t.Helper()
	cm, err := kube.CoreV1().ConfigMaps("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["mode"] = mode
	if _, err := kube.CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	secret, err := kube.CoreV1().Secrets("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secret.Data["password"] = []byte(password)
	if _, err := kube.CoreV1().Secrets("default").Update(ctx, secret, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
}

// limitedMemberIdentity writes a kubeconfig for user on the member, who may
// only get and patch ConfigMaps and Secrets in default (and read discovery,
// as every authenticated user).
func limitedMemberIdentity(t *testing.T, ctx context.Context, member *testenv.Cluster, user string) string {
	t.Helper()
	rules := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps", "secrets"}, Verbs: []string{"get", "patch"}}}
	if err := testenv.Grant(ctx, member.Config, user, "default", rules); err != nil {
		t.Fatal(err)
	}
	path, err := member.IdentityKubeconfig(user)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDiffWorkWithOverride: a Work with an OverridePolicy shows the rendered
// result (the override and its applied-overrides record) against a member
// that has the unrendered object; --render-overrides=Never shows nothing;
// a Work whose object does not exist shows it all added.
func TestDiffWorkWithOverride(t *testing.T) {
	env := testenv.Require(t)
	ctx := t.Context()
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	member := env.Members[0]
	const cluster = "diff-override-member"
	createNamespace(t, ctx, kubernetes.NewForConfigOrDie(env.Hub.Config), workv1alpha1.ExecutionNamespace(cluster))
	createCluster(t, ctx, hub, cluster, clusterv1alpha1.ClusterStatus{})
	createSizePolicy(t, ctx, hub, cluster, "diff-override")
	w := diffWork(t, cluster, "diff-override")
	w.Spec.Workload.Manifests = w.Spec.Workload.Manifests[:1] // the ConfigMap
	work := createDiffWork(t, ctx, hub, w)
	applyAsAgent(t, ctx, member.Config, work)
	args := []string{"work", work.Namespace + "/" + work.Name, "--karmada-kubeconfig", env.Hub.Kubeconfig, "--kubeconfig", member.Kubeconfig}

	rec := &testenv.Recorder{}
	r := runDiff(t, rec, args...)
	t.Logf("diff with an override:\n%s", r.out)
	if r.code != diffChanges || r.out != wantOverrideDiff {
		t.Errorf("diff of a Work with an override: exit %d (stderr %q), stdout\n%s\nwant exit 1 and\n%s", r.code, r.errOut, r.out, wantOverrideDiff)
	}
	noWrites(t, rec)
	if r := runDiff(t, rec, append(args, "--render-overrides", "Never")...); r.code != diffNoChange || r.out != "" {
		t.Errorf("diff with --render-overrides=Never: exit %d, stdout %q, stderr %q; want exit 0 and no output", r.code, r.out, r.errOut)
	}

	// A Work the hub rendered (a binding's) is not rendered again, as the
	// agent does not: the member's unrendered object is what it applies.
	bound := diffWork(t, cluster, "diff-bound")
	bound.Labels = map[string]string{workv1alpha1.ResourceBindingPermanentIDLabel: "0d8f6c1e"}
	bound.Spec.Workload.Manifests = work.Spec.Workload.Manifests
	bound = createDiffWork(t, ctx, hub, bound)
	r = runDiff(t, rec, "work", bound.Namespace+"/"+bound.Name, "--karmada-kubeconfig", env.Hub.Kubeconfig, "--kubeconfig", member.Kubeconfig)
	if r.code != diffChanges || strings.Contains(r.out, "applied-overrides") || !strings.Contains(r.errOut, "is not rendered at the edge") {
		t.Errorf("diff of a Work the hub rendered: exit %d, stderr %q, stdout\n%s\nwant exit 1 (its markers name another Work), no override, a note on stderr", r.code, r.errOut, r.out)
	}

	fresh := createDiffWork(t, ctx, hub, diffWork(t, cluster, "diff-new"))
	r = runDiff(t, rec, "work", fresh.Namespace+"/"+fresh.Name, "--karmada-kubeconfig", env.Hub.Kubeconfig, "--kubeconfig", member.Kubeconfig)
	t.Logf("diff of new objects:\n%s", r.out)
	if r.code != diffChanges || r.out != wantNewDiff {
		t.Errorf("diff of new objects: exit %d (stderr %q), stdout\n%s\nwant exit 1 and all added, the password masked:\n%s", r.code, r.errOut, r.out, wantNewDiff)
	}
	noWrites(t, rec)
}

// wantOverrideDiff: the policy's replacement of data.size and the
// annotation that records it.
const wantOverrideDiff = `--- live/ConfigMap/default/diff-override
+++ tether/ConfigMap/default/diff-override
@@ -1,8 +1,9 @@
 data:
   mode: fast
-  size: "3"
+  size: "7"
 metadata:
   annotations:
+    policy.karmada.io/applied-overrides: '[{"policyName":"diff-size","overriders":{"plaintext":[{"path":"/data/size","operator":"replace","value":"7"}]}}]'
     work.karmada.io/name: diff-override
     work.karmada.io/namespace: karmada-es-diff-override-member
   labels:
`

// wantNewDiff: objects that do not exist yet, all added.
const wantNewDiff = `--- live/ConfigMap/default/diff-new
+++ tether/ConfigMap/default/diff-new
@@ -0,0 +1,9 @@
+data:
+  mode: fast
+  size: "3"
+metadata:
+  annotations:
+    work.karmada.io/name: diff-new
+    work.karmada.io/namespace: karmada-es-diff-override-member
+  labels:
+    karmada.io/managed: "true"
--- live/Secret/default/diff-new
+++ tether/Secret/default/diff-new
@@ -0,0 +1,8 @@
+data:
+  password: '***'
+metadata:
+  annotations:
+    work.karmada.io/name: diff-new
+    work.karmada.io/namespace: karmada-es-diff-override-member
+  labels:
+    karmada.io/managed: "true"
`

// createSizePolicy creates the OverridePolicy default/diff-size, which sets
// the ConfigMap name's data.size to "7" on cluster.
func createSizePolicy(t *testing.T, ctx context.Context, hub versioned.Interface, cluster, name string) {
	t.Helper()
	p := &policyv1alpha1.OverridePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "diff-size"}}
	p.Spec.ResourceSelectors = []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap", Name: name}}
	p.Spec.OverrideRules = []policyv1alpha1.RuleWithCluster{{
		TargetCluster: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{cluster}},
		Overriders: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{
			Path: "/data/size", Operator: policyv1alpha1.OverriderOpReplace, Value: apiextensionsv1.JSON{Raw: []byte(`"7"`)}}}},
	}}
	ops := hub.PolicyV1alpha1().OverridePolicies("default")
	if _, err := ops.Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ops.Delete(context.Background(), p.Name, metav1.DeleteOptions{}) })
}
