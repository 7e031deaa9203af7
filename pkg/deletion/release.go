package deletion

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

const confirmAnnotation = clusterv1alpha1.ConfirmDeletesAnnotation

// Release reasons, the "by" label of tether_deletion_released_works_total.
const (
	releasedByConfirm = "confirm"
	releasedByGrace   = "grace"
)

// ObserveCluster reads the confirmation annotation of the agent's Cluster.
// The first Cluster seen sets the baseline (a confirmation left from an
// earlier hold releases nothing); after it, any new non-empty value
// releases every Work held at that moment.
func (g *Guard) ObserveCluster(c *clusterv1alpha1.Cluster) {
	if c == nil {
		return
	}
	v := c.Annotations[confirmAnnotation]
	g.mu.Lock()
	first := g.confirm == nil
	changed := !first && *g.confirm != v
	g.confirm = &v
	var keys []string
	if changed && v != "" {
		keys = g.releaseLocked(func(*hold) bool { return true })
	}
	g.mu.Unlock()
	g.released(keys, releasedByConfirm)
}

// Run releases held Works when their grace ends, until ctx is done.
func (g *Guard) Run(ctx context.Context) {
	for g.waitExpiry(ctx) {
		g.releaseExpired()
	}
}

// waitExpiry waits until the earliest hold's grace may have ended; false
// when ctx is done.
func (g *Guard) waitExpiry(ctx context.Context) bool {
	for {
		next, ok := g.nextExpiry()
		if !ok {
			select {
			case <-ctx.Done():
				return false
			case <-g.wake:
				continue
			}
		}
		d := next.Sub(g.cfg.Clock.Now())
		if d <= 0 {
			return true
		}
		t := g.cfg.Clock.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-g.wake:
			t.Stop()
		case <-t.C():
			return true
		}
	}
}

// nextExpiry is when the earliest hold's grace ends; false when nothing is
// held or there is no grace.
func (g *Guard) nextExpiry() (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var next time.Time
	if g.cfg.Grace <= 0 {
		return next, false
	}
	for _, h := range g.held {
		if end := h.episode.at.Add(g.cfg.Grace); next.IsZero() || end.Before(next) {
			next = end
		}
	}
	return next, !next.IsZero()
}

// releaseExpired releases the Works held for at least the grace.
func (g *Guard) releaseExpired() {
	now := g.cfg.Clock.Now()
	g.mu.Lock()
	keys := g.releaseLocked(func(h *hold) bool { return !now.Before(h.episode.at.Add(g.cfg.Grace)) })
	g.mu.Unlock()
	g.released(keys, releasedByGrace)
}

// releaseLocked moves the held Works that match to the allowed ones and
// returns their keys.
func (g *Guard) releaseLocked(match func(*hold) bool) []string {
	var keys []string
	for k, h := range g.held {
		if match(h) {
			keys = append(keys, k)
			g.allowed[k] = h.uid
		}
	}
	g.dropLocked(keys)
	return keys
}

// released counts, logs and reports released Works.
func (g *Guard) released(keys []string, by string) {
	if len(keys) == 0 {
		return
	}
	g.metrics.released.WithLabelValues(by).Add(float64(len(keys)))
	klog.Background().Info("Releasing held member deletes", "cluster", g.cfg.ClusterName, "works", len(keys), "by", by)
	if g.cfg.Release != nil {
		g.cfg.Release(keys)
	}
}

// Condition is the Cluster's DeletesHeld condition: True with the counts
// and how to release while anything is held, False otherwise. Its
// LastTransitionTime is when the held set last became or stopped being
// empty.
func (g *Guard) Condition() metav1.Condition {
	g.mu.Lock()
	defer g.mu.Unlock()
	cond := metav1.Condition{Type: clusterv1alpha1.ClusterConditionDeletesHeld, LastTransitionTime: metav1.NewTime(g.lastHeld)}
	if len(g.held) == 0 {
		cond.Status, cond.Reason = metav1.ConditionFalse, clusterv1alpha1.ReasonNoDeletesHeld
		cond.Message = "No member deletes are held."
		return cond
	}
	var first *episode
	for _, h := range g.held {
		if first == nil || h.episode.at.Before(first.at) {
			first = h.episode
		}
	}
	cond.Status, cond.Reason = metav1.ConditionTrue, clusterv1alpha1.ReasonBulkDeletionHeld
	cond.Message = fmt.Sprintf("The member deletes of %d Works are held: they were found already terminating, in bulk, when the agent listed the hub after being away "+
		"(more than --bulk-delete-threshold=%d and %.0f%% of the cluster's Works). %s",
		len(g.held), g.cfg.Threshold, g.cfg.Fraction*100, g.releaseHint(first.at))
	return cond
}
