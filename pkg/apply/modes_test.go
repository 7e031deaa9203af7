package apply

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/tether-io/tether/pkg/drift"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
	"github.com/tether-io/tether/test/testenv"
)

// ignoredReplicas is a Deployment whose manifest leaves spec.replicas to the
// member (an autoscaler), with REPLICAS as its initial value; labelled
// managed, as manifest.Stamp does, for the member cache to watch it.
const ignoredReplicas = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: NS
  labels: {app: web, karmada.io/managed: "true"}
  annotations: {tether.io/drift-mode: ignore, tether.io/drift-ignore-paths: /spec/replicas}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: nginx}`

func deployment(t *testing.T, ns, replicas string, ignore bool) *unstructured.Unstructured {
	t.Helper()
	obj := objects(t, ns, strings.ReplaceAll(ignoredReplicas, "REPLICAS", replicas))[0]
	if !ignore {
		obj.SetAnnotations(nil)
	}
	return obj
}

// cachedApplier is newApplier reading live objects from a real member cache
// (member.Objects, which strips managedFields but Tether's own entry), as
// the agent does. The cache reads with its own client: the Recorder counts
// the engine's requests only.
func cachedApplier(t *testing.T) (*Applier, *member.Objects, dynamic.Interface, *testenv.Recorder) {
	t.Helper()
	plain, dyn, counter := newApplier(t)
	objs := member.New(member.Config{Client: dynamic.NewForConfigOrDie(rest.CopyConfig(testenv.Require(t).Members[0].Config)),
		Kinds: plain.kinds, FieldManager: DefaultFieldManager, KeepManagedFields: IsLegacyEntry})
	t.Cleanup(objs.Stop)
	return New(Config{Client: plain.client, Kinds: plain.kinds, Types: plain.types, Cache: objs}), objs, dyn, counter
}

// cached waits until the member cache holds obj at its resourceVersion or
// later (the deployment controller writes the status too), with Tether's
// managedFields entry at hand (the cache records it when an object enters,
// which may run ahead of what it serves).
func cached(t *testing.T, objs *member.Objects, obj *unstructured.Unstructured) {
	t.Helper()
	id := manifest.IdentityOf(obj)
	testenv.Eventually(t, 30*time.Second, "the member cache has "+obj.GetName()+" at "+obj.GetResourceVersion(), func() (bool, error) {
		got, ok := objs.Live(id).Cached()
		if !ok || objs.OwnedFields(got) == nil {
			return false, nil
		}
		have, _ := strconv.ParseUint(got.GetResourceVersion(), 10, 64)
		want, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
		return have >= want, nil
	})
}

// scaleTo writes spec.replicas through the scale subresource under the
// field manager "autoscaler", as a HorizontalPodAutoscaler does.
func scaleTo(t *testing.T, ri dynamic.ResourceInterface, name string, replicas int64) *unstructured.Unstructured {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, time.Minute, "the autoscaler rescales", func() (bool, error) {
		scale, err := ri.Get(ctx, name, metav1.GetOptions{}, "scale")
		if err != nil {
			return false, err
		}
		_ = unstructured.SetNestedField(scale.Object, replicas, "spec", "replicas")
		_, err = ri.Update(ctx, scale, metav1.UpdateOptions{FieldManager: "autoscaler"}, "scale")
		return err == nil, nil // a conflict with the deployment controller is retried
	})
	obj, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// owners returns the managers whose managedFields entries hold path.
func owners(t *testing.T, obj *unstructured.Unstructured, path ...string) []string {
	t.Helper()
	p := make([]any, len(path))
	for i, s := range path {
		p[i] = s
	}
	var out []string
	for _, mf := range obj.GetManagedFields() {
		set := &fieldpath.Set{}
		if mf.FieldsV1 == nil || set.FromJSON(bytes.NewReader(mf.FieldsV1.GetRawBytes())) != nil {
			continue
		}
		if set.Has(fieldpath.MakePathOrDie(p...)) {
			out = append(out, mf.Manager+"/"+string(mf.Operation))
		}
	}
	return out
}

func replicasOf(t *testing.T, obj *unstructured.Unstructured) int64 {
	t.Helper()
	n, _, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas")
	return n
}

// TestIgnoreAutoscalerCausesNoApply: under ignore, an autoscaler that keeps
// rescaling the Deployment makes the engine write nothing (and read nothing
// while the member cache is consistent); the replicas stay the
// autoscaler's, which owns them alone. A member edit elsewhere is still corrected, without touching the
// replicas.
func TestIgnoreAutoscalerCausesNoApply(t *testing.T) {
	ctx := context.Background()
	a, objs, dyn, counter := cachedApplier(t)
	namespace(t, a, "ignore-hpa")
	desired := deployment(t, "ignore-hpa", "2", true)
	deployments := dyn.Resource(a.mustGVR(t, desired)).Namespace("ignore-hpa")
	if e := a.ApplyOne(ctx, desired, Options{}); e.Action != Created {
		t.Fatalf("create: %s %v", e.Action, e.Err)
	}
	var live *unstructured.Unstructured
	reads := 0
	for replicas := int64(3); replicas <= 7; replicas++ {
		live = scaleTo(t, deployments, "web", replicas)
		cached(t, objs, live)
		counter.Reset()
		e := a.ApplyOne(ctx, desired, Options{})
		if e.Err != nil || e.Action != Unchanged {
			t.Fatalf("after the autoscaler set %d replicas: %s %v, want unchanged", replicas, e.Action, e.Err)
		}
		if n := len(counter.Writes()) + counter.Count(isDryRun); n != 0 {
			t.Fatalf("after the autoscaler set %d replicas the engine sent %d writes or dry runs: %v", replicas, n, requestLines(counter))
		}
		// Reads: none, but one when the cache's record of Tether's entry
		// ran ahead of the object it serves (the deployment controller
		// writes the status right after a rescale).
		if n := counter.Count(toObjects); n > 1 {
			t.Fatalf("after the autoscaler set %d replicas the engine sent %d requests: %v", replicas, n, requestLines(counter))
		}
		reads += counter.Count(toObjects)
	}
	t.Logf("5 rescales: 0 writes, %d reads of the object", reads)
	live, _ = deployments.Get(ctx, "web", metav1.GetOptions{})
	if got := replicasOf(t, live); got != 7 {
		t.Errorf("replicas %d, want the autoscaler's 7", got)
	}
	if got := owners(t, live, "spec", "replicas"); len(got) != 1 || !strings.HasPrefix(got[0], "autoscaler/") {
		t.Errorf("spec.replicas owned by %v, want the autoscaler alone", got)
	}

	// A member edit of a field the manifest sets is corrected, and the
	// replicas are left where the autoscaler put them.
	var edited *unstructured.Unstructured
	testenv.Eventually(t, time.Minute, "a member edit of the image", func() (bool, error) {
		cur, err := deployments.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		_ = unstructured.SetNestedSlice(cur.Object, []any{map[string]any{"name": "nginx", "image": "nginx:edited"}},
			"spec", "template", "spec", "containers")
		edited, err = deployments.Update(ctx, cur, metav1.UpdateOptions{FieldManager: "operator"})
		return err == nil, nil // a conflict with the deployment controller is retried
	})
	cached(t, objs, edited)
	counter.Reset()
	e := a.ApplyOne(ctx, desired, Options{})
	if e.Err != nil || e.Action != Configured {
		t.Fatalf("after a member edit of the image: %s %v, want configured", e.Action, e.Err)
	}
	if w := len(counter.Writes()); w != 1 {
		t.Errorf("the repair took %d writes, want 1: %v", w, methods(counter))
	}
	live, _ = deployments.Get(ctx, "web", metav1.GetOptions{})
	image, _, _ := unstructured.NestedSlice(live.Object, "spec", "template", "spec", "containers")
	if got := image[0].(map[string]any)["image"]; got != "nginx" || replicasOf(t, live) != 7 {
		t.Errorf("after the repair: image %v, replicas %d; want nginx and the autoscaler's 7", got, replicasOf(t, live))
	}
}

// TestIgnoreGivesUpSharedOwnership: when another manager owns an ignored
// path beside Tether, the next apply leaves it out, so Tether stops owning
// it and the value stays. Reading the other managers costs one GET, only
// on an apply.
func TestIgnoreGivesUpSharedOwnership(t *testing.T) {
	ctx := context.Background()
	a, objs, dyn, counter := cachedApplier(t)
	namespace(t, a, "ignore-shared")
	desired := deployment(t, "ignore-shared", "2", true)
	deployments := dyn.Resource(a.mustGVR(t, desired)).Namespace("ignore-shared")
	if e := a.ApplyOne(ctx, desired, Options{}); e.Action != Created {
		t.Fatalf("create: %s %v", e.Action, e.Err)
	}
	// A member-side tool applies the same replicas: both own them.
	claim := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "ignore-shared"}, "spec": map[string]any{"replicas": int64(2)}}}
	shared, err := deployments.Apply(ctx, "web", claim, metav1.ApplyOptions{FieldManager: "member-gitops"})
	if err != nil {
		t.Fatal(err)
	}
	if got := owners(t, shared, "spec", "replicas"); len(got) != 2 {
		t.Fatalf("spec.replicas owned by %v, want Tether and member-gitops", got)
	}
	cached(t, objs, shared)

	// A change on the hub: the apply leaves the replicas out.
	desired.SetLabels(map[string]string{"app": "web", "karmada.io/managed": "true", "tier": "front"})
	counter.Reset()
	e := a.ApplyOne(ctx, desired, Options{})
	if e.Err != nil || e.Action != Configured {
		t.Fatalf("hub change: %s %v, want configured", e.Action, e.Err)
	}
	if w, g := len(counter.Writes()), counter.Count(func(r testenv.Request) bool { return r.Method == "GET" && toObjects(r) }); w != 1 || g != 1 {
		t.Errorf("the hub change took %d writes and %d GETs, want 1 and 1: %v", w, g, requestLines(counter))
	}
	live, _ := deployments.Get(ctx, "web", metav1.GetOptions{})
	if got := owners(t, live, "spec", "replicas"); len(got) != 1 || !strings.HasPrefix(got[0], "member-gitops/") {
		t.Errorf("spec.replicas owned by %v, want member-gitops alone", got)
	}
	if replicasOf(t, live) != 2 || live.GetLabels()["tier"] != "front" {
		t.Errorf("replicas %d, labels %v; want 2 and the new label", replicasOf(t, live), live.GetLabels())
	}
}

// TestIgnoreKeepsSoleOwnedValue: a path Tether alone owns is not deleted
// when the manifest starts ignoring it, nor set to the manifest's new
// value: the apply carries the live value, and Tether keeps owning it.
func TestIgnoreKeepsSoleOwnedValue(t *testing.T) {
	ctx := context.Background()
	a, objs, dyn, counter := cachedApplier(t)
	namespace(t, a, "ignore-sole")
	first := deployment(t, "ignore-sole", "3", false)
	deployments := dyn.Resource(a.mustGVR(t, first)).Namespace("ignore-sole")
	e := a.ApplyOne(ctx, first, Options{})
	if e.Action != Created {
		t.Fatalf("create: %s %v", e.Action, e.Err)
	}
	cached(t, objs, e.Object)
	counter.Reset()
	if e = a.ApplyOne(ctx, deployment(t, "ignore-sole", "7", true), Options{}); e.Err != nil || e.Action != Configured {
		t.Fatalf("the manifest starts ignoring replicas: %s %v, want configured (its annotations)", e.Action, e.Err)
	}
	live, _ := deployments.Get(ctx, "web", metav1.GetOptions{})
	if got := replicasOf(t, live); got != 3 {
		t.Errorf("replicas %d, want the live 3 (not the manifest's 7, nor the default 1 of a deleted field)", got)
	}
	if got := owners(t, live, "spec", "replicas"); len(got) != 1 || got[0] != DefaultFieldManager+"/Apply" {
		t.Errorf("spec.replicas owned by %v, want Tether alone", got)
	}
	if w := len(counter.Writes()); w != 1 {
		t.Errorf("%d writes, want 1: %v", w, methods(counter))
	}
	cached(t, objs, live)
	counter.Reset()
	if e = a.ApplyOne(ctx, deployment(t, "ignore-sole", "7", true), Options{}); e.Action != Unchanged || len(counter.Writes()) != 0 {
		t.Errorf("next sync: %s %v with %d writes, want unchanged and none", e.Action, e.Err, len(counter.Writes()))
	}
}

// TestInvalidDriftPolicyFailsItsManifest: a bad annotation fails its own
// object, terminally, with an error that names the annotation and never
// quotes it; the object is neither created nor written, and the other
// objects of the batch are applied.
func TestInvalidDriftPolicyFailsItsManifest(t *testing.T) {
	ctx := context.Background()
	a, dyn, counter := newApplier(t)
	namespace(t, a, "bad-policy")
	objs := objects(t, "bad-policy", `apiVersion: v1
kind: ConfigMap
metadata: {name: bad, namespace: NS, annotations: {tether.io/drift-mode: sometimes-secret}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: good, namespace: NS}
data: {k: v}`)
	cs := a.ApplyAll(ctx, objs, Options{})
	bad, good := cs[0], cs[1]
	if bad.Action != Failed || !IsTerminal(bad.Err) {
		t.Fatalf("bad annotation: %s %v, want a terminal failure", bad.Action, bad.Err)
	}
	if msg := bad.Err.Error(); !strings.Contains(msg, drift.ModeAnnotation) || !strings.Contains(msg, "ConfigMap/bad-policy/bad") ||
		strings.Contains(msg, "sometimes-secret") {
		t.Errorf("error %q must name the object and the annotation, and not quote its value", msg)
	}
	if good.Action != Created {
		t.Errorf("the other object: %s %v, want created", good.Action, good.Err)
	}
	cms := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace("bad-policy")
	if _, err := cms.Get(ctx, "bad", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the object with the bad annotation was created: %v", err)
	}

	// On an existing object: no write either.
	objs[1].SetAnnotations(map[string]string{drift.ModeAnnotation: "ignore", drift.IgnorePathsAnnotation: "data.k"})
	counter.Reset()
	e := a.ApplyOne(ctx, objs[1], Options{})
	if e.Action != Failed || !IsTerminal(e.Err) || !strings.Contains(e.Err.Error(), drift.IgnorePathsAnnotation) {
		t.Errorf("bad ignore path: %s %v, want a terminal failure naming %s", e.Action, e.Err, drift.IgnorePathsAnnotation)
	}
	if n := len(counter.Writes()); n != 0 {
		t.Errorf("%d writes for a manifest with a bad annotation", n)
	}
}

// TestReportKeepsMemberEdit: under report, a member edit of a field the
// manifest sets is found and described, and left as it is: no member write,
// sync after sync. A change of the manifest on the hub is applied whole.
func TestReportKeepsMemberEdit(t *testing.T) {
	ctx := context.Background()
	a, objs, dyn, counter := cachedApplier(t)
	namespace(t, a, "report")
	manifestWith := func(value string) *unstructured.Unstructured {
		obj := objects(t, "report", `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: NS, labels: {karmada.io/managed: "true"}, annotations: {tether.io/drift-mode: report}}
data: {k: VALUE, other: same}`)[0]
		_ = unstructured.SetNestedField(obj.Object, value, "data", "k")
		drift.StampDigest(obj)
		return obj
	}
	desired := manifestWith("v1")
	if e := a.ApplyOne(ctx, desired, Options{}); e.Action != Created {
		t.Fatalf("create: %s %v", e.Action, e.Err)
	}
	cms := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace("report")
	live, err := cms.Get(ctx, "cfg", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(live.Object, "edited", "data", "k")
	if live, err = cms.Update(ctx, live, metav1.UpdateOptions{FieldManager: "operator"}); err != nil {
		t.Fatal(err)
	}
	cached(t, objs, live)
	for sync := 1; sync <= 3; sync++ {
		counter.Reset()
		e := a.ApplyOne(ctx, desired, Options{})
		if e.Err != nil || e.Action != Unchanged {
			t.Fatalf("sync %d after the edit: %s %v, want unchanged", sync, e.Action, e.Err)
		}
		if w := len(counter.Writes()); w != 0 {
			t.Fatalf("sync %d under report wrote %d times: %v", sync, w, methods(counter))
		}
		f := e.Drift
		if f == nil || f.Mode != string(drift.Report) || f.Repaired || len(f.Fields) != 1 {
			t.Fatalf("sync %d: finding %+v, want one field in mode report, not repaired", sync, f)
		}
		if got := f.Fields[0]; got.Path != "/data/k" || got.ValueInMember != `"edited"` || got.ValueInHub != `"v1"` || got.Manager != "operator" {
			t.Errorf("sync %d: drifted field %+v", sync, got)
		}
		t.Logf("sync %d: member requests %v", sync, requestLines(counter))
	}
	if live, _ = cms.Get(ctx, "cfg", metav1.GetOptions{}); live.Object["data"].(map[string]any)["k"] != "edited" {
		t.Errorf("the member edit was undone: %v", live.Object["data"])
	}

	// The hub changes the manifest: applied whole, over the edit.
	counter.Reset()
	e := a.ApplyOne(ctx, manifestWith("v2"), Options{})
	if e.Err != nil || e.Action != Configured || e.Drift != nil {
		t.Fatalf("hub change: %s %v, finding %+v; want configured, no drift", e.Action, e.Err, e.Drift)
	}
	if live, _ = cms.Get(ctx, "cfg", metav1.GetOptions{}); live.Object["data"].(map[string]any)["k"] != "v2" {
		t.Errorf("the hub change was not applied: %v", live.Object["data"])
	}
}

// requestLines lists the requests a Recorder saw, for failure messages.
func requestLines(rec *testenv.Recorder) []string {
	var out []string
	for _, r := range rec.Requests(nil) {
		out = append(out, r.Method+" "+r.Path+"?"+r.Query)
	}
	return out
}

// toObjects matches the requests for objects, not the member's OpenAPI
// documents (read once per group version, for the local comparison).
func toObjects(r testenv.Request) bool { return !strings.HasPrefix(r.Path, "/openapi/") }
