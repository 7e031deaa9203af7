package queue

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the queue's Prometheus series, named like client-go's
// workqueue metrics (workqueue_depth, workqueue_adds_total, ...) with a
// "name" label. A nil *Metrics records nothing.
type Metrics struct {
	depthGauge prometheus.Gauge
	adds       prometheus.Counter
	retries    prometheus.Counter
	latency    prometheus.Observer
	work       prometheus.Observer
}

// NewMetrics registers the series for the queue called name on reg.
func NewMetrics(reg prometheus.Registerer, name string) *Metrics {
	l := prometheus.Labels{"name": name}
	m := &Metrics{
		depthGauge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "workqueue_depth", Help: "Current depth of the work queue.", ConstLabels: l}),
		adds:       prometheus.NewCounter(prometheus.CounterOpts{Name: "workqueue_adds_total", Help: "Adds handled by the work queue.", ConstLabels: l}),
		retries:    prometheus.NewCounter(prometheus.CounterOpts{Name: "workqueue_retries_total", Help: "Rate-limited retries of the work queue.", ConstLabels: l}),
	}
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "workqueue_queue_duration_seconds",
		Help: "How long an item waits in the queue before it is processed.", ConstLabels: l, Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)})
	work := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "workqueue_work_duration_seconds",
		Help: "How long processing an item takes.", ConstLabels: l, Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)})
	m.latency, m.work = latency, work
	reg.MustRegister(m.depthGauge, m.adds, m.retries, latency, work)
	return m
}

func (m *Metrics) add() {
	if m != nil {
		m.adds.Inc()
	}
}

func (m *Metrics) retry() {
	if m != nil {
		m.retries.Inc()
	}
}

func (m *Metrics) depth(n int) {
	if m != nil {
		m.depthGauge.Set(float64(n))
	}
}

func (m *Metrics) waited(d time.Duration) {
	if m != nil {
		m.latency.Observe(d.Seconds())
	}
}

// processed records how long one item took.
func (m *Metrics) processed(d time.Duration) {
	if m != nil {
		m.work.Observe(d.Seconds())
	}
}
