package apply

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/tether-io/tether/pkg/drift"
)

const driftManifests = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: NS, labels: {app: web, tier: cache}}
data: {mode: fast, level: "3"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: NS}
stringData: {password: hunter2-initial}`

var (
	configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

// stamped returns the manifests with their digest, as the Work controller
// applies them (manifest.Stamp).
func stamped(t *testing.T, ns, docs string) []*unstructured.Unstructured {
	t.Helper()
	objs := objects(t, ns, docs)
	for _, o := range objs {
		drift.StampDigest(o)
	}
	return objs
}

// editAs changes a member object with an Update under manager, as
// kubectl edit does.
func editAs(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name, manager string, edit func(*unstructured.Unstructured)) {
	t.Helper()
	ctx := context.Background()
	obj, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	edit(obj)
	if _, err := dyn.Resource(gvr).Namespace(ns).Update(ctx, obj, metav1.UpdateOptions{FieldManager: manager}); err != nil {
		t.Fatal(err)
	}
}

// TestDriftIsReportedThenRepaired: a member-side edit to a field Tether
// applied, on an object applied from the same manifest, is described on the
// entry (path, both values, the editing manager) and repaired.
func TestDriftIsReportedThenRepaired(t *testing.T) {
	a, dyn, _ := newApplier(t)
	namespace(t, a, "drift")
	mustApply(t, a, stamped(t, "drift", driftManifests))
	editAs(t, dyn, configMaps, "drift", "settings", "kubectl-edit", func(o *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(o.Object, "slow", "data", "mode")
		labels := o.GetLabels()
		delete(labels, "app")
		o.SetLabels(labels)
	})
	cs := a.ApplyAll(context.Background(), stamped(t, "drift", driftManifests), Options{})
	e := cs[0]
	if e.Err != nil || e.Action != Configured {
		t.Fatalf("repair: %s %v", e.Action, e.Err)
	}
	if e.Drift == nil {
		t.Fatal("no drift reported for an edited ConfigMap")
	}
	want := []drift.Field{
		{Path: "/data/mode", ValueInMember: `"slow"`, ValueInHub: `"fast"`, Manager: "kubectl-edit"},
		{Path: "/metadata/labels/app", ValueInHub: `"web"`},
	}
	if len(e.Drift.Fields) != len(want) {
		t.Fatalf("fields %+v, want %+v", e.Drift.Fields, want)
	}
	for i := range want {
		if e.Drift.Fields[i] != want[i] {
			t.Errorf("field %d: %+v, want %+v", i, e.Drift.Fields[i], want[i])
		}
	}
	if !e.Drift.Repaired || e.Drift.Mode != "correct" {
		t.Errorf("mode %q repaired %v, want correct and repaired", e.Drift.Mode, e.Drift.Repaired)
	}
	live, err := dyn.Resource(configMaps).Namespace("drift").Get(context.Background(), "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mode, _, _ := unstructured.NestedString(live.Object, "data", "mode"); mode != "fast" || live.GetLabels()["app"] != "web" {
		t.Errorf("not repaired: mode %q, labels %v", mode, live.GetLabels())
	}
	if cs[1].Drift != nil {
		t.Errorf("drift on the untouched Secret: %+v", cs[1].Drift)
	}
}

// TestSecretDriftCarriesNoValues: a drifted Secret reports its paths only.
func TestSecretDriftCarriesNoValues(t *testing.T) {
	a, dyn, _ := newApplier(t)
	namespace(t, a, "drift-secret")
	mustApply(t, a, stamped(t, "drift-secret", driftManifests))
	editAs(t, dyn, secrets, "drift-secret", "creds", "kubectl-edit", func(o *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(o.Object, "aHVudGVyMi1tZW1iZXI=", "data", "password") // hunter2-member
	})
	e := a.ApplyAll(context.Background(), stamped(t, "drift-secret", driftManifests), Options{})[1]
	if e.Err != nil || e.Drift == nil || len(e.Drift.Fields) == 0 {
		t.Fatalf("secret edit: %s %v, drift %+v", e.Action, e.Err, e.Drift)
	}
	for _, f := range e.Drift.Fields {
		if f.ValueInHub != "" || f.ValueInMember != "" {
			t.Errorf("a Secret's field carries values: %+v", f)
		}
		for _, s := range []string{f.Path, f.Manager} {
			if strings.Contains(s, "hunter2") || strings.Contains(s, "aHVudGVy") {
				t.Errorf("a Secret's value leaked into %+v", f)
			}
		}
	}
	if len(e.Drift.Fields) != 1 || e.Drift.Fields[0].Path != "/data/password" || e.Drift.Fields[0].Manager != "kubectl-edit" {
		t.Errorf("fields %+v, want /data/password (the manifest's stringData as stored) edited by kubectl-edit", e.Drift.Fields)
	}
}

// TestHubChangeIsNotDrift: a changed manifest (another digest) is applied
// and not reported, even where the member was edited too.
func TestHubChangeIsNotDrift(t *testing.T) {
	a, dyn, _ := newApplier(t)
	namespace(t, a, "drift-hub")
	mustApply(t, a, stamped(t, "drift-hub", driftManifests))
	editAs(t, dyn, configMaps, "drift-hub", "settings", "kubectl-edit", func(o *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(o.Object, "slow", "data", "mode")
	})
	changed := strings.Replace(driftManifests, `level: "3"`, `level: "4"`, 1)
	e := a.ApplyAll(context.Background(), stamped(t, "drift-hub", changed), Options{})[0]
	if e.Err != nil || e.Action != Configured {
		t.Fatalf("hub change: %s %v", e.Action, e.Err)
	}
	if e.Drift != nil {
		t.Errorf("a hub change reported as drift: %+v", e.Drift)
	}
}

// TestNoDigestNoWrite: objects applied without the digest (by an older
// Tether) are not written for the digest alone and report no drift; they
// get it with their next real apply.
func TestNoDigestNoWrite(t *testing.T) {
	a, dyn, counter := newApplier(t)
	namespace(t, a, "drift-upgrade")
	mustApply(t, a, objects(t, "drift-upgrade", driftManifests))
	counter.Reset()
	for _, e := range a.ApplyAll(context.Background(), stamped(t, "drift-upgrade", driftManifests), Options{}) {
		if e.Err != nil || e.Action != Unchanged || e.Drift != nil {
			t.Errorf("%s after the upgrade: %s %v, drift %+v", e.Subject, e.Action, e.Err, e.Drift)
		}
	}
	if n := len(counter.Writes()); n != 0 {
		t.Errorf("%d writes for objects that lack only the digest: %v", n, methods(counter))
	}
	editAs(t, dyn, configMaps, "drift-upgrade", "settings", "kubectl-edit", func(o *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(o.Object, "slow", "data", "mode")
	})
	e := a.ApplyAll(context.Background(), stamped(t, "drift-upgrade", driftManifests), Options{})[0]
	if e.Err != nil || e.Action != Configured || e.Drift != nil {
		t.Errorf("edit of an object without the digest: %s %v, drift %+v (want applied, not reported)", e.Action, e.Err, e.Drift)
	}
	live, err := dyn.Resource(configMaps).Namespace("drift-upgrade").Get(context.Background(), "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if drift.DigestOf(live) == "" {
		t.Error("the object did not get the digest with its next real apply")
	}
}

func mustApply(t *testing.T, a *Applier, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, e := range a.ApplyAll(context.Background(), objs, Options{}) {
		if e.Err != nil {
			t.Fatalf("%s: %v", e.Subject, e.Err)
		}
	}
}
