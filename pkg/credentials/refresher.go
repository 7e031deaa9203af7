package credentials

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Token lifetimes.
const (
	// DefaultLifetime is how long a token is valid unless told otherwise.
	DefaultLifetime = 7 * 24 * time.Hour
	// MinLifetime is the shortest lifetime a kube-apiserver issues.
	MinLifetime = 10 * time.Minute
	// refreshFraction is how much of a token's lifetime passes before the
	// next one is requested: the previous one stays valid for the rest, so
	// a reader of the hub Secret has that long to pick the new one up.
	refreshFraction = 0.8
	// resync is the longest wait between two uploads: an upload that finds
	// the hub Secrets as they should be writes nothing, and one that finds
	// them changed or deleted puts them back.
	resync = 30 * time.Minute
)

// Config is what a Refresher needs.
type Config struct {
	// Cluster is the cluster name <C>.
	Cluster string
	// Namespace is the member namespace of the ServiceAccounts
	// (--cluster-namespace).
	Namespace string
	// Member acts in the member: it applies the ServiceAccounts and RBAC
	// and requests tokens.
	Member kubernetes.Interface
	// Report says which tokens to issue.
	Report Report
	// CABundle is the member's CA bundle (CABundle).
	CABundle []byte
	// Lifetime is the lifetime asked for each token (default
	// DefaultLifetime; at least MinLifetime).
	Lifetime time.Duration
	// RefreshAfter, when positive, replaces 80 % of the tokens' lifetime
	// as the time between two refreshes (tests and operators who want the
	// hub Secret rewritten more often).
	RefreshAfter time.Duration
	// Upload writes the tokens to the hub.
	Upload func(ctx context.Context, t Tokens) error
	// Clock is the time source (default: the real clock).
	Clock clock.WithTicker
}

// Refresher keeps the hub's copy of the member credentials valid.
type Refresher struct {
	cfg     Config
	member  member
	backoff wait.Backoff
	current Tokens
}

// NewRefresher checks cfg and returns a Refresher.
func NewRefresher(cfg Config) (*Refresher, error) {
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.Lifetime < MinLifetime {
		return nil, fmt.Errorf("the token lifetime %s is below the %s a kube-apiserver issues", cfg.Lifetime, MinLifetime)
	}
	if cfg.Member == nil || cfg.Upload == nil || cfg.Cluster == "" || cfg.Namespace == "" || !cfg.Report.Any() {
		return nil, errors.New("credentials: Cluster, Namespace, Member, Upload and a Report of something are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	return &Refresher{cfg: cfg, member: member{client: cfg.Member, cluster: cfg.Cluster, namespace: cfg.Namespace, lifetime: cfg.Lifetime},
		backoff: retryBackoff()}, nil
}

// retryBackoff spaces the attempts after a failure: 1 s, doubling, at most
// 5 minutes apart.
func retryBackoff() wait.Backoff {
	return wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.2, Cap: 5 * time.Minute, Steps: math.MaxInt32}
}

// RefreshAt is when tokens t are replaced: after RefreshAfter when it is
// set, else at 80 % of their lifetime.
func (r *Refresher) RefreshAt(t Tokens) time.Time {
	if r.cfg.RefreshAfter > 0 {
		return t.Issued.Add(r.cfg.RefreshAfter)
	}
	return t.Issued.Add(time.Duration(refreshFraction * float64(t.Expiry.Sub(t.Issued))))
}

// Run reports the credentials now, and again before they expire, until ctx
// ends. A failure is logged and retried with backoff; it never ends Run.
func (r *Refresher) Run(ctx context.Context) error {
	log := klog.FromContext(ctx).WithValues("cluster", r.cfg.Cluster, "reported", r.cfg.Report.String())
	delay := r.backoff.DelayFunc()
	var reported time.Time // Issued of the tokens last logged
	for {
		next, err := r.Refresh(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := min(next.Sub(r.cfg.Clock.Now()), resync)
		if err != nil {
			wait = delay()
			log.Error(err, "Reporting member credentials to the hub failed; retrying", "retryIn", wait.Round(time.Second))
		} else {
			delay = r.backoff.DelayFunc()
			if r.current.Issued != reported {
				reported = r.current.Issued
				log.Info("Reported member credentials to the hub", "expires", r.current.Expiry.UTC().Format(time.RFC3339),
					"nextRefresh", next.UTC().Format(time.RFC3339))
			}
		}
		timer := r.cfg.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C():
		}
	}
}

// Refresh requests new tokens when the current ones are due (or there are
// none), uploads them, and returns when the next refresh is due.
func (r *Refresher) Refresh(ctx context.Context) (time.Time, error) {
	now := r.cfg.Clock.Now()
	if r.current.Issued.IsZero() || !now.Before(r.RefreshAt(r.current)) {
		t, err := r.member.issue(ctx, r.cfg.Report, r.cfg.CABundle, now)
		if err != nil {
			return time.Time{}, err
		}
		r.current = t
	}
	if err := r.cfg.Upload(ctx, r.current); err != nil {
		return time.Time{}, err
	}
	return r.RefreshAt(r.current), nil
}
