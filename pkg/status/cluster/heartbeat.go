package cluster

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/component-helpers/apimachinery/lease"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// Heartbeat defaults: karmada-agent's --cluster-lease-duration and
// --cluster-lease-renew-interval-fraction.
const (
	DefaultLeaseDuration = 40 * time.Second
	DefaultRenewFraction = 0.25
)

// HeartbeatConfig is what a Heartbeat needs.
type HeartbeatConfig struct {
	// Hub writes the Lease, as the agent's identity.
	Hub kubernetes.Interface
	// ClusterName and ClusterUID name the Cluster (JoinResult.Cluster): the
	// Lease is karmada-cluster/<ClusterName>, held by ClusterName and owned
	// by that Cluster.
	ClusterName string
	ClusterUID  types.UID
	// LeaseDuration is spec.leaseDurationSeconds, in whole seconds
	// (default 40s).
	LeaseDuration time.Duration
	// RenewFraction of LeaseDuration is the renew interval (default 0.25,
	// so 10s); it must be in (0, 1).
	RenewFraction float64
	// Clock stamps spec.renewTime (default the real clock).
	Clock clock.Clock
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
	case c.Hub == nil || c.ClusterName == "" || c.ClusterUID == "":
		return c, fmt.Errorf("heartbeat: Hub, ClusterName and ClusterUID are required")
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

// Heartbeat renews the cluster Lease karmada-cluster/<cluster> on the hub,
// the way karmada-agent does, with the same controller
// (k8s.io/component-helpers/apimachinery/lease): it keeps the last Lease in
// memory and PUTs it each interval (one request), and falls back to GET and
// CREATE with backoff when that fails.
type Heartbeat struct {
	controller lease.Controller
}

// NewHeartbeat builds a Heartbeat.
func NewHeartbeat(cfg HeartbeatConfig) (*Heartbeat, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	owner := clusterOwnerReference(cfg.ClusterName, cfg.ClusterUID)
	stamp := func(l *coordinationv1.Lease) error {
		l.Spec.HolderIdentity = ptr.To(cfg.ClusterName)
		if !hasOwner(l.OwnerReferences, owner) {
			l.OwnerReferences = append(l.OwnerReferences, owner)
		}
		return nil
	}
	return &Heartbeat{controller: lease.NewController(cfg.Clock, cfg.Hub, cfg.ClusterName,
		int32(cfg.LeaseDuration/time.Second), nil, cfg.RenewInterval(),
		cfg.ClusterName, clusterv1alpha1.LeaseNamespace, stamp)}, nil
}

// Run renews the Lease until ctx is done. The Lease is left in place when it
// returns, so the hub notices the silence after the lease duration.
func (h *Heartbeat) Run(ctx context.Context) {
	h.controller.Run(ctx)
}
