package deletion

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	clientfeatures "k8s.io/client-go/features"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/watchlist"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"

	"github.com/tether-io/tether/test/testenv"
)

// pagedLW serves Works in pages of two and fails the list call named by failAt.
type pagedLW struct {
	mu      sync.Mutex
	works   []*workv1alpha1.Work
	calls   int
	failAt  int
	watches []metav1.ListOptions
	given   []*watch.FakeWatcher
	refuse  int // watch calls to refuse, as a hub that is down
}

func (p *pagedLW) ListWithContext(_ context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.calls == p.failAt {
		return nil, errors.New("test: the hub went away")
	}
	start := 0
	if opts.Continue != "" {
		start, _ = strconv.Atoi(opts.Continue)
	}
	end := min(start+2, len(p.works))
	list := &workv1alpha1.WorkList{ListMeta: metav1.ListMeta{ResourceVersion: "7"}}
	if end < len(p.works) {
		list.Continue = strconv.Itoa(end)
	}
	for _, w := range p.works[start:end] {
		list.Items = append(list.Items, *w)
	}
	return list, nil
}

func (p *pagedLW) WatchWithContext(_ context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refuse > 0 {
		p.refuse--
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	p.watches = append(p.watches, opts)
	w := watch.NewFake()
	p.given = append(p.given, w)
	return w, nil
}

func (p *pagedLW) List(opts metav1.ListOptions) (runtime.Object, error) {
	return p.ListWithContext(context.Background(), opts)
}

func (p *pagedLW) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	return p.WatchWithContext(context.Background(), opts)
}

func (p *pagedLW) watch(i int) (metav1.ListOptions, *watch.FakeWatcher, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i >= len(p.watches) {
		return metav1.ListOptions{}, nil, false
	}
	return p.watches[i], p.given[i], true
}

type observation struct {
	names   []string
	initial bool
}

// observer records what observe is called with.
type observer struct {
	mu  sync.Mutex
	got []observation
}

func (o *observer) observe(items []*workv1alpha1.Work, initial bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ob := observation{initial: initial}
	for _, w := range items {
		ob.names = append(ob.names, w.Name)
	}
	o.got = append(o.got, ob)
}

func (o *observer) lists() []observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]observation(nil), o.got...)
}

// TestObserveListsJoinsPages: observe sees each complete list once, all its
// pages together, initial only the first time; a list that failed half-way
// is not observed.
func TestObserveListsJoinsPages(t *testing.T) {
	src := &pagedLW{works: works(5, 2), failAt: 5}
	obs := &observer{}
	lw := ObserveLists(src, ListObserverFunc(obs.observe), nil).(cache.ListerWatcherWithContext)
	list := func(cont string) string {
		obj, err := lw.ListWithContext(context.Background(), metav1.ListOptions{Continue: cont})
		if err != nil {
			return "error"
		}
		return obj.(*workv1alpha1.WorkList).Continue
	}
	// First list: pages 0-1, 2-3, 4.
	if c := list(""); c != "2" {
		t.Fatalf("continue %q", c)
	}
	if len(obs.lists()) != 0 {
		t.Fatal("a partial list was observed")
	}
	list("2")
	list("4")
	// Second list fails on its second page, then starts over.
	list("")
	if c := list("2"); c != "error" {
		t.Fatalf("the failing page returned %q", c)
	}
	list("")
	list("2")
	list("4")
	got := obs.lists()
	if len(got) != 2 {
		t.Fatalf("observed %d lists, want 2: %+v", len(got), got)
	}
	for i, o := range got {
		if len(o.names) != 5 || o.initial != (i == 0) {
			t.Errorf("list %d: %d Works, initial %v", i, len(o.names), o.initial)
		}
	}
}

// TestReflectorListsThroughTheWrapper runs client-go's reflector with the
// WatchListClient feature on (its default): the wrapper must make it List,
// at the start and after a watch error, rather than stream the state
// through a watch that observe never sees.
func TestReflectorListsThroughTheWrapper(t *testing.T) {
	if !clientfeatures.FeatureGates().Enabled(clientfeatures.WatchListClient) {
		t.Skip("WatchListClient is off in this client-go; the reflector lists anyway")
	}
	src := &pagedLW{works: works(3, 3)}
	obs := &observer{}
	lw := ObserveLists(src, ListObserverFunc(obs.observe), nil)
	if !watchlist.DoesClientNotSupportWatchListSemantics(lw) {
		t.Fatal("the wrapper does not opt out of watch-list semantics")
	}
	store := cache.NewStore(cache.MetaNamespaceKeyFunc)
	r := cache.NewReflector(lw, &workv1alpha1.Work{}, store, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.RunWithContext(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testenv.Eventually(t, 30*time.Second, "the first list", holds(func() bool { return len(obs.lists()) == 1 }))
	testenv.Eventually(t, 30*time.Second, "the watch", holds(func() bool { _, _, ok := src.watch(0); return ok }))
	opts, w, _ := src.watch(0)
	if opts.SendInitialEvents != nil {
		t.Fatalf("the reflector streamed the initial state: %+v", opts)
	}
	// A watch that ends with "too old resource version" makes it relist.
	w.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
	testenv.Eventually(t, 30*time.Second, "the relist", holds(func() bool { return len(obs.lists()) == 2 }))
	if o := obs.lists(); !o[0].initial || o[1].initial || len(o[1].names) != 3 {
		t.Errorf("observations %+v", o)
	}
}

// TestRefusedWatchIsFollowedByAList: client-go resumes a watch refused by a
// hub that is down from its last resource version, without a list; the
// wrapper makes it list first, so the Works deleted during the outage are
// found on a list.
func TestRefusedWatchIsFollowedByAList(t *testing.T) {
	src := &pagedLW{works: works(3, 0)}
	obs := &observer{}
	r := cache.NewReflector(ObserveLists(src, ListObserverFunc(obs.observe), nil), &workv1alpha1.Work{}, cache.NewStore(cache.MetaNamespaceKeyFunc), 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.RunWithContext(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testenv.Eventually(t, 30*time.Second, "the watch", holds(func() bool { _, _, ok := src.watch(0); return ok }))
	// The hub goes away: the open watch ends, the next one is refused, and
	// meanwhile Works are deleted on the hub.
	src.mu.Lock()
	src.refuse = 1
	src.works = works(3, 3)
	src.mu.Unlock()
	_, w, _ := src.watch(0)
	w.Modify(works(3, 0)[0]) // an event: the watch ends as a normal, not a very short one
	w.Stop()
	testenv.Eventually(t, 30*time.Second, "a list after the refused watch", holds(func() bool { return len(obs.lists()) == 2 }))
	if o := obs.lists()[1]; o.initial || len(o.names) != 3 {
		t.Errorf("second list %+v", o)
	}
	testenv.Eventually(t, 30*time.Second, "the watch to resume after the list", holds(func() bool { _, _, ok := src.watch(1); return ok }))
}

// TestAnOutageTheTransportHidIsFollowedByAList: the agent's hub transport
// holds a watch that found the hub unreachable and sends it again once the
// hub is back, so the reflector sees no error; the outage count tells the
// wrapper, which makes the reflector list before it watches again.
func TestAnOutageTheTransportHidIsFollowedByAList(t *testing.T) {
	src := &pagedLW{works: works(3, 0)}
	obs := &observer{}
	var outages atomic.Uint64
	r := cache.NewReflector(ObserveLists(src, ListObserverFunc(obs.observe), outages.Load), &workv1alpha1.Work{},
		cache.NewStore(cache.MetaNamespaceKeyFunc), 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.RunWithContext(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testenv.Eventually(t, 30*time.Second, "the watch", holds(func() bool { _, _, ok := src.watch(0); return ok }))
	// The hub goes away and comes back; Works were deleted meanwhile. The
	// open watch ends; no request failed as far as the reflector knows.
	outages.Add(1)
	src.mu.Lock()
	src.works = works(3, 3)
	src.mu.Unlock()
	_, w, _ := src.watch(0)
	w.Modify(works(3, 0)[0])
	w.Stop()
	testenv.Eventually(t, 30*time.Second, "a list after the outage", holds(func() bool { return len(obs.lists()) == 2 }))
	if o := obs.lists()[1]; o.initial || len(o.names) != 3 {
		t.Errorf("the list after the outage: %+v", o)
	}
}
