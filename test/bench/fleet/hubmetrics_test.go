package fleetbench

import (
	"bytes"
	"context"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// hubWatches scrapes the hub apiserver's /metrics: the open watches
// (apiserver_longrunning_requests with verb WATCH) and the registered
// watchers (apiserver_registered_watchers, summed over kinds; -1 when the
// apiserver does not export it), and the watches on each resource.
func (f *fleet) hubWatches(ctx context.Context) (watches, registered float64, byResource map[string]float64) {
	f.t.Helper()
	raw, err := f.hubKube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		f.t.Fatalf("scrape the hub's /metrics: %v", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		f.t.Fatalf("parse the hub's /metrics: %v", err)
	}
	byResource = map[string]float64{}
	for _, m := range families["apiserver_longrunning_requests"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if !strings.EqualFold(labels["verb"], "watch") {
			continue
		}
		v := m.GetGauge().GetValue()
		watches += v
		byResource[labels["resource"]] += v
	}
	registered = -1
	if fam, ok := families["apiserver_registered_watchers"]; ok {
		registered = 0
		for _, m := range fam.GetMetric() {
			registered += m.GetGauge().GetValue()
		}
	}
	return watches, registered, byResource
}
