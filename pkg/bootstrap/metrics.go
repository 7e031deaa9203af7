package bootstrap

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// rotationMetrics are the rotator's series. They are registered on the
// Registerer the caller passes; there is no global registry.
type rotationMetrics struct {
	expiry    prometheus.Gauge
	rotations *prometheus.CounterVec
}

func newRotationMetrics(reg prometheus.Registerer) (*rotationMetrics, error) {
	m := &rotationMetrics{
		expiry: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "tether", Subsystem: "agent", Name: "hub_client_certificate_expiration_timestamp_seconds",
			Help: "NotAfter of the client certificate the agent presents to the hub, as seconds since the epoch.",
		}),
		rotations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tether", Subsystem: "agent", Name: "hub_client_certificate_rotations_total",
			Help: "Renewals of the hub client certificate, by result (success or failure).",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.expiry, m.rotations} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("the hub certificate metrics are already registered on this registry: create one Rotator per registry")
			}
			return nil, err
		}
	}
	return m, nil
}
