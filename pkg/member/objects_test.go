package member

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-io/tether/pkg/manifest"
)

// resettable is a static mapper that serves ConfigMaps (namespaced) and
// Namespaces (cluster-scoped).
type resettable struct{ *meta.DefaultRESTMapper }

func (resettable) Reset() {}

func staticKinds() *Kinds {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	return NewKinds(resettable{m})
}

// Live never reads the apiserver: an unserved kind is Unknown, and a kind
// whose informer does not run (here: stopped) is Pending, with the identity
// scoped either way it can be.
func TestLiveWithoutAnInformer(t *testing.T) {
	o := New(Config{Kinds: staticKinds()})
	o.Stop() // Ensure starts nothing after Stop
	unserved := manifest.Identity{Group: "example.com", Version: "v1", Kind: "Widget", Name: "w"}
	if ans := o.Live(unserved); ans.State != Unknown || ans.ID != unserved {
		t.Errorf("unserved kind: %+v, want Unknown as written", ans)
	}
	cm := manifest.Identity{Version: "v1", Kind: "ConfigMap", Name: "c"}
	ans := o.Live(cm)
	if ans.State != Pending || ans.ID.Namespace != "default" || ans.GVR.Resource != "configmaps" {
		t.Errorf("ConfigMap without an informer: %+v, want Pending in namespace default", ans)
	}
	ns := manifest.Identity{Version: "v1", Kind: "Namespace", Namespace: "stray", Name: "n"}
	if ans := o.Live(ns); ans.ID.Namespace != "" {
		t.Errorf("cluster-scoped identity keeps namespace %q", ans.ID.Namespace)
	}
	if _, found := ans.Cached(); found {
		t.Error("a Pending answer is a cache hit")
	}
}

// An apply response answers Live but is not a cache hit: the apply engine
// and the releaser read the apiserver instead.
func TestApplyResponseIsNotACacheHit(t *testing.T) {
	obj := &unstructured.Unstructured{}
	obj.SetName("c")
	ans := Answer{State: Present, Object: obj, FromApply: true}
	if _, found := ans.Cached(); found {
		t.Error("an apply response counts as cached")
	}
	ans.FromApply = false
	if got, found := ans.Cached(); !found || got != obj {
		t.Error("a cached object is not a cache hit")
	}
}
