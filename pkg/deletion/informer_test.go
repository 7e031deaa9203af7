package deletion

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// hubWorks creates the execution namespace of cluster on the real hub with
// n Works carrying Karmada's finalizer, and deletes the first terminating
// of them: they stay, terminating, behind the finalizer.
func hubWorks(t *testing.T, hub versioned.Interface, cluster string, n, terminating int) {
	t.Helper()
	ctx := context.Background()
	ns := workv1alpha1.ExecutionNamespace(cluster)
	kube := kubernetes.NewForConfigOrDie(testenv.Require(t).Hub.Config)
	_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	works := hub.WorkV1alpha1().Works(ns)
	for i := range n {
		w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w%d", i), Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}}}
		w.Spec.Workload.Manifests = []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{
			Raw: []byte(fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c%d"}}`, i))}}}
		_, err := works.Create(ctx, w, metav1.CreateOptions{})
		testenv.NoError(t, err)
		if i < terminating {
			testenv.NoError(t, works.Delete(ctx, w.Name, metav1.DeleteOptions{}))
		}
	}
	t.Cleanup(func() {
		for i := range n {
			_, _ = works.Patch(context.Background(), fmt.Sprintf("w%d", i), "application/merge-patch+json", []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		}
		_ = kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
}

// requests counts the hub requests of a client by kind.
type requests struct {
	mu            sync.Mutex
	lists, stream int // plain lists; watches that stream the initial state
}

func (r *requests) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if strings.HasSuffix(req.URL.Path, "/works") {
			q := req.URL.Query()
			r.mu.Lock()
			switch {
			case q.Get("watch") == "true" && q.Get("sendInitialEvents") == "true":
				r.stream++
			case q.Get("watch") != "true":
				r.lists++
			}
			r.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

func (r *requests) counts() (int, int) { r.mu.Lock(); defer r.mu.Unlock(); return r.lists, r.stream }

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// startInformer runs NewWorkInformer for cluster against the real hub with
// the given guard and returns the request counts.
func startInformer(t *testing.T, cluster string, g *Guard) *requests {
	t.Helper()
	reqs, _ := startInformerVia(t, testenv.Require(t).Hub.Config, cluster, g)
	return reqs
}

func startInformerVia(t *testing.T, hub *rest.Config, cluster string, observe Observer) (*requests, cache.SharedIndexInformer) {
	t.Helper()
	cfg := rest.CopyConfig(hub)
	reqs := &requests{}
	cfg.Wrap(reqs.wrap)
	inf := NewWorkInformer(versioned.NewForConfigOrDie(cfg), workv1alpha1.ExecutionNamespace(cluster), 0, observe, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { inf.RunWithContext(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	testenv.Eventually(t, 2*time.Minute, "the Work informer to sync", func() (bool, error) { return inf.HasSynced(), nil })
	return reqs, inf
}

// TestWorkInformerListsOnTheHub: with client-go's defaults (streaming
// watch-lists on), the informer built by NewWorkInformer lists the real
// hub, and the guard holds the bulk batch that list finds.
func TestWorkInformerListsOnTheHub(t *testing.T) {
	env := testenv.Require(t)
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	hubWorks(t, hub, "listed", 30, 20)
	g := New(Config{ClusterName: "listed", Threshold: DefaultThreshold})
	reqs := startInformer(t, "listed", g)
	if lists, stream := reqs.counts(); lists == 0 || stream != 0 {
		t.Fatalf("the informer sent %d lists and %d streaming watch-lists; the guard sees only lists", lists, stream)
	}
	if held := g.Held(); len(held) != 20 {
		t.Fatalf("held %d Works, want the 20 found terminating", len(held))
	}
}
