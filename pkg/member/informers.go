package member

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
)

// Event is a change to a managed member object, with the Work it belongs to
// (from its work.karmada.io annotations).
type Event struct {
	WorkKey string // namespace/name of the Work on the hub
	GVR     schema.GroupVersionResource
	Old     *unstructured.Unstructured // nil on add
	New     *unstructured.Unstructured // nil on delete
}

// Object is the object the event is about: the new one, or the deleted one.
func (ev Event) Object() *unstructured.Unstructured {
	if ev.New != nil {
		return ev.New
	}
	return ev.Old
}

// Ensure starts the informer for gvr if it is not running. Each informer
// lists and watches only objects labelled karmada.io/managed=true, so the
// agent never caches the member's unrelated objects. Ensure does not wait
// for the informer to sync; Live says Pending until it has.
func (o *Objects) Ensure(gvr schema.GroupVersionResource) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.informers[gvr]; ok || o.stopped {
		return
	}
	selector := workv1alpha1.ManagedLabel + "=" + workv1alpha1.ManagedLabelValue
	inf := dynamicinformer.NewFilteredDynamicInformer(o.cfg.Client, gvr, metav1.NamespaceAll, 0, cache.Indexers{},
		func(lo *metav1.ListOptions) { lo.LabelSelector = selector }).Informer()
	_ = inf.SetTransform(o.trim)
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { o.emit(gvr, nil, obj) },
		UpdateFunc: func(old, obj any) { o.emit(gvr, old, obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if u, ok := obj.(*unstructured.Unstructured); ok {
				o.dropOwned(u)
			}
			o.emit(gvr, obj, nil)
		},
	})
	o.informers[gvr] = inf
	go inf.Run(o.stop)
}

// emit reports an event to the Work named by the object's annotations. When
// an update changed them (someone rewrote Tether's annotations), the Work
// named before hears of it too, so that it repairs its object. The informer
// has now seen the object: an apply response standing in for it is dropped.
func (o *Objects) emit(gvr schema.GroupVersionResource, oldObj, newObj any) {
	ev := Event{GVR: gvr}
	ev.Old, _ = oldObj.(*unstructured.Unstructured)
	ev.New, _ = newObj.(*unstructured.Unstructured)
	obj := ev.Object()
	if obj == nil {
		return
	}
	key := workKeyOf(obj)
	if key != "" {
		o.forgetResponse(gvr, obj.GetNamespace(), obj.GetName())
		ev.WorkKey = key
		o.cfg.OnEvent(ev)
	}
	if ev.Old != nil && ev.New != nil {
		if before := workKeyOf(ev.Old); before != "" && before != key {
			o.forgetResponse(gvr, obj.GetNamespace(), obj.GetName())
			ev.WorkKey = before
			o.cfg.OnEvent(ev)
		}
	}
}

// workKeyOf is the namespace/name of the Work an object's annotations name.
func workKeyOf(obj *unstructured.Unstructured) string {
	if w, ok := manifest.WorkOf(obj); ok {
		return w.Key()
	}
	return ""
}
