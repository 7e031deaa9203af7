// Package leader elects one agent replica with a Lease in the member
// cluster and fences the leader's writes to its term.
//
// Run campaigns for the Lease and runs the lead function while it holds it.
// The elector runs under its own context, so that the order of a shutdown
// is this one: close the write Gate, cancel lead, wait for it (bounded by
// Config.Grace), then release the Lease. Losing the Lease closes the Gate
// at once (its validity runs out before another replica may take over).
// If lead returns while the process is still meant to run, the Lease is
// given up and Run returns an error, so the process exits and restarts
// instead of holding the Lease with nothing running.
package leader

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// DefaultGrace is how long lead may take to stop on shutdown before the
// Lease is released anyway (its writes are refused by then). It fits
// Kubernetes' default 30 s termination grace period with room to release.
const DefaultGrace = 10 * time.Second

// Config is an election.
type Config struct {
	// Client reaches the member's Lease. It must not be behind Gate.
	Client kubernetes.Interface
	// Namespace and Name of the Lease; Identity of this replica.
	Namespace, Name, Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are client-go's.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Gate fences the writes of the clients lead uses; it is opened while
	// this replica leads. Its validity should be RenewDeadline.
	Gate *Gate
	// Grace bounds how long lead may take to return once the process is
	// shutting down (default DefaultGrace).
	Grace time.Duration
	// Pod is the agent's pod, whose Deployment becomes the Lease's owner
	// (default: from POD_NAME/POD_NAMESPACE or the hostname, inside a pod).
	Pod types.NamespacedName
}

// Run campaigns until ctx ends and runs lead while this replica holds the
// Lease. It returns nil when ctx ended (lead's error, if any, is returned
// too), and an error when the Lease was lost or lead returned while ctx was
// still live.
func Run(ctx context.Context, cfg Config, lead func(context.Context) error) error {
	if cfg.Gate == nil {
		return errors.New("leader election: a write Gate is required")
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	lock := newLock(ctx, cfg)
	electCtx, stopElect := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElect()
	t := &term{cfg: cfg, lead: lead, done: make(chan struct{}), stopElect: stopElect}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &gatedLock{Interface: lock, gate: cfg.Gate, drain: cfg.RenewDeadline / 2, renewEvery: cfg.RenewDeadline / 2}, Name: "tether-agent",
		LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod, ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) { t.run(ctx, lctx) },
			OnStoppedLeading: cfg.Gate.Close,
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	stopWatch := context.AfterFunc(ctx, func() { t.wait(ctx, cfg.Grace); stopElect() })
	defer stopWatch()
	le.Run(electCtx)
	return t.outcome(ctx, cfg)
}

// term is one tenure as leader.
type term struct {
	cfg       Config
	lead      func(context.Context) error
	stopElect context.CancelFunc

	started  atomic.Bool
	returned atomic.Bool // lead returned while the term and the process were live
	done     chan struct{}
	err      error // lead's error, read after done
}

// run is OnStartedLeading: lead runs under a context that ends with the
// term (lctx) or the process (ctx); the Gate is closed before lead is
// cancelled, and when lead returns the elector is stopped, which releases
// the Lease.
func (t *term) run(ctx, lctx context.Context) {
	t.started.Store(true)
	defer close(t.done)
	log := klog.FromContext(ctx).WithValues("lease", t.cfg.Namespace+"/"+t.cfg.Name, "identity", t.cfg.Identity)
	log.Info("Became the leader")
	gate := t.cfg.Gate
	runCtx, cancel := context.WithCancel(lctx)
	defer cancel()
	stopOnShutdown := context.AfterFunc(ctx, func() { gate.Close(); cancel() })
	defer stopOnShutdown()
	stopOnLoss := context.AfterFunc(lctx, func() {
		gate.Close()
		if ctx.Err() == nil && !t.returned.Load() {
			log.Info("Lost the leader Lease; writes are refused from now on and the controllers are stopping")
		}
	})
	defer stopOnLoss()
	gate.Open()
	t.err = t.lead(runCtx)
	gate.Close()
	if lctx.Err() == nil && ctx.Err() == nil {
		t.returned.Store(true)
		t.stopElect()
	}
}

// wait waits for lead to return after ctx ended, at most grace.
func (t *term) wait(ctx context.Context, grace time.Duration) {
	if !t.started.Load() {
		return
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-t.done:
	case <-timer.C:
		klog.FromContext(ctx).Info("The controllers did not stop within the grace period; releasing the Lease with their writes refused", "grace", grace)
	}
}

// outcome is Run's result once the elector has stopped.
func (t *term) outcome(ctx context.Context, cfg Config) error {
	if !t.started.Load() {
		return nil // ctx ended before this replica led
	}
	if ctx.Err() == nil {
		t.wait(ctx, cfg.Grace) // the Lease was lost or lead returned: lead is cancelled
	}
	select {
	case <-t.done:
	default:
		return errors.New("the controllers did not stop within the grace period")
	}
	switch {
	case t.returned.Load():
		return fmt.Errorf("the controllers stopped while the agent was running, so it gave up the leader Lease: %w",
			errOrUnknown(t.err))
	case ctx.Err() == nil:
		return errors.Join(fmt.Errorf("lost the leader Lease %s/%s; exiting so that a single leader acts", cfg.Namespace, cfg.Name), t.err)
	}
	return t.err
}

func errOrUnknown(err error) error {
	if err == nil {
		return errors.New("they returned no error")
	}
	return err
}

// newLock is the member Lease lock, owned by the agent's Deployment when
// the agent runs in one.
func newLock(ctx context.Context, cfg Config) resourcelock.Interface {
	pod := cfg.Pod
	if pod.Name == "" {
		pod, _ = thisPod()
	}
	leases := ownedLeases{LeasesGetter: cfg.Client.CoordinationV1(), apps: cfg.Client, ownerNS: pod.Namespace}
	switch {
	case pod.Namespace == cfg.Namespace:
		leases.owner = leaseOwner(ctx, cfg.Client, pod)
	case pod.Name != "" && pod.Namespace != "":
		klog.FromContext(ctx).Info("The leader Lease is not in the agent's namespace, so it gets no owner and outlives the agent's Deployment",
			"lease", cfg.Namespace+"/"+cfg.Name, "pod", pod.String())
	}
	return &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Namespace: cfg.Namespace, Name: cfg.Name},
		Client: leases, LockConfig: resourcelock.ResourceLockConfig{Identity: cfg.Identity}}
}
