package mcs

import (
	"context"
	"errors"
	"fmt"

	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// reconcile brings the Work of EndpointSlice key (namespace/name) in line
// with the caches. It returns an error only for what a retry may fix.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	workName := sliceWorkName(ns, name)
	existing, err := c.existing(ctx, workName, key)
	if err != nil {
		return nil
	}
	want := c.want(key)
	p, err := plan(c.ns, want, existing)
	if err != nil {
		return err
	}
	log := klog.FromContext(ctx).WithValues("slice", key, "work", c.ns+"/"+workName)
	return c.execute(klog.NewContext(ctx, log), p, existing, workName)
}

// existing is the reported Work of the slice from the cache, nil if there
// is none. A Work of that name that is not a reported one, or whose
// manifest is another object, is not the agent's to touch: errForeign.
func (c *Controller) existing(ctx context.Context, workName, key string) (*workv1alpha1.Work, error) {
	obj, ok, err := c.works.GetStore().GetByKey(c.ns + "/" + workName)
	if err != nil || !ok {
		return nil, err
	}
	w, ok := reported(obj)
	if !ok {
		c.logForeign(ctx, workName)
		return nil, errForeign
	}
	if k, ok := sliceOf(w); !ok || k != key {
		return nil, errForeign
	}
	return w, nil
}

var errForeign = errors.New("the Work is not a reported EndpointSlice")

// want is what should be reported for the slice.
func (c *Controller) want(key string) Want {
	w := Want{ControlPlane: c.cfg.ControlPlane, Managed: c.managed()}
	obj, ok, _ := c.slices.GetStore().GetByKey(key)
	if !ok {
		return w
	}
	slice := obj.(*discoveryv1.EndpointSlice)
	svc := slice.Labels[discoveryv1.LabelServiceName]
	if svc == "" || managedByKarmada(slice) {
		return w
	}
	w.Slice = slice
	if c.exports != nil && c.exports.has(slice.Namespace, svc) {
		w.Sources = append(w.Sources, FromServiceExport)
	}
	if c.cfg.Collect {
		if objs, _ := c.works.GetIndexer().ByIndex(byMCSService, slice.Namespace+"/"+svc); len(objs) > 0 {
			w.Sources = append(w.Sources, FromMCS)
		}
	}
	return w
}

// managed are the sources this agent runs; it leaves the others' labels
// and finalizers alone.
func (c *Controller) managed() []Source {
	var out []Source
	if c.cfg.ServiceExport {
		out = append(out, FromServiceExport)
	}
	if c.cfg.Collect {
		out = append(out, FromMCS)
	}
	return out
}

// execute makes the planned write. A conflict or a cache that lags is
// retried (the cache has caught up by then).
func (c *Controller) execute(ctx context.Context, p Plan, existing *workv1alpha1.Work, workName string) error {
	log := klog.FromContext(ctx)
	works := c.cfg.Hub.WorkV1alpha1().Works(c.ns)
	var err error
	switch p.Action {
	case Keep:
		return nil
	case Create:
		_, err = works.Create(ctx, p.Work, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return c.taken(ctx, workName)
		}
	case Update:
		_, err = works.Update(ctx, p.Work, metav1.UpdateOptions{})
	case Delete:
		err = works.Delete(ctx, workName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &existing.UID}})
		if apierrors.IsNotFound(err) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("%s Work %s/%s: %w", p.Action, c.ns, workName, err)
	}
	log.V(2).Info("Reported EndpointSlice", "action", p.Action.String())
	return nil
}

// taken handles a Create refused because the name exists: a reported Work
// the cache has not seen yet is retried; any other Work is left alone and
// named once in the log.
func (c *Controller) taken(ctx context.Context, workName string) error {
	w, err := c.cfg.Hub.WorkV1alpha1().Works(c.ns).Get(ctx, workName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read Work %s/%s: %w", c.ns, workName, err)
	}
	if w.Labels[ManagedByLabel] != "" {
		return fmt.Errorf("Work %s/%s exists and is not cached yet", c.ns, workName)
	}
	c.logForeign(ctx, workName)
	return nil
}

// logForeign names, once, a Work that holds the name of a slice's Work
// without being a reported one.
func (c *Controller) logForeign(ctx context.Context, workName string) {
	if _, logged := c.foreign.LoadOrStore(workName, true); !logged {
		klog.FromContext(ctx).Error(nil, "A Work that is not a reported EndpointSlice holds the name of the slice's Work; the slice is not reported",
			"work", c.ns+"/"+workName)
	}
}

// String names the action in logs.
func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return "keep"
}
