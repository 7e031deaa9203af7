package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	statuswork "github.com/tether-io/tether/pkg/status/work"
	"github.com/tether-io/tether/pkg/sync/apply"
	"github.com/tether-io/tether/pkg/sync/queue"
)

// EventDeletionFenced is the reason of the Warning posted on a Work whose
// member deletes the deletion fence holds back.
const EventDeletionFenced = "DeletionFenced"

// warnIfFenced posts a Warning on the Work when err says the deletion fence
// held some of its deletes back. The message is the same on every retry, so
// the Event is counted up rather than repeated.
func (c *Controller) warnIfFenced(work *workv1alpha1.Work, err error) {
	if c.recorder == nil || !errors.Is(err, errFenced) {
		return
	}
	c.recorder.Eventf(work, corev1.EventTypeWarning, EventDeletionFenced,
		"The deletion fence holds back member deletes: at most %g per second (--member-delete-rate); this Work's remaining deletes wait for the cap",
		float64(c.cfg.DeleteRate))
}

// errFenced is returned when the deletion fence holds deletes back; the Work
// is retried later.
var errFenced = errors.New("deletion fence: too many member deletes in the current window; holding the rest back")

// finalize handles a Work observed terminating: it deletes its member
// objects (or, with preserveResourcesOnDeletion, strips Karmada's metadata
// from them), then removes the finalizer. Objects already gone, kinds no
// longer served, and objects that belong to another Work or are not managed
// are skipped, so deletion never wedges and never touches what is not ours.
func (c *Controller) finalize(ctx context.Context, work *workv1alpha1.Work) error {
	hasFinalizer := false
	var rest []string
	for _, f := range work.Finalizers {
		if f == workv1alpha1.ExecutionControllerFinalizer {
			hasFinalizer = true
		} else {
			rest = append(rest, f)
		}
	}
	if !hasFinalizer {
		return nil
	}
	preserve := work.Spec.PreserveResourcesOnDeletion != nil && *work.Spec.PreserveResourcesOnDeletion
	var fromManifests []objectRef
	for _, m := range decodeManifests(work) {
		if m.err == nil {
			fromManifests = append(fromManifests, refOf(m.obj))
		}
	}
	key := work.Namespace + "/" + work.Name
	refs := releaseCandidates(nil, fromManifests, refsFromStatus(work), c.appliedRefs(key))
	var errs []error
	for _, r := range refs {
		if err := c.release(ctx, work, r, preserve); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.forgetApplied(key)
	c.writer.Forget(key)
	return c.patchFinalizers(ctx, work, rest)
}

// collectGarbage deletes the member objects of manifests removed from the
// Work: objects the Work's status or this process's record (record.go) list
// as applied whose identity is no longer among the manifests.
func (c *Controller) collectGarbage(ctx context.Context, work *workv1alpha1.Work, manifests []decoded) error {
	current := map[objectRef]bool{}
	for _, m := range manifests {
		if m.obj != nil {
			current[refOf(m.obj).id()] = true
		} else {
			return nil // a manifest that cannot be read might be one of them: collect nothing
		}
	}
	key := work.Namespace + "/" + work.Name
	var errs []error
	released := map[objectRef]bool{}
	for _, r := range releaseCandidates(current, refsFromStatus(work), c.appliedRefs(key)) {
		if err := c.release(ctx, work, r, false); err != nil {
			errs = append(errs, err)
			continue
		}
		released[r.id()] = true
	}
	c.forgetReleased(key, released)
	return errors.Join(errs...)
}

// release deletes (or, preserving, strips) the member object r if it is
// managed and belongs to work.
func (c *Controller) release(ctx context.Context, work *workv1alpha1.Work, r objectRef, preserve bool) error {
	gvr, namespaced, err := c.resourceOf(r)
	if meta.IsNoMatchError(err) {
		return nil // the kind is not served any more, so no such object exists
	}
	if err != nil {
		return err
	}
	ns := r.Namespace
	if namespaced && ns == "" {
		ns = metav1.NamespaceDefault
	}
	if !namespaced {
		ns = ""
	}
	live, err := c.getLive(ctx, gvr, ns, r.Name)
	if err != nil || live == nil || !ownedBy(live, work) {
		return err
	}
	log := klog.FromContext(ctx)
	if preserve {
		e := c.applier.StripMetadata(ctx, gvr, live, workv1alpha1.PreserveStrippedLabels, workv1alpha1.PreserveStrippedAnnotations)
		if e.Err == nil {
			log.V(2).Info("Preserved member object; stripped Karmada metadata", "object", e.Subject)
		}
		return e.Err
	}
	if !c.deletes.Allow() {
		c.metrics.fenceHeld()
		log.V(2).Info("The deletion fence holds a delete back", "object", r.String(), "limit", c.cfg.DeleteRate)
		c.queue.AddAfter(work.Namespace+"/"+work.Name, queue.High, time.Second)
		return errFenced
	}
	e := c.applier.Delete(ctx, gvr, live)
	if e.Err == nil && e.Action == apply.Deleted {
		log.V(2).Info("Deleted member object", "object", e.Subject)
	}
	return e.Err
}

func (c *Controller) resourceOf(r objectRef) (schema.GroupVersionResource, bool, error) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(r.gvk())
	obj.SetName(r.Name)
	m, err := c.applier.Mapping(obj)
	if err != nil {
		var nm *meta.NoKindMatchError
		if errors.As(err, &nm) {
			return schema.GroupVersionResource{}, false, err
		}
		return schema.GroupVersionResource{}, false, fmt.Errorf("map %s: %w", r, err)
	}
	return m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// getLive reads an object from the member cache, or from the member when
// the cache cannot tell; nil when it does not exist.
func (c *Controller) getLive(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, error) {
	if obj, found, known := c.member.Lookup(gvr, ns, name); known {
		if found {
			return obj, nil
		}
		// The cache sees managed objects only; an unmanaged one is not ours anyway.
		return nil, nil
	}
	ri := c.cfg.MemberDynamic.Resource(gvr)
	var obj *unstructured.Unstructured
	var err error
	if ns != "" {
		obj, err = ri.Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	} else {
		obj, err = ri.Get(ctx, name, metav1.GetOptions{})
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

// cachedLive serves the apply engine from the member cache.
func (c *Controller) cachedLive(gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, bool) {
	obj, found, _ := c.member.Lookup(gvr, ns, name)
	return obj, found
}

// liveForStatus finds a manifest's member object for the status writer.
func (c *Controller) liveForStatus(manifest *unstructured.Unstructured) (*unstructured.Unstructured, statuswork.LiveState) {
	m, err := c.applier.Mapping(manifest)
	if err != nil {
		return nil, statuswork.LiveUnknown
	}
	ns := manifest.GetNamespace()
	if m.Scope.Name() == meta.RESTScopeNameNamespace && ns == "" {
		ns = metav1.NamespaceDefault
	} else if m.Scope.Name() != meta.RESTScopeNameNamespace {
		ns = ""
	}
	c.member.Ensure(m.Resource)
	obj, found, known := c.member.Lookup(m.Resource, ns, manifest.GetName())
	switch {
	case !known:
		return nil, statuswork.LivePending
	case !found:
		if fresh, ok := c.freshLive(m.Resource, ns, manifest.GetName()); ok {
			return fresh, statuswork.LivePresent
		}
		return nil, statuswork.LiveAbsent
	}
	return obj, statuswork.LivePresent
}
