package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
	"github.com/tether-io/tether/test/testenv"
)

// absentCache is a member cache whose informers have synced and hold
// nothing: every object is known absent.
type absentCache struct{}

func (absentCache) Live(id manifest.Identity) member.Answer {
	return member.Answer{ID: id, State: member.Absent}
}

func (absentCache) OwnedFields(*unstructured.Unstructured) []byte { return nil }

// TestCreateFromTheCacheIsOneApplyWithTheSameOwnership: an object the cache
// knows absent costs one request, and the object carries the same
// managedFields as one created by an apply without the cache, so that a
// field later dropped from the manifest leaves it.
func TestCreateFromTheCacheIsOneApplyWithTheSameOwnership(t *testing.T) {
	ctx := context.Background()
	a, dyn, counter := newApplier(t)
	namespace(t, a, "create-first")
	cached := New(Config{Client: a.client, Kinds: a.kinds, Types: a.types, Cache: absentCache{}})
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: NAME, namespace: NS, labels: {app: web}}\ndata: {a: b, c: d}"
	viaCache := objects(t, "create-first", doc)[0]
	viaCache.SetName("via-cache")
	plain := objects(t, "create-first", doc)[0]
	plain.SetName("plain")

	counter.Reset()
	e := cached.ApplyOne(ctx, viaCache, Options{})
	if e.Action != Created || e.Err != nil {
		t.Fatalf("create: %s %v", e.Action, e.Err)
	}
	if n := counter.Count(nil); n != 1 || counter.Count(isPatch) != 1 {
		t.Errorf("create sent %v, want one PATCH", methods(counter))
	}
	if e := a.ApplyOne(ctx, plain, Options{}); e.Action != Created || e.Err != nil {
		t.Fatalf("plain create: %s %v", e.Action, e.Err)
	}
	cms := dyn.Resource(a.mustGVR(t, plain)).Namespace("create-first")
	shape := func(name string) string {
		live, err := cms.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out string
		for _, mf := range live.GetManagedFields() {
			out += fmt.Sprintf("%s/%s/%s/%s %s;", mf.Manager, mf.Operation, mf.APIVersion, mf.Subresource, mf.FieldsV1.GetRawBytes())
		}
		return out
	}
	if got, want := shape("via-cache"), shape("plain"); got != want {
		t.Errorf("managedFields after a create from the cache:\n%s\nafter a plain apply:\n%s", got, want)
	}

	// The field a later manifest drops leaves the object.
	unstructured.RemoveNestedField(viaCache.Object, "data", "c")
	if e := a.ApplyOne(ctx, viaCache, Options{}); e.Action != Configured || e.Err != nil {
		t.Fatalf("dropping a field: %s %v", e.Action, e.Err)
	}
	live, err := cms.Get(ctx, "via-cache", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if data, _, _ := unstructured.NestedStringMap(live.Object, "data"); !reflect.DeepEqual(data, map[string]string{"a": "b"}) {
		t.Errorf("data after dropping c from the manifest: %v", data)
	}
}

// TestCreateFromAStaleCacheNeverOverwrites: the cache says absent, but the
// object exists and belongs to someone else. The create is refused, the
// engine reads the object and refuses the take-over as it would have with
// a cache that knew, and the object is left as it was.
func TestCreateFromAStaleCacheNeverOverwrites(t *testing.T) {
	ctx := context.Background()
	a, dyn, counter := newApplier(t)
	namespace(t, a, "create-stale")
	theirs := objects(t, "create-stale", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs, namespace: NS}\ndata: {a: theirs}")[0]
	cms := dyn.Resource(a.mustGVR(t, theirs)).Namespace("create-stale")
	if _, err := cms.Create(ctx, theirs, metav1.CreateOptions{FieldManager: "someone"}); err != nil {
		t.Fatal(err)
	}
	stale := New(Config{Client: a.client, Kinds: a.kinds, Types: a.types, Cache: absentCache{}})
	mine := objects(t, "create-stale", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs, namespace: NS, labels: {owned: 'yes'}}\ndata: {a: mine}")[0]
	counter.Reset()
	e := stale.ApplyOne(ctx, mine, Options{
		Owned:    func(live *unstructured.Unstructured) bool { return live.GetLabels()["owned"] == "yes" },
		TakeOver: func(_, live *unstructured.Unstructured) error { return fmt.Errorf("%s is not ours", live.GetName()) },
	})
	var conflict *ConflictError
	if e.Action != Failed || !errors.As(e.Err, &conflict) {
		t.Fatalf("apply over an object the cache did not know: %s %v, want a conflict", e.Action, e.Err)
	}
	refused := counter.Count(func(r testenv.Request) bool { return r.Method == http.MethodPatch && r.Code == http.StatusConflict })
	if refused != 1 || counter.Count(isPatch) != 1 {
		t.Errorf("requests %v: want exactly one PATCH, refused with 409", methods(counter))
	}
	live, err := cms.Get(ctx, "theirs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedString(live.Object, "data", "a"); v != "theirs" || len(live.GetLabels()) != 0 {
		t.Errorf("the object was changed: data.a=%q labels %v", v, live.GetLabels())
	}
}
