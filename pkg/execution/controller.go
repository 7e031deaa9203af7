package execution

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/deletion"
	"github.com/tether-io/tether/pkg/drift"
	"github.com/tether-io/tether/pkg/execution/queue"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned/scheme"
	informers "github.com/tether-io/tether/pkg/generated/informers/externalversions"
	clusterlisters "github.com/tether-io/tether/pkg/generated/listers/cluster/v1alpha1"
	policylisters "github.com/tether-io/tether/pkg/generated/listers/policy/v1alpha1"
	worklisters "github.com/tether-io/tether/pkg/generated/listers/work/v1alpha1"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/pkg/member"
	"github.com/tether-io/tether/pkg/override"
	"github.com/tether-io/tether/pkg/release"
	"github.com/tether-io/tether/pkg/status/interpret"
	statuswork "github.com/tether-io/tether/pkg/status/work"
)

// Config wires a Controller. Hub and member clients are built once by the
// caller and injected.
type Config struct {
	ClusterName     string
	Hub             versioned.Interface
	MemberDynamic   dynamic.Interface
	MemberDiscovery discovery.DiscoveryInterface
	// MemberMetadata, if set, serves the orphan scan at start (orphans.go)
	// and the check that a Namespace or CRD delete would not cascade into
	// objects the agent does not own (deletion.Blockers); without it neither runs.
	MemberMetadata metadata.Interface
	// Workers is the number of Works reconciled at once (default 16).
	Workers int
	// RenderMode decides when overrides are rendered at the edge (default Auto).
	RenderMode override.Mode
	// Guard, if set, configures the bulk-deletion guard (pkg/deletion): the
	// member deletes of Works found terminating in bulk on a list of the hub
	// after a start or a reconnect wait for a confirmation or the grace. The
	// controller fills in its Recorder and Release. Nil: no guard.
	Guard *deletion.Config
	// HubOutages counts the times the hub became unreachable
	// (hubconn.Gate.Outages): after one, the guard's Work informer relists
	// rather than resume its watch. Nil: only the failures its own requests
	// see count (deletion.ObserveLists).
	HubOutages func() uint64
	// StatusWindow coalesces Work status writes (default 200ms).
	StatusWindow time.Duration
	// StatusProgressInterval spaces writes of reflected counters alone
	// (see statuswork.Config.ProgressInterval; default 10s).
	StatusProgressInterval time.Duration
	// Reflect and Health interpret member objects for Work status
	// (default: pkg/status/interpret; pkg/interpreter runs customizations first).
	Reflect func(*unstructured.Unstructured) (*runtime.RawExtension, error)
	Health  func(*unstructured.Unstructured) (workv1alpha1.ResourceHealth, error)
	// Retain, if set, runs before each apply over an existing object
	// (apply.Config.Retain: a customization's retention rule).
	Retain apply.RetainFunc
	// DriftMode is the drift policy of manifests without the
	// tether.io/drift-mode annotation (apply.Config.DriftMode; default correct).
	DriftMode drift.Mode
	// Registerer receives the controller's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Events, if set, posts transition Events on Works (hub core/v1 client).
	Events kubernetes.Interface
	// Access is what the hub identity may do (hubaccess.Probe; the zero Set
	// holds everything). Without patch of Works the finalizer is written
	// with an Update, without patch of works/status the status is too, and
	// without list and watch of the override policies no policy informer
	// starts: with RenderMode Auto edge rendering is then off (a Karmada
	// control plane renders overrides itself), with Always the manifests
	// that would be rendered fail.
	Access hubaccess.Set
}

// Controller syncs one member cluster's Works.
type Controller struct {
	cfg      Config
	applier  *apply.Applier
	releaser *release.Releaser
	guard    *deletion.Guard // nil without Config.Guard
	kinds    *member.Kinds
	member   *member.Objects // member objects: informers, Live, owned fields, applied set
	writer   *statuswork.Writer
	queue    *queue.Queue
	metrics  *metrics

	hubFactory     informers.SharedInformerFactory
	clusterFactory informers.SharedInformerFactory
	policyFactory  informers.SharedInformerFactory
	works          worklisters.WorkNamespaceLister
	worksSynced    cache.InformerSynced
	clusters       clusterlisters.ClusterLister
	cops           policylisters.ClusterOverridePolicyLister
	ops            policylisters.OverridePolicyLister
	synced         []cache.InformerSynced

	events   record.EventBroadcaster
	recorder record.EventRecorder // nil without Config.Events
	progress progress             // whether the workers move (Stalled)
}

// New builds a Controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	if cfg.ClusterName == "" || cfg.Hub == nil || cfg.MemberDynamic == nil || cfg.MemberDiscovery == nil {
		return nil, fmt.Errorf("sync: ClusterName, Hub, MemberDynamic and MemberDiscovery are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.RenderMode == "" {
		cfg.RenderMode = override.ModeAuto
	}
	defaultInterpreters := cfg.Reflect == nil && cfg.Health == nil
	if cfg.Reflect == nil {
		cfg.Reflect = interpret.ReflectStatus
	}
	if cfg.Health == nil {
		cfg.Health = func(obj *unstructured.Unstructured) (workv1alpha1.ResourceHealth, error) {
			return interpret.Health(obj), nil
		}
	}
	c := &Controller{cfg: cfg}
	c.metrics = newMetrics(cfg.Registerer)
	c.kinds = member.NewKinds(restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cfg.MemberDiscovery)))
	mc := member.Config{Client: cfg.MemberDynamic, Kinds: c.kinds, FieldManager: apply.DefaultFieldManager,
		OnEvent: c.onMemberEvent, KeepManagedFields: apply.IsLegacyEntry}
	if defaultInterpreters {
		mc.Slim = interpret.Slim
	}
	c.member = member.New(mc)
	c.applier = apply.New(apply.Config{Client: cfg.MemberDynamic, Kinds: c.kinds, Types: apply.NewTypeCache(cfg.MemberDiscovery),
		Cache: c.member, Retain: cfg.Retain, DriftMode: cfg.DriftMode})
	c.releaser = release.New(release.Config{Applier: c.applier, Client: cfg.MemberDynamic, Cache: c.member, Blockers: cascadeCheck(cfg)})
	var qm *queue.Metrics
	if cfg.Registerer != nil {
		qm = queue.NewMetrics(cfg.Registerer, "work")
	}
	c.queue = queue.New(workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 5*time.Minute), qm)
	if cfg.Events != nil {
		c.events = record.NewBroadcaster()
		c.events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cfg.Events.CoreV1().Events("")})
		c.recorder = c.events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "tether-agent", Host: cfg.ClusterName})
	}
	if cfg.Guard != nil {
		gc := *cfg.Guard
		gc.ClusterName, gc.Recorder, gc.Registerer = cfg.ClusterName, c.recorder, cfg.Registerer
		gc.Release = c.requeue
		c.guard = deletion.New(gc)
	}
	c.setupInformers()
	c.writer = statuswork.New(statuswork.Config{
		Client: cfg.Hub.WorkV1alpha1(), Lister: c.hubFactory.Work().V1alpha1().Works().Lister(),
		Live: c.member, Reflect: cfg.Reflect, Health: cfg.Health,
		Window: cfg.StatusWindow, ProgressInterval: cfg.StatusProgressInterval, Observe: c.metrics.observeStatus, Recorder: c.recorder,
		OnDriftEpisode: c.metrics.drift.observe,
		UpdateStatus:   !cfg.Access.Has(hubaccess.WorkStatusPatch) && cfg.Access.Has(hubaccess.WorkStatusUpdate),
	})
	c.registerEngineMetrics(cfg.Registerer)
	return c, nil
}

func (c *Controller) setupInformers() {
	ns := workv1alpha1.ExecutionNamespace(c.cfg.ClusterName)
	c.hubFactory = informers.NewSharedInformerFactoryWithOptions(c.cfg.Hub, 0, informers.WithNamespace(ns),
		informers.WithTransform(dropManagedFields))
	if c.guard != nil { // the guard sees every list of the Works, not only the events
		c.hubFactory.InformerFor(&workv1alpha1.Work{}, func(client versioned.Interface, resync time.Duration) cache.SharedIndexInformer {
			return deletion.NewWorkInformer(client, ns, resync, c.guard, c.cfg.HubOutages)
		})
	}
	workInf := c.hubFactory.Work().V1alpha1().Works()
	c.works = workInf.Lister().Works(ns)
	c.worksSynced = workInf.Informer().HasSynced
	_, _ = workInf.Informer().AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    c.onWorkAdd,
		UpdateFunc: c.onWorkUpdate,
		DeleteFunc: c.onWorkDelete,
	})
	c.clusterFactory = informers.NewSharedInformerFactoryWithOptions(c.cfg.Hub, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "metadata.name=" + c.cfg.ClusterName }),
		informers.WithTransform(dropManagedFields))
	clusterInf := c.clusterFactory.Cluster().V1alpha1().Clusters()
	c.clusters = clusterInf.Lister()
	_, _ = clusterInf.Informer().AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			c.observeCluster(obj)
			c.renderInputsChanged(initial)
		},
		UpdateFunc: func(old, obj any) {
			c.observeCluster(obj)
			c.onClusterUpdate(old.(*clusterv1alpha1.Cluster), obj.(*clusterv1alpha1.Cluster))
		},
	})
	c.synced = []cache.InformerSynced{c.worksSynced, clusterInf.Informer().HasSynced}
	if c.cfg.RenderMode == override.ModeNever || !c.cfg.Access.CanReadPolicies() {
		return // nothing waits for policy caches that would never fill
	}
	c.policyFactory = informers.NewSharedInformerFactoryWithOptions(c.cfg.Hub, 0, informers.WithTransform(dropManagedFields))
	copInf := c.policyFactory.Policy().V1alpha1().ClusterOverridePolicies()
	opInf := c.policyFactory.Policy().V1alpha1().OverridePolicies()
	c.cops, c.ops = copInf.Lister(), opInf.Lister()
	policyHandler := cache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    func(_ any, initial bool) { c.renderInputsChanged(initial) },
		UpdateFunc: func(any, any) { c.renderInputsChanged(false) },
		DeleteFunc: func(any) { c.renderInputsChanged(false) },
	}
	_, _ = copInf.Informer().AddEventHandler(policyHandler)
	_, _ = opInf.Informer().AddEventHandler(policyHandler)
	c.synced = append(c.synced, copInf.Informer().HasSynced, opInf.Informer().HasSynced)
}

// Run starts the informers and workers and blocks until ctx ends. When ctx
// ends, reconciles in flight are cancelled and the queue is not drained; Run
// returns once every worker has stopped.
func (c *Controller) Run(ctx context.Context) error {
	log := klog.FromContext(ctx).WithValues("cluster", c.cfg.ClusterName)
	ctx = klog.NewContext(ctx, log)
	defer c.member.Stop()
	c.hubFactory.Start(ctx.Done())
	c.clusterFactory.Start(ctx.Done())
	if c.policyFactory != nil {
		c.policyFactory.Start(ctx.Done())
	}
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return fmt.Errorf("sync: hub caches of cluster %s did not sync", c.cfg.ClusterName)
	}
	log.Info("Work sync started", "namespace", workv1alpha1.ExecutionNamespace(c.cfg.ClusterName), "workers", c.cfg.Workers)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.scanOrphans(ctx) }()
	if c.guard != nil {
		wg.Add(1)
		go func() { defer wg.Done(); c.guard.Run(ctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); c.writer.Run(ctx, 4) }()
	for range c.cfg.Workers {
		wg.Add(1)
		go func() { defer wg.Done(); c.worker(ctx) }()
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	c.hubFactory.Shutdown()
	if c.events != nil {
		c.events.Shutdown()
	}
	return nil
}

// DeletionGuard returns the bulk-deletion guard, nil without Config.Guard.
func (c *Controller) DeletionGuard() *deletion.Guard { return c.guard }

// Stats returns the apply engine's request counters.
func (c *Controller) Stats() apply.Stats { return c.applier.Stats() }

// Synced reports whether the hub caches have synced.
func (c *Controller) Synced() bool {
	for _, s := range c.synced {
		if !s() {
			return false
		}
	}
	return true
}

// Idle reports whether no Work is queued or being reconciled and no status
// write is pending.
func (c *Controller) Idle() bool { return !c.queue.Busy() && c.writer.Idle() }

func (c *Controller) worker(ctx context.Context) {
	for {
		key, shutdown := c.queue.Get()
		if shutdown {
			return
		}
		if ctx.Err() != nil { // shutting down: drain the queue without reconciling
			c.queue.Done(key)
			continue
		}
		start := time.Now()
		c.progress.begin(start)
		// A reconcile ends with the controller: on shutdown or a lost
		// leadership nothing new is written for it (the agent's write gate
		// refuses what is left).
		rctx, cancel := context.WithTimeout(ctx, reconcileTimeout)
		err := c.reconcile(rctx, key)
		cancel()
		c.progress.end(time.Now())
		c.metrics.observeApply(time.Since(start))
		switch {
		case err == nil:
			c.queue.Forget(key)
		case ctx.Err() == nil:
			klog.FromContext(ctx).V(2).Info("Work will be retried", "work", key, "err", err.Error())
			c.metrics.failed()
			c.queue.AddRateLimited(key)
		}
		c.queue.Done(key)
	}
}

// cascadeCheck is the releaser's cascade check, when the member's metadata can be listed.
func cascadeCheck(cfg Config) release.BlockersFunc {
	if cfg.MemberMetadata == nil {
		return nil
	}
	return deletion.CascadeCheck(cfg.MemberMetadata, cfg.MemberDiscovery)
}
