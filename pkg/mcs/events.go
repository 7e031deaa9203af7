package mcs

import (
	"encoding/json"
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Index names. The Work indexes live on an informer the Work controller may
// share, so their names say whose they are.
const (
	byService         = "service"              // member slices: namespace/name of the Service
	byReportedService = "mcs-reported-service" // reported Works: namespace/name of the Service
	byReportedSlice   = "mcs-reported-slice"   // reported Works: namespace/name of the EndpointSlice
	byMCSService      = "mcs-service"          // Works with a MultiClusterService: namespace/name of its Service
)

// reported tells a Work this agent reports (labelled managed-by) from the
// other Works of the execution namespace.
func reported(obj any) (*workv1alpha1.Work, bool) {
	w, ok := obj.(*workv1alpha1.Work)
	if !ok || w.Labels[ManagedByLabel] == "" {
		return nil, false
	}
	return w, true
}

// sliceService indexes a member slice by its Service.
func sliceService(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok || s.Labels[discoveryv1.LabelServiceName] == "" {
		return nil, nil
	}
	return []string{s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName]}, nil
}

// reportedServices indexes a reported Work by the Services its labels name.
func reportedServices(obj any) ([]string, error) {
	w, ok := reported(obj)
	if !ok {
		return nil, nil
	}
	var out []string
	for _, keys := range sourceLabels {
		if ns, name := w.Labels[keys[0]], w.Labels[keys[1]]; ns != "" && name != "" && !slices.Contains(out, ns+"/"+name) {
			out = append(out, ns+"/"+name)
		}
	}
	return out, nil
}

// reportedSlice indexes a reported Work by the EndpointSlice its manifest is.
func reportedSlice(obj any) ([]string, error) {
	w, ok := reported(obj)
	if !ok {
		return nil, nil
	}
	if key, ok := sliceOf(w); ok {
		return []string{key}, nil
	}
	return nil, nil
}

// mcsService indexes a Work that carries a MultiClusterService by the
// Service its labels name.
func mcsService(obj any) ([]string, error) {
	w, ok := obj.(*workv1alpha1.Work)
	if !ok || w.Labels[MCSNamespaceLabel] == "" || w.Labels[MCSNameLabel] == "" {
		return nil, nil
	}
	for _, m := range w.Spec.Workload.Manifests {
		if h, err := head(m.Raw); err == nil && h.groupKind() == MultiClusterServiceKind {
			return []string{w.Labels[MCSNamespaceLabel] + "/" + w.Labels[MCSNameLabel]}, nil
		}
	}
	return nil, nil
}

// header is the part of a manifest that says what it is.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"metadata"`
}

func head(raw []byte) (header, error) {
	var h header
	err := json.Unmarshal(raw, &h)
	return h, err
}

func (h header) groupKind() schema.GroupKind {
	gv, _ := schema.ParseGroupVersion(h.APIVersion)
	return schema.GroupKind{Group: gv.Group, Kind: h.Kind}
}

// sliceOf is the namespace/name of the EndpointSlice a Work reports, if its
// one manifest is an EndpointSlice and the Work has the name reporting it gives.
func sliceOf(w *workv1alpha1.Work) (string, bool) {
	if len(w.Spec.Workload.Manifests) != 1 {
		return "", false
	}
	h, err := head(w.Spec.Workload.Manifests[0].Raw)
	if err != nil || h.groupKind() != endpointSliceGVK.GroupKind() || h.Metadata.Name == "" ||
		sliceWorkName(h.Metadata.Namespace, h.Metadata.Name) != w.Name {
		return "", false
	}
	return h.Metadata.Namespace + "/" + h.Metadata.Name, true
}

// addHandlers turns every event into the keys of the slices it concerns.
func (c *Controller) addHandlers() error {
	onSlice := handler(func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			c.enqueue(key)
		}
	})
	if _, err := c.slices.AddEventHandler(onSlice); err != nil {
		return err
	}
	collect := c.cfg.Collect
	_, err := c.works.AddEventHandler(handler(func(obj any) {
		if w, ok := reported(obj); ok {
			if key, ok := sliceOf(w); ok {
				c.enqueue(key)
			}
		}
		if !collect {
			return
		}
		keys, _ := mcsService(obj)
		for _, k := range keys {
			ns, name, _ := cache.SplitMetaNamespaceKey(k)
			c.enqueueService(ns, name)
		}
	}))
	return err
}

// handler calls f with the object of every add and delete, and with both
// objects of an update that changed something.
func handler(f func(obj any)) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: f,
		UpdateFunc: func(old, cur any) {
			if o, ok := old.(interface{ GetResourceVersion() string }); ok {
				if n, ok := cur.(interface{ GetResourceVersion() string }); ok && o.GetResourceVersion() == n.GetResourceVersion() {
					return
				}
			}
			f(old)
			f(cur)
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			f(obj)
		},
	}
}

// enqueue schedules slice key after the coalescing delay; changes that
// arrive meanwhile are folded into the same reconcile.
func (c *Controller) enqueue(key string) { c.queue.AddAfter(key, c.cfg.Coalesce) }

// enqueueService schedules every slice of Service namespace/name, and every
// slice a Work reported for it (its slice may be gone or relabelled).
func (c *Controller) enqueueService(namespace, name string) {
	key := namespace + "/" + name
	slices, _ := c.slices.GetIndexer().ByIndex(byService, key)
	for _, obj := range slices {
		if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
			c.enqueue(s.Namespace + "/" + s.Name)
		}
	}
	works, _ := c.works.GetIndexer().ByIndex(byReportedService, key)
	for _, obj := range works {
		if w, ok := obj.(*workv1alpha1.Work); ok {
			if k, ok := sliceOf(w); ok {
				c.enqueue(k)
			}
		}
	}
}

// enqueueAllReported schedules the slice of every reported Work.
func (c *Controller) enqueueAllReported() {
	for _, k := range c.works.GetIndexer().ListIndexFuncValues(byReportedSlice) {
		c.enqueue(k)
	}
}
