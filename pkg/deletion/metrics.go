package deletion

import "github.com/prometheus/client_golang/prometheus"

// metrics are the guard's Prometheus series; with no registerer they are
// created but not exposed.
type metrics struct {
	held     prometheus.Gauge
	released *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		held: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tether_deletion_held_works",
			Help: "Terminating Works whose member deletes the bulk-deletion guard holds."}),
		released: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_deletion_released_works_total",
			Help: "Held Works released, by what released them: confirm (the Cluster annotation) or grace (--held-delete-grace)."}, []string{"by"}),
	}
	m.released.WithLabelValues(releasedByConfirm)
	m.released.WithLabelValues(releasedByGrace)
	if reg != nil {
		reg.MustRegister(m.held, m.released)
	}
	return m
}
