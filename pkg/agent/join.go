package agent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"github.com/tether-io/tether/pkg/status/cluster"
)

// joinBackoff spaces join attempts: 1 s, doubling, jittered by up to half,
// at most 20-30 s apart once capped.
func joinBackoff() wait.Backoff {
	return wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.5, Cap: 20 * time.Second, Steps: math.MaxInt32}
}

// joinState is what readiness knows of the join.
type joinState struct {
	mu     sync.Mutex
	done   bool
	last   error
	failed int
}

func (s *joinState) fail(err error) { s.mu.Lock(); s.last = err; s.failed++; s.mu.Unlock() }

func (s *joinState) succeed() { s.mu.Lock(); s.done, s.last = true, nil; s.mu.Unlock() }

// check is the readiness check: nil once joined.
func (s *joinState) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.done:
		return nil
	case s.last != nil:
		return fmt.Errorf("not joined to the hub yet (%d attempts failed): %w", s.failed, s.last)
	}
	return errors.New("joining the hub")
}

// joinUntilDone calls join until it succeeds or ctx ends, logging every
// failure. Every error is retried, those that need an operator included
// (a Forbidden identity, a name or id held by another cluster, a Cluster
// being deleted): each is fixed on the hub, and the next attempt, at most
// 30 s later, picks the fix up, where a crash loop would wait out
// CrashLoopBackOff and stop the certificate rotation meanwhile. The wait is
// not silent: each failure is logged as an error, and /readyz fails with
// the last error.
func joinUntilDone(ctx context.Context, b wait.Backoff, state *joinState,
	join func(context.Context) (*cluster.JoinResult, error)) (*cluster.JoinResult, error) {
	log := klog.FromContext(ctx)
	delay := b.DelayFunc()
	for attempt := 1; ; attempt++ {
		res, err := join(ctx)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		state.fail(err)
		next := delay()
		if hint := operatorHint(err); hint != "" {
			log.Error(err, "Joining the hub was refused; retrying, but an operator must act", "hint", hint, "attempt", attempt, "retryIn", next.Round(time.Second))
		} else {
			log.Error(err, "Joining the hub failed; retrying", "attempt", attempt, "retryIn", next.Round(time.Second))
		}
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// operatorHint says what an operator must do about a join error that
// retrying alone cannot fix, or "" when it is transient.
func operatorHint(err error) string {
	switch {
	case cluster.IsClash(err):
		return "another Cluster holds this cluster's name or id on the hub; see the error"
	case apierrors.IsForbidden(err):
		return "the agent's hub identity lacks RBAC for its Cluster; run 'tether-agent register' again or restore the agent's hub roles"
	case apierrors.IsUnauthorized(err):
		return "the hub rejects the agent's certificate (expired or revoked); run 'tether-agent register' again"
	}
	return ""
}
