package cluster

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	clusterclient "github.com/tether-io/tether/pkg/generated/clientset/versioned/typed/cluster/v1alpha1"
)

// Heartbeat defaults. The duration is karmada-agent's
// --cluster-lease-duration. The renewal comes every 12 s (0.3), not
// karmada-agent's 10 s (0.25): the Lease renewals are nearly all an idle
// agent costs the hub, and the control plane's grace period (40 s by
// default, --cluster-monitor-grace-period) still sees three of them before
// it marks the cluster Unknown. How quickly a lost cluster is noticed is
// set by that grace period, not by the renewal (docs/scale.md).
const (
	DefaultLeaseDuration = 40 * time.Second
	DefaultRenewFraction = 0.3
)

// HeartbeatConfig is what a Heartbeat needs.
type HeartbeatConfig struct {
	// Hub writes the Lease, as the agent's identity.
	Hub kubernetes.Interface
	// Clusters reads the Cluster before the Lease is created (get on
	// clusters/<ClusterName>, which Karmada grants the agent).
	Clusters clusterclient.ClusterInterface
	// ClusterName and ClusterUID name the Cluster (JoinResult.Cluster): the
	// Lease is karmada-cluster/<ClusterName>, held by ClusterName and owned
	// by that Cluster. ClusterUID is the owner when the Cluster cannot be
	// read for another reason than its absence.
	ClusterName string
	ClusterUID  types.UID
	// LeaseDuration is spec.leaseDurationSeconds, in whole seconds
	// (default 40s).
	LeaseDuration time.Duration
	// RenewFraction of LeaseDuration is the renew interval (default 0.3,
	// so 12s); it must be in (0, 1).
	RenewFraction float64
	// Clock stamps spec.renewTime (default the real clock).
	Clock clock.Clock
	// Registerer, when set, exposes the Lease writes by result
	// (tether_agent_heartbeat_renewals_total) and the last success.
	Registerer prometheus.Registerer
}

// withDefaults fills zero fields and checks the others.
func (c HeartbeatConfig) withDefaults() (HeartbeatConfig, error) {
	if c.LeaseDuration == 0 {
		c.LeaseDuration = DefaultLeaseDuration
	}
	if c.RenewFraction == 0 {
		c.RenewFraction = DefaultRenewFraction
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	switch {
	case c.Hub == nil || c.Clusters == nil || c.ClusterName == "" || c.ClusterUID == "":
		return c, fmt.Errorf("heartbeat: Hub, Clusters, ClusterName and ClusterUID are required")
	case c.LeaseDuration < time.Second || c.LeaseDuration%time.Second != 0:
		return c, fmt.Errorf("heartbeat: lease duration %s must be a whole number of seconds", c.LeaseDuration)
	case c.RenewFraction <= 0 || c.RenewFraction >= 1:
		return c, fmt.Errorf("heartbeat: renew fraction %v must be between 0 and 1", c.RenewFraction)
	}
	return c, nil
}

// RenewInterval is how often the Lease is renewed: LeaseDuration ×
// RenewFraction, after defaults.
func (c HeartbeatConfig) RenewInterval() time.Duration {
	d, f := c.LeaseDuration, c.RenewFraction
	if d == 0 {
		d = DefaultLeaseDuration
	}
	if f == 0 {
		f = DefaultRenewFraction
	}
	return time.Duration(float64(d) * f)
}

// Heartbeat renews the cluster Lease karmada-cluster/<cluster> on the hub
// as karmada-agent's lease controller does (k8s.io/component-helpers
// /apimachinery/lease): it keeps the last Lease in memory and PUTs it each
// interval (one request), and falls back to GET and CREATE when the hub
// answers that the Lease changed or is gone.
// Unlike that controller it spreads a fleet's renewals: the periodic
// renewals start at a random point of the first interval, and failed ones
// are retried with jittered backoff (loop).
//
// The Lease is owned by the Cluster (an owner reference without the
// controller flag, as karmada-agent sets it), so the hub's garbage collector
// deletes it with the Cluster. It is only created while the Cluster exists
// and is not being deleted: once the Cluster is gone (karmadactl unregister,
// or the control plane removing the cluster), the heartbeat does not bring
// the Lease back. A Lease that already names the Cluster as its owner is
// renewed without reading the Cluster.
type Heartbeat struct {
	cfg         HeartbeatConfig
	leaseClient coordinationclient.LeaseInterface // observed: writes are counted
	latest      *coordinationv1.Lease             // the Lease last written; Run's goroutine only
	ctx         atomic.Pointer[context.Context]   // Run's, for the Cluster reads
	refusing    atomic.Bool                       // a refusal to create was logged
}

// NewHeartbeat builds a Heartbeat.
func NewHeartbeat(cfg HeartbeatConfig) (*Heartbeat, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Heartbeat{cfg: cfg}
	m, err := newHeartbeatMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("heartbeat metrics: %w", err)
	}
	hub := observedHub{Interface: cfg.Hub, observe: func(err error) { m.observe(err, cfg.Clock.Now()) }}
	h.leaseClient = hub.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace)
	return h, nil
}

// Run renews the Lease until ctx is done. The Lease is left in place when it
// returns, so the hub notices the silence after the lease duration.
func (h *Heartbeat) Run(ctx context.Context) {
	h.ctx.Store(&ctx)
	h.loop(ctx)
}

// stamp completes a Lease before it is written: holder, and the owner
// reference to the Cluster. An error stops a Lease from being created (the
// heartbeat tries again at its next attempt) or renewed.
func (h *Heartbeat) stamp(l *coordinationv1.Lease) error {
	l.Spec.HolderIdentity = ptr.To(h.cfg.ClusterName)
	if ownedByCluster(l.OwnerReferences, h.cfg.ClusterName) {
		return nil
	}
	owner, err := h.owner()
	if err != nil {
		if !h.refusing.Swap(true) {
			klog.FromContext(h.context()).Info("Not writing the cluster Lease", "cluster", h.cfg.ClusterName, "reason", err.Error())
		}
		return err
	}
	h.refusing.Store(false)
	l.OwnerReferences = append(l.OwnerReferences, owner)
	return nil
}

// owner reads the Cluster and returns the owner reference to it; an error
// when it does not exist or is being deleted. When it cannot be read for
// another reason, the Cluster the agent joined is the owner.
func (h *Heartbeat) owner() (metav1.OwnerReference, error) {
	ctx, cancel := context.WithTimeout(h.context(), h.cfg.RenewInterval())
	defer cancel()
	c, err := h.cfg.Clusters.Get(ctx, h.cfg.ClusterName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return metav1.OwnerReference{}, fmt.Errorf("the Cluster %s does not exist on the hub", h.cfg.ClusterName)
	case err != nil:
		return clusterOwnerReference(h.cfg.ClusterName, h.cfg.ClusterUID), nil
	case !c.DeletionTimestamp.IsZero():
		return metav1.OwnerReference{}, fmt.Errorf("the Cluster %s is being deleted", h.cfg.ClusterName)
	}
	return clusterOwnerReference(c.Name, c.UID), nil
}

func (h *Heartbeat) context() context.Context {
	if p := h.ctx.Load(); p != nil {
		return *p
	}
	return context.Background()
}

// ownedByCluster reports whether refs name the Cluster as an owner.
func ownedByCluster(refs []metav1.OwnerReference, name string) bool {
	for _, r := range refs {
		if r.APIVersion == clusterv1alpha1.SchemeGroupVersion.String() && r.Kind == "Cluster" && r.Name == name {
			return true
		}
	}
	return false
}
