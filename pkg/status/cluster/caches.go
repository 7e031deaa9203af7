package cluster

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/tether-io/tether/pkg/status/capacity"
)

// memberCaches are cluster-wide Node and Pod informers on the member whose
// transforms keep only capacity.Node and capacity.Pod, so the agent holds a
// few hundred bytes per object instead of the whole object. No resync and
// no indexes beyond the key.
type memberCaches struct {
	nodes, pods cache.SharedIndexInformer
}

func newMemberCaches(member kubernetes.Interface) (*memberCaches, error) {
	c := &memberCaches{
		nodes: coreinformers.NewNodeInformer(member, 0, cache.Indexers{}),
		pods:  coreinformers.NewPodInformer(member, corev1.NamespaceAll, 0, cache.Indexers{}),
	}
	if err := c.nodes.SetTransform(slimNode); err != nil {
		return nil, err
	}
	if err := c.pods.SetTransform(slimPod); err != nil {
		return nil, err
	}
	return c, nil
}

// slimNode and slimPod are the transforms. The informer may hand them an
// object they already reduced (the watch-list path transforms twice), and
// tombstones, which pass through.
func slimNode(obj any) (any, error) {
	if n, ok := obj.(*corev1.Node); ok {
		return capacity.NodeOf(n), nil
	}
	return obj, nil
}

func slimPod(obj any) (any, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		return capacity.PodOf(p), nil
	}
	return obj, nil
}

// run runs both informers until ctx is done.
func (c *memberCaches) run(ctx context.Context) {
	go c.nodes.RunWithContext(ctx)
	go c.pods.RunWithContext(ctx)
}

// synced reports whether both caches hold a full list.
func (c *memberCaches) synced() bool { return c.nodes.HasSynced() && c.pods.HasSynced() }

// waitSynced waits up to timeout for both caches.
func (c *memberCaches) waitSynced(ctx context.Context, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return cache.WaitForCacheSync(ctx.Done(), c.nodes.HasSynced, c.pods.HasSynced)
}

// snapshot lists the cached nodes and pods.
func (c *memberCaches) snapshot() ([]*capacity.Node, []*capacity.Pod) {
	return listOf[*capacity.Node](c.nodes.GetStore()), listOf[*capacity.Pod](c.pods.GetStore())
}

func listOf[T any](store cache.Store) []T {
	items := store.List()
	out := make([]T, 0, len(items))
	for _, item := range items {
		if t, ok := item.(T); ok {
			out = append(out, t)
		}
	}
	return out
}
