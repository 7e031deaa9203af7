package agent

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/tether-io/tether/pkg/hubconn"
)

// newHubGate builds the Gate every hub client of the process sends through
// (pkg/hubconn), with its metric tether_hub_readiness_probes_total. (While
// the hub is unreachable, the status writer's tether_hub_unreachable is 1:
// its writes wait in the Gate.)
func newHubGate(cfg *rest.Config, maxProbe time.Duration, reg prometheus.Registerer, log klog.Logger) *hubconn.Gate {
	probes := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_hub_readiness_probes_total",
		Help: "Readiness probes (GET /readyz) sent while the hub was unreachable, by outcome."}, []string{"ready"})
	reg.MustRegister(probes)
	obs := &gateObserver{probes: probes, log: log}
	base, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		base = nil // the probes go to the scheme and host of the request that failed
	}
	return hubconn.New(hubconn.Config{Base: base, MaxProbe: maxProbe, Observe: obs})
}

// gateObserver logs the hub's reachability once per change and counts probes.
type gateObserver struct {
	probes *prometheus.CounterVec
	log    klog.Logger
}

func (o *gateObserver) Reachable(up bool) {
	if up {
		o.log.Info("The hub is ready again; hub requests resume")
		return
	}
	o.log.Info("The hub cannot be reached; hub requests wait until a readiness probe succeeds")
}

func (o *gateObserver) Probed(ready bool) {
	o.probes.WithLabelValues(map[bool]string{true: "true", false: "false"}[ready]).Inc()
}
