package deletion

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// TestRelistAfterHubRestart stops the hub's kube-apiserver under a running
// Work informer and starts it again: the informer lists again, and the
// guard is told it is not the first list.
func TestRelistAfterHubRestart(t *testing.T) {
	env := testenv.Require(t)
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	hubWorks(t, hub, "restarted", 5, 0)
	obs := &observer{}
	startInformerVia(t, env.Hub.Config, "restarted", ListObserverFunc(obs.observe))
	if got := obs.lists(); len(got) != 1 || !got[0].initial || len(got[0].names) != 5 {
		t.Fatalf("first lists %+v", got)
	}
	testenv.NoError(t, env.StopAPIServer(env.Hub))
	testenv.NoError(t, env.StartAPIServer(context.Background(), env.Hub))
	testenv.Eventually(t, 2*time.Minute, "a relist after the hub apiserver restarted", func() (bool, error) {
		return len(obs.lists()) >= 2, nil
	})
	if got := obs.lists()[1]; got.initial || len(got.names) != 5 {
		t.Errorf("relist %+v", got)
	}
}

// TestWorksDeletedBehindARefusingLinkAreHeld: the agent's link to the hub
// refuses connections (a TCP proxy that stops listening) while Works are
// deleted on the hub, whose apiserver keeps running with its watch cache.
// When the link returns the informer lists, and the guard holds the batch.
// Without the list the watch would resume and deliver the deletes as
// events, as if seen while connected.
func TestWorksDeletedBehindARefusingLinkAreHeld(t *testing.T) {
	env := testenv.Require(t)
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	hubWorks(t, hub, "partitioned", 30, 0)
	link := newRefusingProxy(t, env.Hub.Config.Host)
	via := rest.CopyConfig(env.Hub.Config)
	via.Host = "https://" + link.addr
	g := New(Config{ClusterName: "partitioned", Threshold: DefaultThreshold, Grace: time.Hour})
	_, inf := startInformerVia(t, via, "partitioned", g)
	// An event through the watch: when the link goes down the watch ends as
	// an established one, which client-go resumes, not as a very short one,
	// which it follows with a list.
	works := hub.WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace("partitioned"))
	_, err := works.Patch(context.Background(), workName(29), types.MergePatchType, []byte(`{"metadata":{"labels":{"seen":"yes"}}}`), metav1.PatchOptions{})
	testenv.NoError(t, err)
	testenv.Eventually(t, time.Minute, "the informer to see an event", func() (bool, error) {
		obj, ok, err := inf.GetStore().GetByKey(workv1alpha1.ExecutionNamespace("partitioned") + "/" + workName(29))
		return ok && obj.(*workv1alpha1.Work).Labels["seen"] == "yes", err
	})

	link.down()
	for i := range 20 {
		testenv.NoError(t, works.Delete(context.Background(), workName(i), metav1.DeleteOptions{}))
	}
	link.up(t)
	testenv.Eventually(t, 2*time.Minute, "the guard to hold the Works deleted while the link was down", func() (bool, error) {
		return len(g.Held()) == 20, nil
	})
}

func workName(i int) string { return fmt.Sprintf("w%d", i) }

// refusingProxy forwards TCP to a target; down closes its listener and
// every connection, so that new connections are refused, and up listens on
// the same port again.
type refusingProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func newRefusingProxy(t *testing.T, target string) *refusingProxy {
	t.Helper()
	u, err := url.Parse(target)
	testenv.NoError(t, err)
	p := &refusingProxy{addr: "127.0.0.1:0", target: u.Host}
	p.up(t)
	t.Cleanup(p.down)
	return p
}

func (p *refusingProxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	testenv.NoError(t, err)
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *refusingProxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, s)
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
	_, _ = io.Copy(c, s)
	_ = c.Close()
}

func (p *refusingProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// countingObserver passes everything to a Guard and counts the lists.
type countingObserver struct {
	*Guard
	mu    sync.Mutex
	lists int
}

func (c *countingObserver) ObserveList(works []*workv1alpha1.Work, initial bool) {
	c.Guard.ObserveList(works, initial)
	c.mu.Lock()
	c.lists++
	c.mu.Unlock()
}

func (c *countingObserver) listCount() int { c.mu.Lock(); defer c.mu.Unlock(); return c.lists }

// TestWorksSeenTerminatingAreNotHeldByARelist: Works deleted while the
// agent is connected arrive as watch events; the agent has not got to them
// yet (a mass delete, a busy queue) when its link drops and it lists again.
// The list finds them still terminating, but they were seen going into
// deletion while connected: the guard holds none of them.
func TestWorksSeenTerminatingAreNotHeldByARelist(t *testing.T) {
	env := testenv.Require(t)
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	hubWorks(t, hub, "seen", 30, 0)
	link := newRefusingProxy(t, env.Hub.Config.Host)
	via := rest.CopyConfig(env.Hub.Config)
	via.Host = "https://" + link.addr
	var failed atomic.Int64 // requests the link refused
	via.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(r)
			if err != nil {
				failed.Add(1)
			}
			return resp, err
		})
	})
	obs := &countingObserver{Guard: New(Config{ClusterName: "seen", Threshold: DefaultThreshold, Grace: time.Hour})}
	_, inf := startInformerVia(t, via, "seen", obs)
	works := hub.WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace("seen"))
	for i := range 20 {
		testenv.NoError(t, works.Delete(context.Background(), workName(i), metav1.DeleteOptions{}))
	}
	testenv.Eventually(t, time.Minute, "the informer to see the 20 Works terminating", func() (bool, error) {
		n := 0
		for _, obj := range inf.GetStore().List() {
			if obj.(*workv1alpha1.Work).DeletionTimestamp != nil {
				n++
			}
		}
		return n == 20, nil
	})
	lists := obs.listCount()
	link.down()
	testenv.Eventually(t, time.Minute, "the informer to find the link down", func() (bool, error) {
		return failed.Load() > 0, nil
	})
	link.up(t)
	testenv.Eventually(t, 2*time.Minute, "a relist after the link came back", func() (bool, error) {
		return obs.listCount() > lists, nil
	})
	if held := obs.Held(); len(held) != 0 {
		t.Errorf("the guard holds %d Works seen terminating while connected: %v", len(held), held)
	}
}
