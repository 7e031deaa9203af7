package leader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// Defaults of the hub lock: a long lease renewed rarely, since it only
// fences karmada-agent off (Tether's replicas elect on the member). A
// karmada-agent honours the duration written in the Lease, so it waits up
// to HubLeaseDuration after Tether stopped renewing.
const (
	HubLeaseDuration = 60 * time.Second
	HubRenewDeadline = 40 * time.Second
	HubRetryPeriod   = 20 * time.Second
)

// HubIdentityPrefix starts the holderIdentity Tether writes into the hub
// Lease, so that people and tools see that Tether holds it.
const HubIdentityPrefix = "tether-agent_"

// HubLock is karmada-agent's leader-election Lease on the hub,
// <Namespace>/karmada-agent-<Cluster>. karmada-agent elects its leader
// there; Tether elects on the member. While a cluster moves from
// karmada-agent to Tether (or back), holding that Lease keeps the two from
// reconciling at once: Tether waits while a karmada-agent holds it, then
// holds it itself, and a karmada-agent started later waits for Tether.
//
// The lock is taken only when the Lease exists on the hub (karmada-agent
// ran for this cluster): a cluster registered by Tether pays one read per
// term and no write. Where the agent may not read it (Tether's own hub
// RBAC grants no such Lease), it is skipped too.
type HubLock struct {
	// Config returns a hub client config whose writes are not behind the
	// member write Gate (the Lease is released after the Gate closed).
	Config func() (*rest.Config, error)
	// Namespace (karmada-agent's --leader-elect-resource-namespace) and
	// Cluster name the Lease.
	Namespace, Cluster string
	// Identity is this agent's holder identity (default
	// HubIdentityPrefix + hostname + "_" + a random UID).
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod default to the Hub*
	// constants.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Backoff paces the first read of the Lease while the hub cannot be
	// reached (default: 1 s doubling to 30 s).
	Backoff wait.Backoff
	// Ready, when set, registers a readiness check that fails until lead
	// runs: while the hub is unreachable or karmada-agent holds the Lease.
	Ready func(name string, check func() error)
}

// LeaseName is the name of karmada-agent's leader-election Lease for
// cluster, karmada-agent-<cluster>: the hub lock's name, and the name of
// the member Lease the agent's replicas elect with.
func LeaseName(cluster string) string { return clusterv1alpha1.AgentName + "-" + cluster }

// HubLeaseName is the name of karmada-agent's Lease for cluster on the hub.
func HubLeaseName(cluster string) string { return LeaseName(cluster) }

// Run runs lead under the hub lock: at once when the Lease does not exist
// (or this agent may not read it), else once this agent holds it; while
// the hub cannot be reached, it retries the read. It returns lead's
// error; an error when the Lease was lost (or lead returned) while ctx was
// live, so that the process exits as on a lost member Lease; and nil when
// ctx ended. The Lease is released once lead has returned.
func (h HubLock) Run(ctx context.Context, lead func(context.Context) error) error {
	h = h.defaults()
	cfg, err := h.Config()
	if err != nil {
		return fmt.Errorf("hub lock: %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = h.RenewDeadline / 2
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("hub lock: %w", err)
	}
	return h.run(ctx, cs, lead)
}

func (h HubLock) run(ctx context.Context, cs kubernetes.Interface, lead func(context.Context) error) error {
	log := klog.FromContext(ctx).WithValues("hubLease", h.Namespace+"/"+HubLeaseName(h.Cluster))
	ctx = klog.NewContext(ctx, log)
	var leading atomic.Bool
	if h.Ready != nil {
		h.Ready("hub-lock", func() error {
			if !leading.Load() {
				return errors.New("waiting for the hub, or for karmada-agent to give up its leader Lease there")
			}
			return nil
		})
	}
	inner := lead
	lead = func(ctx context.Context) error { leading.Store(true); return inner(ctx) }
	exists, err := h.exists(ctx, cs)
	if err != nil {
		return nil // ctx ended
	}
	if !exists {
		log.V(2).Info("No karmada-agent Lease on the hub; not taking it")
		return lead(ctx)
	}
	return h.hold(ctx, cs, lead)
}

func (h HubLock) defaults() HubLock {
	if h.Identity == "" {
		host, _ := os.Hostname()
		h.Identity = HubIdentityPrefix + host + "_" + string(uuid.NewUUID())
	}
	if h.LeaseDuration <= 0 {
		h.LeaseDuration, h.RenewDeadline, h.RetryPeriod = HubLeaseDuration, HubRenewDeadline, HubRetryPeriod
	}
	if h.Backoff.Steps == 0 {
		h.Backoff = wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 1 << 30, Cap: 30 * time.Second}
	}
	return h
}

// exists reads the Lease until the hub answers: true when it exists, false
// when it does not or this agent may not read it. The error is ctx's.
func (h HubLock) exists(ctx context.Context, cs kubernetes.Interface) (bool, error) {
	var found bool
	err := wait.ExponentialBackoffWithContext(ctx, h.Backoff, func(ctx context.Context) (bool, error) {
		_, err := cs.CoordinationV1().Leases(h.Namespace).Get(ctx, HubLeaseName(h.Cluster), metav1.GetOptions{})
		switch {
		case err == nil:
			found = true
			return true, nil
		case apierrors.IsNotFound(err), apierrors.IsForbidden(err):
			return true, nil
		}
		// Reading this Lease is the first request of a join.
		klog.FromContext(ctx).Info("Joining the hub failed; retrying", "step", "read karmada-agent's leader Lease", "err", err)
		return false, nil
	})
	if err != nil && ctx.Err() != nil {
		return false, ctx.Err()
	}
	return found, err
}

// hubTerm is one attempt at holding the hub Lease.
type hubTerm struct {
	started  atomic.Bool
	lost     atomic.Bool
	returned atomic.Bool // lead returned on its own
	done     chan struct{}
	err      error // lead's, read after done
	cancel   context.CancelFunc

	mu   sync.Mutex
	lead context.CancelFunc // cancels lead once it runs
}

// hold campaigns for the Lease with client-go's elector and runs lead
// while holding it.
func (h HubLock) hold(ctx context.Context, cs kubernetes.Interface, lead func(context.Context) error) error {
	log := klog.FromContext(ctx)
	electCtx, stopElect := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElect()
	t := &hubTerm{done: make(chan struct{}), cancel: stopElect}
	lock := &watchedLock{Interface: &resourcelock.LeaseLock{
		LeaseMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: HubLeaseName(h.Cluster)}, Client: cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: h.Identity}}, log: log, leading: t.started.Load, lost: t.stolen}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, Name: "tether-agent-hub", ReleaseOnCancel: true,
		LeaseDuration: h.LeaseDuration, RenewDeadline: h.RenewDeadline, RetryPeriod: h.RetryPeriod,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) { t.run(ctx, lctx, lead) },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return fmt.Errorf("hub lock: %w", err)
	}
	stopWatch := context.AfterFunc(ctx, func() {
		if t.started.Load() {
			<-t.done
		}
		stopElect()
	})
	defer stopWatch()
	log.Info("karmada-agent's Lease exists on the hub; the controllers start once this agent holds it")
	le.Run(electCtx)
	if !t.started.Load() {
		return nil // ctx ended before the Lease was taken
	}
	<-t.done
	switch {
	case ctx.Err() != nil:
		return t.err
	case t.lost.Load():
		return errors.Join(fmt.Errorf("lost karmada-agent's Lease %s/%s on the hub; exiting so that a single agent acts",
			h.Namespace, HubLeaseName(h.Cluster)), t.err)
	}
	return fmt.Errorf("the controllers stopped while the agent was running, so it gave up karmada-agent's Lease on the hub: %w", errOrUnknown(t.err))
}

// run is OnStartedLeading: lead runs until the term or the process ends;
// when it returns, the elector stops and releases the Lease.
func (t *hubTerm) run(ctx, lctx context.Context, lead func(context.Context) error) {
	defer close(t.done)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	t.mu.Lock()
	t.lead = cancel
	t.mu.Unlock()
	t.started.Store(true)
	stop := context.AfterFunc(lctx, func() {
		if ctx.Err() == nil && !t.returned.Load() {
			t.lost.Store(true)
		}
		cancel()
	})
	defer stop()
	klog.FromContext(ctx).Info("Holding karmada-agent's Lease on the hub; starting the controllers")
	t.err = lead(runCtx)
	t.returned.Store(true)
	t.cancel()
}

// stolen is called when the Lease names another holder while this agent
// leads: lead is cancelled at once and the elector stopped (without a
// release, since the Lease is not this agent's any more).
func (t *hubTerm) stolen() {
	t.lost.Store(true)
	t.mu.Lock()
	cancel := t.lead
	t.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	t.cancel()
}

// watchedLock reports a Lease that names another holder: once to the log
// while waiting, and to lost while leading.
type watchedLock struct {
	resourcelock.Interface
	log     klog.Logger
	leading func() bool
	lost    func()
	waiting atomic.Bool
}

func (l *watchedLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	rec, raw, err := l.Interface.Get(ctx)
	if err != nil || rec.HolderIdentity == "" || rec.HolderIdentity == l.Identity() {
		return rec, raw, err
	}
	if l.leading() {
		l.log.Info("Another holder took karmada-agent's Lease on the hub; stopping the controllers", "holder", rec.HolderIdentity)
		l.lost()
	} else if rec.RenewTime.Add(time.Duration(rec.LeaseDurationSeconds)*time.Second).After(time.Now()) && !l.waiting.Swap(true) {
		l.log.Info("Waiting for karmada-agent's Lease on the hub: it is held", "holder", rec.HolderIdentity,
			"leaseDurationSeconds", rec.LeaseDurationSeconds, "renewTime", rec.RenewTime.Time)
	}
	return rec, raw, err
}
