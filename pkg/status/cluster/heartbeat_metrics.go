package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
)

// heartbeatMetrics count the writes of the cluster Lease (renewals, and
// creations when it is missing) by result, and stamp the last success.
type heartbeatMetrics struct {
	renewals    *prometheus.CounterVec
	lastSuccess prometheus.Gauge
}

// newHeartbeatMetrics registers the series on reg, or takes those already
// registered there (a Heartbeat built again in the same process).
func newHeartbeatMetrics(reg prometheus.Registerer) (*heartbeatMetrics, error) {
	m := &heartbeatMetrics{
		renewals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_agent_heartbeat_renewals_total",
			Help: "Writes of the cluster Lease on the hub (renewals, and creation when it is missing), by result: success or failure."}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tether_agent_heartbeat_last_success_timestamp_seconds",
			Help: "When the cluster Lease was last written on the hub, as seconds since the epoch; 0 until then."}),
	}
	m.renewals.WithLabelValues("success")
	m.renewals.WithLabelValues("failure")
	if reg == nil {
		return m, nil
	}
	var err error
	if m.renewals, err = register(reg, m.renewals); err != nil {
		return nil, err
	}
	if m.lastSuccess, err = register(reg, m.lastSuccess); err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

func (m *heartbeatMetrics) observe(err error, now time.Time) {
	if err != nil {
		m.renewals.WithLabelValues("failure").Inc()
		return
	}
	m.renewals.WithLabelValues("success").Inc()
	m.lastSuccess.Set(float64(now.Unix()))
}

// observedHub is the hub client the heartbeat writes the Lease
// with: its Lease creates and updates are observed.
type observedHub struct {
	kubernetes.Interface
	observe func(error)
}

func (h observedHub) CoordinationV1() coordinationclient.CoordinationV1Interface {
	return observedCoordination{h.Interface.CoordinationV1(), h.observe}
}

type observedCoordination struct {
	coordinationclient.CoordinationV1Interface
	observe func(error)
}

func (c observedCoordination) Leases(namespace string) coordinationclient.LeaseInterface {
	return observedLeases{c.CoordinationV1Interface.Leases(namespace), c.observe}
}

type observedLeases struct {
	coordinationclient.LeaseInterface
	observe func(error)
}

func (l observedLeases) Create(ctx context.Context, lease *coordinationv1.Lease, opts metav1.CreateOptions) (*coordinationv1.Lease, error) {
	out, err := l.LeaseInterface.Create(ctx, lease, opts)
	l.observe(err)
	return out, err
}

func (l observedLeases) Update(ctx context.Context, lease *coordinationv1.Lease, opts metav1.UpdateOptions) (*coordinationv1.Lease, error) {
	out, err := l.LeaseInterface.Update(ctx, lease, opts)
	l.observe(err)
	return out, err
}
