package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	clusterinformers "github.com/tether-io/tether/pkg/generated/informers/externalversions/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/status/capacity"
)

// Status controller defaults: karmada-agent's --cluster-status-update-frequency,
// --cluster-success-threshold and --cluster-failure-threshold, and
// --cluster-cache-sync-timeout. The agent's flags default to these.
const (
	DefaultStatusInterval   = 10 * time.Second
	DefaultReadyThreshold   = 30 * time.Second
	DefaultProbeTimeout     = 10 * time.Second
	DefaultCacheSyncTimeout = 2 * time.Minute
)

// StatusConfig is what a StatusController needs.
type StatusConfig struct {
	// ClusterName is the agent's Cluster on the hub.
	ClusterName string
	// Hub reads (watches) that Cluster and patches its status, as the
	// agent's identity.
	Hub karmadaclient.Interface
	// Member is probed, discovered and cached (Nodes and Pods).
	Member kubernetes.Interface
	// Clock drives the interval and the Ready hysteresis (default real).
	Clock clock.WithTicker
	// Interval between two status collections (default 10s).
	Interval time.Duration
	// SuccessThreshold and FailureThreshold hold Ready against a flapping
	// probe (default 30s each).
	SuccessThreshold, FailureThreshold time.Duration
	// ProbeTimeout bounds each /readyz request (default 10s).
	ProbeTimeout time.Duration
	// CacheSyncTimeout is how long a collection waits for the Node and Pod
	// caches to fill before it reports without resourceSummary (default 30s).
	CacheSyncTimeout time.Duration
	// ExtraConditions, if set, supplies conditions that other parts of the
	// agent own (such as the deletion guard's DeletesHeld); each collection
	// merges them into the status by type, whatever the member's health.
	// They cannot replace Ready or CompleteAPIEnablements.
	ExtraConditions func() []metav1.Condition
	// Kick, if set, starts a collection at once whenever it receives, so
	// that a change of an extra condition is written without waiting for
	// the interval.
	Kick <-chan struct{}
	// Cluster, if set, is an informer of the agent's Cluster (selected by
	// name) that another controller runs; the StatusController shares it
	// instead of watching the Cluster a second time. nil: it runs its own.
	Cluster cache.SharedIndexInformer
	// UpdateStatus writes the status with an Update of clusters/status
	// (read again on a conflict) instead of a merge patch, for an identity
	// that may not patch it, as a Karmada control plane grants its agents.
	UpdateStatus bool
}

func (c StatusConfig) withDefaults() (StatusConfig, error) {
	if c.ClusterName == "" || c.Hub == nil || c.Member == nil {
		return c, fmt.Errorf("cluster status: ClusterName, Hub and Member are required")
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	for _, d := range []struct {
		field *time.Duration
		def   time.Duration
	}{
		{&c.Interval, DefaultStatusInterval},
		{&c.SuccessThreshold, DefaultReadyThreshold},
		{&c.FailureThreshold, DefaultReadyThreshold},
		{&c.ProbeTimeout, DefaultProbeTimeout},
		{&c.CacheSyncTimeout, DefaultCacheSyncTimeout},
	} {
		if *d.field == 0 {
			*d.field = d.def
		}
		if *d.field < 0 {
			return c, fmt.Errorf("cluster status: durations must not be negative")
		}
	}
	return c, nil
}

// StatusController reports the member's state in its Cluster's status on
// the hub: the Ready condition (with hysteresis), kubernetesVersion,
// apiEnablements with CompleteAPIEnablements, nodeSummary and
// resourceSummary. Each collection is a pipeline that stops early: the
// health probe runs first, and when Ready is not True only the Ready
// condition is reported. The status is merge-patched (or updated, see
// StatusConfig.UpdateStatus) only when it changed, so an idle member costs
// the hub no request at all beyond the watch of the Cluster.
type StatusController struct {
	cfg     StatusConfig
	cluster cache.SharedIndexInformer
	// ownInformer: cluster is this controller's own, which Run runs.
	ownInformer bool
	caches      *memberCaches
	apis        *apiCollector
	hysteresis  *readyHysteresis
	kick        chan struct{}

	// written is the Cluster the last status patch returned, and
	// writtenFrom the resourceVersion it was computed from: until the watch
	// delivers the write, the next collection starts from written instead
	// of the stale cache (which would only conflict).
	written     *clusterv1alpha1.Cluster
	writtenFrom string
}

// NewStatusController builds a StatusController.
func NewStatusController(cfg StatusConfig) (*StatusController, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	caches, err := newMemberCaches(cfg.Member)
	if err != nil {
		return nil, err
	}
	c := &StatusController{
		cfg:        cfg,
		cluster:    cfg.Cluster,
		caches:     caches,
		apis:       newAPICollector(cfg.Member),
		hysteresis: &readyHysteresis{clock: cfg.Clock, success: cfg.SuccessThreshold, failure: cfg.FailureThreshold},
		kick:       make(chan struct{}, 1),
	}
	if c.cluster == nil {
		c.ownInformer = true
		c.cluster = clusterinformers.NewFilteredClusterInformer(cfg.Hub, 0, cache.Indexers{}, func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", cfg.ClusterName).String()
		})
	}
	// A new Cluster or a spec change (resourceModels) is reported at once.
	_, err = c.cluster.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { c.trigger() },
		UpdateFunc: func(old, cur any) {
			if o, n := old.(*clusterv1alpha1.Cluster), cur.(*clusterv1alpha1.Cluster); o.Generation != n.Generation {
				c.trigger()
			}
		},
	})
	return c, err
}

func (c *StatusController) trigger() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// conflictRetry is how soon a status write that lost a race is tried again.
const conflictRetry = 500 * time.Millisecond

// Run reports the status every interval, and at once when the Cluster
// appears or its spec changes or Kick receives, until ctx is done. It does not wait for the
// Karmada cluster controller's finalizer: a hub without Karmada's controller
// never adds one, and the status is true either way. It stops reporting
// while the Cluster is being deleted and while it does not exist.
func (c *StatusController) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx).WithName("cluster-status").WithValues("cluster", c.cfg.ClusterName)
	ctx = klog.NewContext(ctx, logger)
	if c.ownInformer {
		go c.cluster.RunWithContext(ctx)
	}
	c.caches.run(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), c.cluster.HasSynced) {
		return ctx.Err()
	}
	ticker := c.cfg.Clock.NewTicker(c.cfg.Interval)
	defer ticker.Stop()
	select { // the first collection covers the informer's initial add
	case <-c.kick:
	default:
	}
	for {
		var retry <-chan time.Time
		if err := c.sync(ctx); apierrors.IsConflict(err) {
			// Someone else wrote the Cluster meanwhile (its cache is behind):
			// read it again shortly rather than a whole interval later.
			logger.V(2).Info("The Cluster changed while its status was written; retrying", "err", err.Error())
			retry = c.cfg.Clock.After(conflictRetry)
		} else if err != nil {
			logger.Error(err, "Reporting the cluster status failed; retrying at the next interval")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C():
		case <-c.kick:
		case <-c.cfg.Kick:
		case <-retry:
		}
	}
}

// sync runs one collection: probe, hysteresis, then (when Ready) version,
// APIs and capacity, then a patch if anything changed.
func (c *StatusController) sync(ctx context.Context) error {
	cluster := c.current()
	if cluster == nil || cluster.DeletionTimestamp != nil {
		return nil
	}
	status := cluster.Status.DeepCopy()
	observed := probeReady(ctx, c.cfg.Member.Discovery().RESTClient(), c.cfg.ProbeTimeout)
	current := meta.FindStatusCondition(cluster.Status.Conditions, clusterv1alpha1.ClusterConditionReady)
	ready := c.hysteresis.adjust(observed, current)
	if current == nil || current.Status != ready.Status {
		klog.FromContext(ctx).Info("Cluster readiness changed", "ready", ready.Status, "reason", ready.Reason)
	}
	c.setCondition(status, ready)
	c.setExtraConditions(status)
	var collectErr error
	if observed.Status == metav1.ConditionTrue && ready.Status == metav1.ConditionTrue {
		collectErr = c.collect(ctx, cluster, status)
	}
	return errors.Join(collectErr, c.patchStatus(ctx, cluster, status))
}

// collect fills the fields a Ready member reports. A step that fails leaves
// its fields as they were and does not stop the others.
func (c *StatusController) collect(ctx context.Context, cluster *clusterv1alpha1.Cluster, status *clusterv1alpha1.ClusterStatus) error {
	var errs []error
	if v, err := c.cfg.Member.Discovery().ServerVersion(); err != nil {
		errs = append(errs, fmt.Errorf("read the member's version: %w", err))
	} else {
		status.KubernetesVersion = v.GitVersion
	}
	if apis, err := c.apis.collect(ctx); err != nil {
		errs = append(errs, fmt.Errorf("read the member's APIs: %w", err))
	} else {
		status.APIEnablements = apis.enablements
		c.setCondition(status, apis.condition)
	}
	if c.caches.synced() || c.caches.waitSynced(ctx, c.cfg.CacheSyncTimeout) {
		nodes, pods := c.caches.snapshot()
		status.NodeSummary, status.ResourceSummary = capacity.Summarize(nodes, pods, cluster.Spec.ResourceModels)
	} else {
		errs = append(errs, fmt.Errorf("the member's node and pod caches did not sync within %s", c.cfg.CacheSyncTimeout))
	}
	return errors.Join(errs...)
}

// setCondition sets cond, stamping a transition with the controller's clock.
func (c *StatusController) setCondition(status *clusterv1alpha1.ClusterStatus, cond metav1.Condition) {
	if cond.LastTransitionTime.IsZero() {
		cond.LastTransitionTime = metav1.NewTime(c.cfg.Clock.Now())
	}
	meta.SetStatusCondition(&status.Conditions, cond)
}

// setExtraConditions merges the conditions of ExtraConditions, except those
// of the types this controller owns.
func (c *StatusController) setExtraConditions(status *clusterv1alpha1.ClusterStatus) {
	if c.cfg.ExtraConditions == nil {
		return
	}
	for _, cond := range c.cfg.ExtraConditions() {
		if cond.Type == clusterv1alpha1.ClusterConditionReady || cond.Type == clusterv1alpha1.ClusterConditionCompleteAPIEnablements {
			continue
		}
		c.setCondition(status, cond)
	}
}

// current is the agent's Cluster from the watch cache (or the result of
// the agent's own last write, when the cache has not caught up), or nil.
func (c *StatusController) current() *clusterv1alpha1.Cluster {
	obj, ok, err := c.cluster.GetStore().GetByKey(c.cfg.ClusterName)
	if err != nil || !ok {
		return nil
	}
	cached := obj.(*clusterv1alpha1.Cluster)
	if c.written != nil && cached.ResourceVersion == c.writtenFrom {
		return c.written
	}
	c.written = nil
	return cached
}
