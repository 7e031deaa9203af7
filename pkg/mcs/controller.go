package mcs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/wait"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	workinformers "github.com/tether-io/tether/pkg/generated/informers/externalversions/work/v1alpha1"
)

// Config builds a Controller.
type Config struct {
	ClusterName string
	// Hub writes the reported Works; Member, Exports and CRDs read the member.
	Hub     versioned.Interface
	Member  kubernetes.Interface
	Exports mcsclient.Interface
	CRDs    apiextensionsclient.Interface
	// ServiceExport and Collect enable the two sources (--controllers
	// serviceExport and endpointsliceCollect).
	ServiceExport, Collect bool
	// ControlPlane says the hub is a Karmada control plane, whose
	// controllers remove the finalizers of the reported Works. Without it
	// the agent adds none (nothing would remove them).
	ControlPlane bool
	// Coalesce is how long a change waits for the next one to the same
	// slice before the slice is reconciled (default 100ms).
	Coalesce time.Duration
	// Workers reconcile in parallel (default 2).
	Workers int
	// Works is the informer of every Work in the execution namespace that
	// another controller of the process runs (the Work controller's), shared
	// instead of watching the namespace again. Nil: the controller runs its own.
	Works cache.SharedIndexInformer
}

// Controller reports the member's exported EndpointSlices as Works.
type Controller struct {
	cfg    Config
	ns     string
	queue  workqueue.TypedRateLimitingInterface[string]
	slices cache.SharedIndexInformer // member EndpointSlices that name a Service
	// works are the hub Works of the execution namespace: the reported ones
	// (labelled managed-by) and, for Collect, those that carry a
	// MultiClusterService; the indexes and handlers look only at those.
	works    cache.SharedIndexInformer
	ownWorks bool     // works is this controller's own, which Run runs
	exports  *exports // ServiceExport only
	foreign  sync.Map // Work names held by Works that are not reported ones (logged once)
}

// New builds the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if !cfg.ServiceExport && !cfg.Collect {
		return nil, errors.New("mcs: neither serviceExport nor endpointsliceCollect is enabled")
	}
	if cfg.Coalesce <= 0 {
		cfg.Coalesce = 100 * time.Millisecond
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	c := &Controller{cfg: cfg, ns: workv1alpha1.ExecutionNamespace(cfg.ClusterName),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "mcs"})}
	named, _ := labels.NewRequirement(discoveryv1.LabelServiceName, selection.Exists, nil)
	c.slices = discoveryinformers.NewFilteredEndpointSliceInformer(cfg.Member, metav1.NamespaceAll, 0,
		cache.Indexers{byService: sliceService}, func(o *metav1.ListOptions) { o.LabelSelector = named.String() })
	c.works = cfg.Works
	if c.works == nil {
		c.works, c.ownWorks = workinformers.NewWorkInformer(cfg.Hub, c.ns, 0, cache.Indexers{}), true
	}
	idx := cache.Indexers{byReportedService: reportedServices, byReportedSlice: reportedSlice}
	if cfg.Collect {
		idx[byMCSService] = mcsService
	}
	if err := c.works.AddIndexers(idx); err != nil {
		return nil, fmt.Errorf("index the Works of %s: %w", c.ns, err)
	}
	if err := c.addHandlers(); err != nil {
		return nil, err
	}
	if cfg.ServiceExport {
		var err error
		if c.exports, err = newExports(cfg.Exports, cfg.CRDs, c.enqueueService, c.enqueueAllReported); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Run syncs the caches, then reconciles until ctx ends. No slice is
// reconciled before every cache says what exists, so a Work is never
// removed for an export that is merely not yet seen.
func (c *Controller) Run(ctx context.Context) error {
	log := klog.FromContext(ctx).WithName("mcs")
	ctx = klog.NewContext(ctx, log)
	defer c.queue.ShutDown()
	go c.slices.RunWithContext(ctx)
	if c.ownWorks {
		go c.works.RunWithContext(ctx)
	}
	synced := []cache.InformerSynced{c.slices.HasSynced, c.works.HasSynced}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return nil
	}
	if c.exports != nil {
		if err := c.exports.start(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("follow the member's ServiceExports: %w", err)
		}
		go c.exports.run(ctx)
	}
	log.Info("Reporting exported EndpointSlices", "serviceExport", c.cfg.ServiceExport, "endpointsliceCollect", c.cfg.Collect,
		"controlPlaneFinalizers", c.cfg.ControlPlane)
	for range c.cfg.Workers {
		go wait.UntilWithContext(ctx, c.work, time.Second)
	}
	<-ctx.Done()
	return nil
}

func (c *Controller) work(ctx context.Context) {
	for c.next(ctx) {
	}
}

func (c *Controller) next(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	err := c.reconcile(ctx, key)
	switch {
	case err == nil:
		c.queue.Forget(key)
	case ctx.Err() != nil:
	default:
		klog.FromContext(ctx).V(2).Info("Reporting an EndpointSlice failed; retrying", "slice", key, "err", err)
		c.queue.AddRateLimited(key)
	}
	return true
}
