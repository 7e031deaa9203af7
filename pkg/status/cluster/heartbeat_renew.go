package cluster

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// retryBase is the first wait after a failed renewal; it doubles, with
// full jitter, up to half the renew interval.
const retryBase = time.Second

// loop renews the Lease at once, then every renew interval starting at a
// random point of the first interval, so that agents started together (a
// join storm) do not renew together. A renewal that fails is retried after
// a jittered, doubling wait capped near the renew interval, so that agents
// that lost the hub at the same moment (a hub restart) do not come back in
// step; the first success resets the wait.
func (h *Heartbeat) loop(ctx context.Context) {
	interval := h.cfg.RenewInterval()
	retry := retryBackoff(interval)
	first := true
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		next := interval
		if err := h.renew(ctx); err != nil {
			klog.FromContext(ctx).V(2).Info("Renewing the cluster Lease failed; retrying", "cluster", h.cfg.ClusterName, "err", err.Error())
			next = retry.Step()
		} else {
			retry = retryBackoff(interval)
			if first {
				next, first = rand.N(interval)+1, false
			}
		}
		timer.Reset(next)
	}
}

func retryBackoff(interval time.Duration) wait.Backoff {
	return wait.Backoff{Duration: retryBase, Factor: 2, Jitter: 1, Steps: math.MaxInt32, Cap: max(interval/2, retryBase)}
}

// renew writes the Lease once: an Update of the Lease last written (one
// request), else a read and then an Update, or a Create when it does not
// exist. Each attempt is bounded by the renew interval.
func (h *Heartbeat) renew(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.RenewInterval())
	defer cancel()
	if h.latest != nil {
		if err := h.update(ctx, h.latest); err == nil {
			return nil
		}
		// The Lease changed, went away, or the hub did not answer: read it.
	}
	leases := h.leaseClient
	l, err := leases.Get(ctx, h.cfg.ClusterName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: h.cfg.ClusterName, Namespace: clusterv1alpha1.LeaseNamespace}}
		h.fill(l)
		if err := h.stamp(l); err != nil {
			return err
		}
		created, err := leases.Create(ctx, l, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		h.latest = created
		return nil
	case err != nil:
		return err
	}
	return h.update(ctx, l)
}

// update renews base: this holder, the duration, the time now.
func (h *Heartbeat) update(ctx context.Context, base *coordinationv1.Lease) error {
	l := base.DeepCopy()
	h.fill(l)
	if err := h.stamp(l); err != nil {
		return err
	}
	out, err := h.leaseClient.Update(ctx, l, metav1.UpdateOptions{})
	if err != nil {
		h.latest = nil
		return err
	}
	h.latest = out
	return nil
}

// fill sets the Lease's spec as the renewal writes it.
func (h *Heartbeat) fill(l *coordinationv1.Lease) {
	l.Spec.HolderIdentity = ptr.To(h.cfg.ClusterName)
	l.Spec.LeaseDurationSeconds = ptr.To(int32(h.cfg.LeaseDuration / time.Second))
	l.Spec.RenewTime = &metav1.MicroTime{Time: h.cfg.Clock.Now()}
}
