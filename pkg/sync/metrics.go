package sync

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the controller's Prometheus series; with no registerer they
// are created but not exposed.
type metrics struct {
	applyDuration  prometheus.Histogram
	statusLatency  prometheus.Histogram
	fenceHeldTotal prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		applyDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tether_work_apply_duration_seconds", Help: "Time to reconcile one Work: render, apply, garbage-collect.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		statusLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tether_work_status_latency_seconds", Help: "Time from a change (apply outcome or member object event) to the Work status write that carries it.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12)}),
		fenceHeldTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tether_deletion_fence_held_total", Help: "Member deletes the deletion fence held back because the delete rate cap was reached."}),
	}
	if reg != nil {
		reg.MustRegister(m.applyDuration, m.statusLatency, m.fenceHeldTotal)
	}
	return m
}

func (m *metrics) observeApply(d time.Duration)  { m.applyDuration.Observe(d.Seconds()) }
func (m *metrics) observeStatus(d time.Duration) { m.statusLatency.Observe(d.Seconds()) }
func (m *metrics) fenceHeld()                    { m.fenceHeldTotal.Inc() }
