package deletion

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/hubconn"
)

// Observer is told what a Work informer receives from the hub: every
// complete list, and every Work a watch event shows terminating. The Guard
// is one.
type Observer interface {
	// ObserveList is given each complete list (all its pages), with initial
	// true for the first one.
	ObserveList(works []*workv1alpha1.Work, initial bool)
	// ObserveWatched is given a terminating Work that a watch event brought.
	ObserveWatched(work *workv1alpha1.Work)
}

// ListObserverFunc is an Observer of lists only.
type ListObserverFunc func(works []*workv1alpha1.Work, initial bool)

// ObserveList calls f.
func (f ListObserverFunc) ObserveList(works []*workv1alpha1.Work, initial bool) { f(works, initial) }

// ObserveWatched does nothing.
func (f ListObserverFunc) ObserveWatched(*workv1alpha1.Work) {}

// ObserveLists wraps the ListerWatcher of a Work informer: every complete
// list it returns (all pages of one list) is passed to observe before the
// informer sees it, with initial true for the first one, and every
// terminating Work a watch event brings is passed to observe as it arrives.
//
// It makes the reflector list at the start and after every loss of the
// hub, so that what changed meanwhile arrives as a list:
//   - it opts out of streaming watch-lists (client-go's WatchListClient, on
//     by default since 1.35), under which the reflector would fetch the
//     initial state and every relist as watch events and never call List;
//   - after a watch request fails without an answer from the hub (refused,
//     reset, timed out), it answers the next watch request with "resource
//     version expired" until a list succeeds. client-go's reflector resumes
//     a watch after "connection refused" from its last resource version,
//     and the hub's watch cache may still hold every change since: the
//     Works deleted during the outage would arrive as events, as if seen
//     while connected. Other failures (a reset link, an expired resource
//     version, a restarted apiserver) make the reflector relist anyway.
//   - the agent's hub transport (pkg/hubconn) holds a read that found the
//     hub unreachable and sends it again once the hub is back, so that a
//     reflector never sees the failure. The watch is made WithoutResend:
//     it fails instead, which sets lost as above. And outages, when not
//     nil, counts the times the hub became unreachable
//     (hubconn.Gate.Outages): a watch asked for after one, or answered
//     after one, is answered "resource version expired" too, until a list
//     succeeds.
func ObserveLists(lw cache.ListerWatcher, observe Observer, outages func() uint64) cache.ListerWatcher {
	return &observedLW{lw: cache.ToListerWatcherWithContext(lw), observe: observe, outages: outages}
}

type observedLW struct {
	lw      cache.ListerWatcherWithContext
	observe Observer
	outages func() uint64 // nil: none counted

	mu      sync.Mutex
	pending []*workv1alpha1.Work // items of the pages of the list under way
	lists   int                  // complete lists observed
	lost    bool                 // a watch failed without an answer; no watch until a list
	listed  uint64               // outages counted when the last list completed
}

// errRelist asks the reflector to list before it watches again.
func errRelist() error {
	return apierrors.NewResourceExpired("the agent lost the hub: listing the Works again before watching, so that the deletion guard sees what changed meanwhile")
}

// outageSinceList reports whether the hub became unreachable since the last
// complete list.
func (o *observedLW) outageSinceList() bool {
	if o.outages == nil {
		return false
	}
	n := o.outages()
	o.mu.Lock()
	defer o.mu.Unlock()
	return n != o.listed
}

// IsWatchListSemanticsUnSupported tells client-go's reflector to List
// rather than stream the initial state through a watch.
func (o *observedLW) IsWatchListSemanticsUnSupported() bool { return true }

func (o *observedLW) List(opts metav1.ListOptions) (runtime.Object, error) {
	return o.ListWithContext(context.Background(), opts)
}

func (o *observedLW) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	return o.WatchWithContext(context.Background(), opts)
}

// WatchWithContext watches, unless the hub was lost since the last list:
// then it asks the reflector to list first.
func (o *observedLW) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	o.mu.Lock()
	lost := o.lost
	o.mu.Unlock()
	if lost || o.outageSinceList() {
		return nil, errRelist()
	}
	// Not resent by the hub transport after an outage, nor sent once one
	// is waited out: the error sets lost, and the reflector lists.
	w, err := o.lw.WatchWithContext(hubconn.WithoutResend(ctx), opts)
	if err == nil && w != nil && o.outageSinceList() { // an outage counted while it was sent
		w.Stop()
		return nil, errRelist()
	}
	var status apierrors.APIStatus
	if err != nil && ctx.Err() == nil && !errors.As(err, &status) {
		o.mu.Lock()
		o.lost = true
		o.mu.Unlock()
	}
	if err != nil || w == nil {
		return w, err
	}
	return watch.Filter(w, o.watched), nil
}

// watched tells the observer of a terminating Work a watch event brought,
// before the informer sees the event, and passes every event on.
func (o *observedLW) watched(ev watch.Event) (watch.Event, bool) {
	if ev.Type == watch.Added || ev.Type == watch.Modified {
		if w, ok := ev.Object.(*workv1alpha1.Work); ok && w.DeletionTimestamp != nil {
			o.observe.ObserveWatched(w)
		}
	}
	return ev, true
}

// ListWithContext lists, and observes the list once its last page is in. A
// first page (no continue token) starts a new list; a failed page drops the
// pages before it (the reflector starts over).
func (o *observedLW) ListWithContext(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	list, err := o.lw.ListWithContext(ctx, opts)
	o.mu.Lock()
	defer o.mu.Unlock()
	if opts.Continue == "" {
		o.pending = nil
	}
	if err != nil {
		o.pending = nil
		return list, err
	}
	works, next, err := worksOf(list)
	if err != nil {
		o.pending = nil
		return list, err
	}
	o.pending = append(o.pending, works...)
	if next != "" {
		return list, nil
	}
	items := o.pending
	o.pending, o.lost = nil, false
	if o.outages != nil {
		o.listed = o.outages()
	}
	o.lists++
	o.observe.ObserveList(items, o.lists == 1)
	return list, nil
}

// worksOf returns a list's Works and its continue token.
func worksOf(list runtime.Object) ([]*workv1alpha1.Work, string, error) {
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return nil, "", fmt.Errorf("read a list of Works: %w", err)
	}
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, "", fmt.Errorf("read a list of Works: %w", err)
	}
	works := make([]*workv1alpha1.Work, 0, len(objs))
	for _, obj := range objs {
		w, ok := obj.(*workv1alpha1.Work)
		if !ok {
			return nil, "", fmt.Errorf("a list of Works holds a %T", obj)
		}
		works = append(works, w)
	}
	return works, lm.GetContinue(), nil
}

// NewWorkInformer is the Work informer of one namespace, as the generated
// informer factory builds it, with its lists observed (ObserveLists). Use it
// through the factory so that its listers share it:
//
//	factory.InformerFor(&workv1alpha1.Work{}, func(c versioned.Interface, resync time.Duration) cache.SharedIndexInformer {
//		return deletion.NewWorkInformer(c, namespace, resync, guard, outages)
//	})
func NewWorkInformer(client versioned.Interface, namespace string, resync time.Duration, observe Observer, outages func() uint64) cache.SharedIndexInformer {
	works := client.WorkV1alpha1().Works(namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return works.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return works.Watch(ctx, opts)
		},
	}
	return cache.NewSharedIndexInformer(ObserveLists(lw, observe, outages), &workv1alpha1.Work{}, resync,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
}
