package execution

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tether-io/tether/pkg/apply"
)

// metrics are the controller's Prometheus series; with no registerer they
// are created but not exposed.
type metrics struct {
	applyDuration prometheus.Histogram
	statusLatency prometheus.Histogram
	unclaimed     prometheus.Gauge
	failures      prometheus.Counter
	drift         *driftEpisodes
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		applyDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tether_work_apply_duration_seconds", Help: "Time to reconcile one Work: render, apply, garbage-collect.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		statusLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tether_work_status_latency_seconds", Help: "Time from a change (apply outcome or member object event) to the Work status write that carries it.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12)}),
		unclaimed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tether_orphans_unclaimed", Help: "Managed member objects found at start that name a Work of this cluster which does not exist; they are left alone."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tether_work_apply_failures_total", Help: "Work reconciles (render, apply, garbage-collect) that failed and are retried with backoff."}),
		drift: newDriftEpisodes(),
	}
	if reg != nil {
		reg.MustRegister(m.applyDuration, m.statusLatency, m.unclaimed, m.failures, m.drift.episodes)
	}
	return m
}

func (m *metrics) observeApply(d time.Duration)  { m.applyDuration.Observe(d.Seconds()) }
func (m *metrics) observeStatus(d time.Duration) { m.statusLatency.Observe(d.Seconds()) }
func (m *metrics) setUnclaimed(n int)            { m.unclaimed.Set(float64(n)) }
func (m *metrics) failed()                       { m.failures.Inc() }

// registerEngineMetrics exposes the apply engine's request counters and the
// status writer's backlog, read when scraped.
func (c *Controller) registerEngineMetrics(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	stat := func(request string, f func(s apply.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tether_apply_requests_total",
			Help:        "Member requests of the apply engine: get (a cache miss), apply, create (an apply that may only create: the cache knew the object absent), dry_run (an inconclusive local check), delete, ownership (a managedFields-only patch taking over karmada-agent's fields).",
			ConstLabels: prometheus.Labels{"request": request}},
			func() float64 { return float64(f(c.applier.Stats())) })
	}
	reg.MustRegister(newStateCollector(c.works),
		stat("get", func(s apply.Stats) int64 { return s.Gets }),
		stat("apply", func(s apply.Stats) int64 { return s.Applies }),
		stat("create", func(s apply.Stats) int64 { return s.Creates }),
		stat("dry_run", func(s apply.Stats) int64 { return s.DryRuns }),
		stat("delete", func(s apply.Stats) int64 { return s.Deletes }),
		stat("ownership", func(s apply.Stats) int64 { return s.OwnershipMoves }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tether_apply_unchanged_local_total",
			Help: "Objects found unchanged from managedFields and field sets alone, with no member request."},
			func() float64 { return float64(c.applier.Stats().LocalSame) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tether_work_status_writes_total",
			Help: "Work status writes sent to the hub."},
			func() float64 { return float64(c.writer.Writes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tether_work_status_pending",
			Help: "Works whose status has a change not yet written to the hub."},
			func() float64 { return float64(c.writer.Pending()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tether_work_status_write_failures_total",
			Help: "Work status writes that failed (they are retried with backoff)."},
			func() float64 { return float64(c.writer.FailedWrites()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tether_work_status_reduced",
			Help: "Works whose status the hub refused as too large, written reduced (condition StatusTruncated)."},
			func() float64 { return float64(c.writer.Reduced()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tether_hub_unreachable",
			Help: "1 while Work status writes do not reach the hub (one write probes it), else 0."},
			func() float64 {
				if c.writer.HubDown() {
					return 1
				}
				return 0
			}),
	)
}
