package fleetbench

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tether-io/tether/test/testenv"
)

// TestBenchFleet runs, for each fleet size K, in a fresh environment: the
// join storm, the fan-out, the idle window, and a hub restart; then it
// fits the per-cluster figures across the sizes.
func TestBenchFleet(t *testing.T) {
	if os.Getenv("TETHER_BENCH_FLEET") == "" {
		t.Skip("set TETHER_BENCH_FLEET=1, or run 'make bench-fleet' (it is not part of 'make bench': it takes an hour at K=50,100,200)")
	}
	cfg := loadConfig(t)
	bin := testenv.AgentBinary(t)
	var rounds []round
	for _, k := range cfg.ks {
		t.Run(fmt.Sprintf("K=%d", k), func(t *testing.T) {
			f := newFleet(t, cfg, k, bin)
			r := round{k: k}
			joinMark := f.joinStorm(&r)
			tr := f.watchWorks(t)
			time.Sleep(cfg.settle) // a quiet period after the join, not a wait for a state
			r.createP99, r.changeP99 = f.fanOut(tr)
			f.idle(&r)
			f.restartHub(&r, joinMark)
			f.agentsAlive()
			rounds = append(rounds, r)
		})
	}
	report(rounds)
}

// report prints each figure per cluster at each K, its fit across K and
// the fit's value at 10,000 clusters.
func report(rounds []round) {
	if len(rounds) == 0 {
		return
	}
	figures := []struct {
		name string
		of   func(r round) float64
	}{
		{"idle_hub_cpu_s_per_min", func(r round) float64 { return r.hubCPUPerMin }},
		{"idle_hub_rss_mib", func(r round) float64 { return r.hubRSS }},
		{"idle_agent_requests_per_min", func(r round) float64 { return r.idleAgentReqPerMin }},
		{"idle_all_requests_per_min", func(r round) float64 { return r.idleAllReqPerMin }},
		{"idle_open_watches", func(r round) float64 { return r.watches }},
		{"join_all_ready_s", func(r round) float64 { return r.joinSecs }},
		{"restart_all_watching_s", func(r round) float64 { return r.recoverySecs }},
		{"restart_hub_requests", func(r round) float64 { return r.recoveryReqs }},
		{"fanout_create_p99_ms", func(r round) float64 { return float64(r.createP99.Milliseconds()) }},
		{"fanout_change_p99_ms", func(r round) float64 { return float64(r.changeP99.Milliseconds()) }},
	}
	var ks []float64
	for _, r := range rounds {
		ks = append(ks, float64(r.k))
	}
	for _, fig := range figures {
		var ys []float64
		line := ""
		for _, r := range rounds {
			y := fig.of(r)
			ys = append(ys, y)
			line += fmt.Sprintf(" k%d=%.4g(per_cluster=%.4g)", r.k, y, y/float64(r.k))
		}
		fit := FitLine(ks, ys)
		fmt.Printf("BENCH fleet fit %s:%s fit=%.4g+%.4g*K exponent=%.2f at_10000=%.4g\n",
			fig.name, line, fit.Intercept, fit.Slope, fit.Exponent, fit.At(10000))
	}
}
