// Package driftbench benchmarks drift on a real hub and member, with the
// agent (tether-agent run) in its own process: a burst of member-side edits
// of an owned field, one per Work, made at once by another field manager,
// and per edit the time until the hub shows the Work's drift record (time
// to report) and until the member object is back at the manifest's value
// (time to repair), the agent's hub and member writes per drift episode
// (from the apiservers' audit logs) and its CPU during the burst. A second,
// smaller run under the report mode shows the time to report and that the
// agent leaves the edits alone. The benchmarks run only with
// TETHER_BENCH=1 ('make bench'); the unit tests of their helpers always do.
package driftbench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv("TETHER_BENCH") == "" {
		// No environment: the benchmarks skip (testenv.Require), the unit
		// tests of the helpers run.
		fmt.Println("test/bench/drift: benchmarks skipped (set TETHER_BENCH=1, or run 'make bench')")
		os.Exit(m.Run())
	}
	testenv.Main(m, testenv.Options{Members: 1, Nodes: 1, Audit: true})
}

// count reads a positive integer knob, def when unset or not one.
func count(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// run is one burst: n Works, each with one ConfigMap whose data.key the
// burst edits.
type run struct {
	name      string // "correct" or "report", in the BENCH lines
	mode      string // the manifests' tether.io/drift-mode annotation ("" for the agent's default)
	namespace string // the member namespace of the ConfigMaps
	prefix    string // the Works' and ConfigMaps' names
	n         int
}

const (
	modeAnnotation = "tether.io/drift-mode"
	editManager    = "kubectl-edit"
	driftPath      = "/data/key"
	originalValue  = "v0"
	editedValue    = "edited"
)

// TestBenchDriftCorrect: the default mode. Every edit is a drift episode
// that the agent reports and repairs.
func TestBenchDriftCorrect(t *testing.T) {
	env := testenv.Require(t)
	r := run{name: "correct", namespace: "drift-correct", prefix: "correct-", n: count("TETHER_BENCH_DRIFT_EDITS", 500)}
	b := setup(t, env, r)
	res := b.burst(t)
	res.print(r)
	if res.repaired != r.n {
		t.Errorf("%d of %d edits repaired", res.repaired, r.n)
	}
	b.checkReports(t, res, "Corrected")
	if per := float64(res.hub.workStatus) / float64(r.n); per > 1 {
		t.Errorf("%.2f hub Work status writes per drift episode, the target is at most 1", per)
	}
}

// TestBenchDriftReport: the report mode. The agent reports every edit and
// leaves it: no member write.
func TestBenchDriftReport(t *testing.T) {
	env := testenv.Require(t)
	if os.Getenv("TETHER_BENCH_QUICK") != "" {
		t.Skip("TETHER_BENCH_QUICK: the correct-mode burst only")
	}
	r := run{name: "report", mode: "report", namespace: "drift-report", prefix: "report-", n: count("TETHER_BENCH_DRIFT_REPORT_EDITS", 100)}
	b := setup(t, env, r)
	res := b.burst(t)
	res.print(r)
	if res.member.writes != 0 || res.repaired != 0 {
		t.Errorf("report mode: the agent made %d member writes and repaired %d of %d edits; want none", res.member.writes, res.repaired, r.n)
	}
	if still := b.stillEdited(t); still != r.n {
		t.Errorf("report mode: %d of %d objects keep the edit; want all", still, r.n)
	}
	b.checkReports(t, res, "Drifted")
	if per := float64(res.hub.workStatus) / float64(r.n); per > 1 {
		t.Errorf("%.2f hub Work status writes per drift episode, the target is at most 1", per)
	}
}

// checkReports fails the test when some Works, and not all, got a drift
// record, or when the records lack the edit's path, manager or state. No
// record at all is printed, not failed: the bench still measures the
// repair against an agent that writes none.
func (b *bench) checkReports(t *testing.T, res result, state string) {
	t.Helper()
	switch {
	case res.reported == 0:
		fmt.Printf("BENCH drift %s time_to_report: none (no Work on the hub showed a drift record within %s)\n", b.run.name, reportWait)
	case res.reported != b.run.n:
		t.Errorf("%d of %d Works showed a drift record", res.reported, b.run.n)
	default:
		if got := b.ep.recordsWith(driftPath, editManager, state); got != b.run.n {
			t.Errorf("%d of %d drift records list %s by %s in state %s", got, b.run.n, driftPath, editManager, state)
		}
	}
}

// agentArgs are the agent's flags in the bench: leader election off (no
// Lease renewal among the member writes), its default log level, and
// TETHER_BENCH_AGENT_ARGS (e.g. "--enable-pprof
// --profiling-bind-address=127.0.0.1:6060").
func agentArgs() []string {
	return append([]string{"--leader-elect=false", "-v", "0"}, strings.Fields(os.Getenv("TETHER_BENCH_AGENT_ARGS"))...)
}
