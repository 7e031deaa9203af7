package execution

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/klog/v2"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/execution/queue"
	"github.com/tether-io/tether/pkg/manifest"
)

// The orphan scan. The applied set (member.Objects) lives in memory, and the Work status
// is written a moment after an apply, so an agent killed in between forgets
// an object it created; if that object's manifest is then removed while the
// agent is down, nothing would ever release it. At start, once the hub
// caches synced, the scan lists the member objects that carry
// karmada.io/managed and name a Work of this cluster, and hands each one
// that its Work no longer lists to that Work's garbage collection (through
// the applied set), which releases it under the usual rules.
//
// Objects whose Work does not exist on the hub at all are not deleted: the
// Work may have been removed with preserveResourcesOnDeletion, or its
// finalizer removed on purpose. They are logged and counted
// (tether_orphans_unclaimed), so that an operator decides.

// scanOrphans runs the scan once; errors of single resources are logged.
func (c *Controller) scanOrphans(ctx context.Context) {
	if c.cfg.MemberMetadata == nil {
		return
	}
	log := klog.FromContext(ctx)
	resources, err := listableResources(c.cfg.MemberDiscovery)
	if err != nil {
		log.Error(err, "Orphan scan: member discovery is incomplete; scanning what it returned")
	}
	ns := workv1alpha1.ExecutionNamespace(c.cfg.ClusterName)
	found, unclaimed := 0, 0
	for _, r := range resources {
		gvr := r.GroupVersionResource
		list, err := c.cfg.MemberMetadata.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: workv1alpha1.ManagedLabel + "=" + workv1alpha1.ManagedLabelValue})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.V(2).Info("Orphan scan: cannot list a resource", "resource", gvr.String(), "err", err.Error())
			continue
		}
		for i := range list.Items {
			item := &list.Items[i]
			w := manifest.WorkRef{Namespace: item.Annotations[workv1alpha1.WorkNamespaceAnnotation], Name: item.Annotations[workv1alpha1.WorkNameAnnotation]}
			if w.Namespace != ns || w.Name == "" {
				continue
			}
			id := c.scopeID(manifest.Identity{Group: gvr.Group, Version: gvr.Version, Kind: r.kind, Namespace: item.Namespace, Name: item.Name})
			switch claimed, exists := c.claimedBy(w, id); {
			case !exists:
				unclaimed++
				log.Info("Orphan scan: member object names a Work that does not exist; left alone", "object", id.String(), "work", w.Key())
			case !claimed:
				found++
				c.member.AddApplied(w.Key(), []manifest.Identity{id})
				c.queue.Add(w.Key(), queue.High)
			}
		}
	}
	c.metrics.setUnclaimed(unclaimed)
	if found+unclaimed > 0 {
		log.Info("Orphan scan done", "handedToGarbageCollection", found, "unclaimed", unclaimed)
	}
}

// claimedBy reports whether Work w exists (in the hub cache) and lists id.
func (c *Controller) claimedBy(w manifest.WorkRef, id manifest.Identity) (claimed, exists bool) {
	work, err := c.works.Get(w.Name)
	if apierrors.IsNotFound(err) {
		return false, false
	}
	if err != nil {
		return true, true // cannot tell: leave it
	}
	return c.claims(work, id), true
}

// resource is a listable member resource and its kind.
type resource struct {
	schema.GroupVersionResource
	kind string
}

// listableResources lists every member resource that supports list, in
// its preferred version.
func listableResources(disc discovery.DiscoveryInterface) ([]resource, error) {
	lists, err := disc.ServerPreferredResources()
	var out []resource
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range l.APIResources {
			if hasVerb(r.Verbs, "list") && !isSubresource(r.Name) {
				out = append(out, resource{GroupVersionResource: gv.WithResource(r.Name), kind: r.Kind})
			}
		}
	}
	if err != nil {
		return out, fmt.Errorf("discover member resources: %w", err)
	}
	return out, nil
}

func hasVerb(verbs metav1.Verbs, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

func isSubresource(name string) bool {
	for _, r := range name {
		if r == '/' {
			return true
		}
	}
	return false
}
