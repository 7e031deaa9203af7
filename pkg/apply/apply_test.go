package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1}) }

// requestCounter counts requests by verb (and dry runs separately).
// isPatch matches the PATCH requests that change state.
func isPatch(r testenv.Request) bool { return r.Method == http.MethodPatch && !r.DryRun }

// isDryRun matches the server-side dry runs.
func isDryRun(r testenv.Request) bool { return r.DryRun }

// methods summarises requests by method, for failure messages.
func methods(rec *testenv.Recorder) map[string]int {
	out := map[string]int{}
	for _, r := range rec.Requests(nil) {
		m := r.Method
		if r.DryRun {
			m += "-dryrun"
		}
		out[m]++
	}
	return out
}

func newApplier(t *testing.T) (*Applier, dynamic.Interface, *testenv.Recorder) {
	t.Helper()
	env := testenv.Require(t)
	counter := &testenv.Recorder{}
	cfg := counter.Wrap(rest.CopyConfig(env.Members[0].Config))
	dyn := dynamic.NewForConfigOrDie(cfg)
	disc := discovery.NewDiscoveryClientForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	return New(Config{Client: dyn, Mapper: mapper, Types: NewTypeCache(disc)}), dyn, counter
}

func objects(t *testing.T, ns, docs string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(strings.ReplaceAll(docs, "NS", ns), "\n---\n") {
		obj := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
	return out
}

func namespace(t *testing.T, a *Applier, name string) {
	t.Helper()
	cs := a.ApplyAll(context.Background(), objects(t, name, "apiVersion: v1\nkind: Namespace\nmetadata: {name: NS}"), Options{})
	if cs[0].Err != nil {
		t.Fatal(cs[0].Err)
	}
}

const workload = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: NS, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx
        ports: [{containerPort: 80}]
        resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: NS}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web, namespace: NS, annotations: {team.example.com/owner: web}}
data: {key: value}`

// TestReapplyUnchangedWritesNothing is the heart of the restart guarantee:
// re-applying what is already there sends no write, and the verdict comes
// from the local field-set comparison, not a dry run.
func TestReapplyUnchangedWritesNothing(t *testing.T) {
	a, _, counter := newApplier(t)
	namespace(t, a, "unchanged")
	objs := objects(t, "unchanged", workload)
	for _, e := range a.ApplyAll(context.Background(), objs, Options{}) {
		if e.Action != Created {
			t.Fatalf("%s: first apply: %s %v", e.Subject, e.Action, e.Err)
		}
	}
	counter.Reset()
	for _, e := range a.ApplyAll(context.Background(), objects(t, "unchanged", workload), Options{}) {
		if e.Action != Unchanged || e.DecidedBy != "fieldset" {
			t.Errorf("%s: re-apply: %s decided by %q (%v), want unchanged by fieldset", e.Subject, e.Action, e.DecidedBy, e.Err)
		}
	}
	if w := len(counter.Writes()); w != 0 {
		t.Errorf("re-apply sent %d writes: %v", w, methods(counter))
	}
	if d := counter.Count(isDryRun); d != 0 {
		t.Errorf("re-apply needed %d dry runs", d)
	}
}

func TestUpdateDriftAndRemovedFields(t *testing.T) {
	a, dyn, _ := newApplier(t)
	ctx := context.Background()
	namespace(t, a, "drift")
	objs := objects(t, "drift", workload)
	a.ApplyAll(ctx, objs, Options{})
	cm := objs[2]
	cms := dyn.Resource(a.mustGVR(t, cm)).Namespace("drift")

	// Another writer changes a field Tether owns: the next apply repairs it.
	live, _ := cms.Get(ctx, "web", metav1.GetOptions{})
	_ = unstructured.SetNestedField(live.Object, "tampered", "data", "key")
	updated, err := cms.Update(ctx, live, metav1.UpdateOptions{FieldManager: "intruder"})
	if err != nil {
		t.Fatal(err)
	}
	inWatchCache(t, cms, "web", updated)
	if e := a.ApplyOne(ctx, cm, Options{}); e.Action != Configured {
		t.Fatalf("drift repair: %s %v", e.Action, e.Err)
	}
	// Another writer adds a field Tether does not own: left alone.
	live, _ = cms.Get(ctx, "web", metav1.GetOptions{})
	_ = unstructured.SetNestedField(live.Object, "theirs", "data", "other")
	if updated, err = cms.Update(ctx, live, metav1.UpdateOptions{FieldManager: "intruder"}); err != nil {
		t.Fatal(err)
	}
	inWatchCache(t, cms, "web", updated)
	if e := a.ApplyOne(ctx, cm, Options{}); e.Action != Unchanged {
		t.Fatalf("foreign field: %s %v, want unchanged", e.Action, e.Err)
	}
	// The manifest drops its annotation: the apply removes it from the object.
	unstructured.RemoveNestedField(cm.Object, "metadata", "annotations")
	if e := a.ApplyOne(ctx, cm, Options{}); e.Action != Configured {
		t.Fatalf("removed field: %s %v", e.Action, e.Err)
	}
	live, _ = cms.Get(ctx, "web", metav1.GetOptions{})
	if _, ok := live.GetAnnotations()["team.example.com/owner"]; ok {
		t.Error("annotation removed from the manifest is still on the object")
	}
	if live.Object["data"].(map[string]any)["other"] != "theirs" {
		t.Error("a field another manager owns was lost")
	}
}

func TestCRDAndItsResourceInOneBatch(t *testing.T) {
	a, _, _ := newApplier(t)
	namespace(t, a, "crd")
	// The custom resource comes first in the input; ordering puts the CRD first.
	objs := objects(t, "crd", `apiVersion: example.tether.io/v1
kind: Widget
metadata: {name: w1, namespace: NS}
spec: {size: 3}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.tether.io}
spec:
  group: example.tether.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}`)
	cs := a.ApplyAll(context.Background(), objs, Options{})
	for _, e := range cs {
		if e.Action != Created {
			t.Errorf("%s: %s %v", e.Subject, e.Action, e.Err)
		}
	}
	if cs[0].GVR.Resource != "widgets" {
		t.Errorf("custom resource mapped to %v", cs[0].GVR)
	}
	again := a.ApplyAll(context.Background(), objs, Options{})
	for _, e := range again {
		if e.Action != Unchanged {
			t.Errorf("re-apply %s: %s (%s) %v", e.Subject, e.Action, e.DecidedBy, e.Err)
		}
	}
}

func TestBadInputFailsOnlyItsEntry(t *testing.T) {
	a, _, _ := newApplier(t)
	namespace(t, a, "bad")
	objs := objects(t, "bad", `apiVersion: v1
kind: ConfigMap
metadata: {name: good-1, namespace: NS}
data: {a: b}
---
apiVersion: nowhere.example.com/v1
kind: Ghost
metadata: {name: boo, namespace: NS}
---
apiVersion: v1
kind: Service
metadata: {name: invalid, namespace: NS}
spec: {ports: [{port: 99999}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: good-2, namespace: NS}
data: {c: d}`)
	cs := a.ApplyAll(context.Background(), objs, Options{})
	if cs[0].Action != Created || cs[3].Action != Created {
		t.Errorf("valid objects: %s %v / %s %v", cs[0].Action, cs[0].Err, cs[3].Action, cs[3].Err)
	}
	if cs[1].Action != Failed || !strings.Contains(cs[1].Err.Error(), "not served by the member cluster") {
		t.Errorf("unknown kind: %s %v", cs[1].Action, cs[1].Err)
	}
	if cs[2].Action != Failed || !IsTerminal(cs[2].Err) || !strings.Contains(cs[2].Err.Error(), "Service/bad/invalid") {
		t.Errorf("invalid service: %s %v (terminal %v)", cs[2].Action, cs[2].Err, IsTerminal(cs[2].Err))
	}
	if len(cs.Failed()) != 2 {
		t.Errorf("want 2 failures, got %d", len(cs.Failed()))
	}
}

func TestTakeOverRefusedIsAConflict(t *testing.T) {
	a, dyn, _ := newApplier(t)
	ctx := context.Background()
	namespace(t, a, "conflict")
	cm := objects(t, "conflict", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mine, namespace: NS}\ndata: {a: b}")[0]
	e := a.ApplyOne(ctx, cm, Options{})
	if e.Err != nil {
		t.Fatal(e.Err)
	}
	inWatchCache(t, dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace("conflict"), "mine", e.Object)
	opts := Options{
		Owned:    func(live *unstructured.Unstructured) bool { return live.GetLabels()["owned"] == "yes" },
		TakeOver: func(_, live *unstructured.Unstructured) error { return fmt.Errorf("%s is not ours", live.GetName()) },
	}
	e = a.ApplyOne(ctx, cm, opts)
	var conflict *ConflictError
	if e.Action != Failed || !errors.As(e.Err, &conflict) || !IsTerminal(e.Err) {
		t.Fatalf("want a terminal conflict, got %s %v", e.Action, e.Err)
	}
}

func TestDeleteHonoursUIDAndAbsence(t *testing.T) {
	a, dyn, _ := newApplier(t)
	ctx := context.Background()
	namespace(t, a, "delete")
	cm := objects(t, "delete", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone, namespace: NS}\ndata: {a: b}")[0]
	created := a.ApplyOne(ctx, cm, Options{})
	gvr := created.GVR
	// Re-created with another UID: a delete for the old one must not remove it.
	if err := dyn.Resource(gvr).Namespace("delete").Delete(ctx, "gone", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Re-applied at once: the watch cache may still hold the deleted object,
	// so the engine must confirm a managed object with a consistent read.
	if e := a.ApplyOne(ctx, cm, Options{}); e.Action != Created {
		t.Fatalf("re-apply after a delete: %s %v, want created", e.Action, e.Err)
	}
	if e := a.Delete(ctx, gvr, created.Object); e.Action != Unchanged {
		t.Fatalf("delete with a stale UID: %s %v, want unchanged", e.Action, e.Err)
	}
	live, err := dyn.Resource(gvr).Namespace("delete").Get(ctx, "gone", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the re-created object was deleted: %v", err)
	}
	if e := a.Delete(ctx, gvr, live); e.Action != Deleted || e.Err != nil {
		t.Fatalf("delete: %s %v", e.Action, e.Err)
	}
	if e := a.Delete(ctx, gvr, live); e.Action != Deleted || e.Err != nil {
		t.Fatalf("delete of an absent object: %s %v", e.Action, e.Err)
	}
}

func (a *Applier) mustGVR(t *testing.T, obj *unstructured.Unstructured) schema.GroupVersionResource {
	m, err := a.Mapping(obj)
	if err != nil {
		t.Fatal(err)
	}
	return m.Resource
}

// inWatchCache waits until the apiserver's watch cache, which the applier
// reads first, holds name at obj's resourceVersion or later: it may lag a
// write just made, more than a moment on a loaded machine.
func inWatchCache(t *testing.T, ri dynamic.ResourceInterface, name string, obj *unstructured.Unstructured) {
	t.Helper()
	want, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	testenv.Eventually(t, 30*time.Second, name+" in the watch cache", func() (bool, error) {
		got, err := ri.Get(context.Background(), name, metav1.GetOptions{ResourceVersion: "0"})
		if err != nil {
			return false, nil
		}
		rv, _ := strconv.ParseUint(got.GetResourceVersion(), 10, 64)
		return rv >= want, nil
	})
}
