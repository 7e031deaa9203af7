package member_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
	"github.com/tether-io/tether/test/testenv"
)

// TestLiveFollowsTheMember runs Objects against a real member: an object
// applied for a Work is Present with Tether's owned fields kept aside (and
// no managedFields on the cached copy), its Work hears of it, an apply
// response answers for an object the informer has not seen (but is no
// cache hit), and a deleted object becomes Absent.
func TestLiveFollowsTheMember(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	cfg := env.Members[0].Config
	dyn := dynamic.NewForConfigOrDie(cfg)
	kinds := member.NewKinds(restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg))))
	var events atomic.Int64
	objs := member.New(member.Config{Client: dyn, Kinds: kinds, FieldManager: apply.DefaultFieldManager,
		KeepManagedFields: apply.IsLegacyEntry, OnEvent: func(ev member.Event) {
			if ev.WorkKey == "karmada-es-m/w" {
				events.Add(1)
			}
		}})
	defer objs.Stop()
	cs := kubernetes.NewForConfigOrDie(cfg)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "live"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	id := manifest.Identity{Version: "v1", Kind: "ConfigMap", Namespace: "live", Name: "a"}
	testenv.Eventually(t, 30*time.Second, "the ConfigMap informer synced", func() (bool, error) {
		return objs.Live(id).State == member.Absent, nil
	})
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"k": "v"}}}
	cm.SetNamespace("live")
	cm.SetName("a")
	manifest.Stamp(cm, manifest.WorkRef{Namespace: "karmada-es-m", Name: "w"})
	applied, err := dyn.Resource(corev1.SchemeGroupVersion.WithResource("configmaps")).Namespace("live").Apply(ctx, "a", cm,
		metav1.ApplyOptions{FieldManager: apply.DefaultFieldManager, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the applied ConfigMap Present in the cache", func() (bool, error) {
		_, found := objs.Live(id).Cached()
		return found, nil
	})
	live, _ := objs.Live(id).Cached()
	if len(live.GetManagedFields()) != 0 {
		t.Errorf("the cached object keeps managedFields: %v", live.GetManagedFields())
	}
	if objs.OwnedFields(live) == nil {
		t.Error("Tether's Apply entry was not kept aside")
	}
	if events.Load() == 0 {
		t.Error("the Work named by the object's annotations heard nothing")
	}

	// An apply response stands in for an object the informer has not seen.
	ghost := applied.DeepCopy()
	ghost.SetName("not-yet-seen")
	ghostID := manifest.Identity{Version: "v1", Kind: "ConfigMap", Namespace: "live", Name: "not-yet-seen"}
	objs.Applied(corev1.SchemeGroupVersion.WithResource("configmaps"), ghost)
	if ans := objs.Live(ghostID); ans.State != member.Present || !ans.FromApply {
		t.Errorf("apply response: %+v, want Present from the apply", ans)
	}
	if _, found := objs.Live(ghostID).Cached(); found {
		t.Error("an apply response counts as a cache hit")
	}

	if err := cs.CoreV1().ConfigMaps("live").Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the deleted ConfigMap Absent", func() (bool, error) {
		return objs.Live(id).State == member.Absent, nil
	})
}
