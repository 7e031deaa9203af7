package execution

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tether-io/tether/pkg/drift"
)

// driftEpisodes counts drift episodes by the kind of the drifted object and
// the member manager that made the change. Managers are names any member
// client chooses, so past managerLimit distinct ones the rest are counted
// as "other": the series stay bounded.
type driftEpisodes struct {
	episodes *prometheus.CounterVec

	mu       sync.Mutex
	managers map[string]bool
}

// managerLimit bounds the distinct manager label values.
const managerLimit = 50

func newDriftEpisodes() *driftEpisodes {
	return &driftEpisodes{
		episodes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_drift_episodes_total",
			Help: "Drift episodes (a member-side change to fields Tether applied, found on one object), by kind of the object and by the member " +
				"field manager that made the change (\"unknown\" when managedFields do not tell, \"other\" past 50 distinct managers)."},
			[]string{"kind", "manager"}),
		managers: map[string]bool{},
	}
}

// observe counts one episode once per distinct manager in its record.
func (d *driftEpisodes) observe(kind string, rec *drift.Record) {
	seen := map[string]bool{}
	for _, f := range rec.Fields {
		m := d.label(f.Manager)
		if !seen[m] {
			seen[m] = true
			d.episodes.WithLabelValues(kind, m).Inc()
		}
	}
	if len(seen) == 0 {
		d.episodes.WithLabelValues(kind, "unknown").Inc()
	}
}

// label is the manager's label value.
func (d *driftEpisodes) label(manager string) string {
	if manager == "" {
		return "unknown"
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.managers[manager] && len(d.managers) >= managerLimit {
		return "other"
	}
	d.managers[manager] = true
	return manager
}
