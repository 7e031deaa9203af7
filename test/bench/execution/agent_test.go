package executionbench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tether-io/tether/test/testenv"
)

// agent is a 'tether-agent run' process attached to the environment, so
// its RSS and CPU are its own and not the load generator's. Requests are
// counted by the agent itself (client-go's request metrics, by host).
type agent struct {
	proc                *testenv.Process
	metrics, ready      string
	hubHost, memberHost string
}

// startAgent runs the agent with its defaults except the worker count and
// leader election (off, so that no lease renewal counts as a member write).
func startAgent(t *testing.T, env *testenv.Env, bin, name string) *agent {
	t.Helper()
	ports, err := testenv.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	m := env.Members[0]
	a := &agent{metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[0]), ready: fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[1]),
		hubHost: hostOf(t, env.Hub.URL), memberHost: hostOf(t, m.URL)}
	args := []string{"run",
		"--kubeconfig", m.Kubeconfig, "--karmada-kubeconfig", env.Hub.Kubeconfig,
		"--cluster-name", m.Name, "--cluster-api-endpoint", m.URL,
		"--concurrent-work-syncs", strconv.Itoa(benchWorkers()), "--leader-elect=false",
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[1])}
	// TETHER_BENCH_AGENT_ARGS adds flags, e.g. "--enable-pprof --profiling-bind-address=127.0.0.1:6060".
	args = append(args, strings.Fields(os.Getenv("TETHER_BENCH_AGENT_ARGS"))...)
	proc, err := env.Spawn(name, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	a.proc = proc
	if err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		if !proc.Alive() {
			return false, fmt.Errorf("the agent exited; see %s", proc.Log)
		}
		resp, err := http.Get(a.ready)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}); err != nil {
		t.Fatalf("agent %s not ready: %v", name, err)
	}
	return a
}

func (a *agent) stop() { a.proc.Stop(30 * time.Second) }

// sample is one scrape of the agent's metrics.
type sample struct {
	hubReads, hubWrites, memberReads, memberWrites float64
	series                                         map[string]float64 // "name{labels}" -> value
}

func (s sample) hub() float64         { return s.hubReads + s.hubWrites }
func (s sample) get(k string) float64 { return s.series[k] }

func (a *agent) scrape(t *testing.T) sample {
	t.Helper()
	resp, err := http.Get(a.metrics)
	if err != nil {
		t.Fatalf("scrape %s: %v", a.metrics, err)
	}
	defer resp.Body.Close()
	s, err := parseMetrics(resp.Body, a.hubHost, a.memberHost)
	if err != nil {
		t.Fatalf("scrape %s: %v", a.metrics, err)
	}
	return s
}

// parseMetrics reads the Prometheus text format (expfmt): every series by
// "name{label="value",...}" (a histogram's as name_sum and name_count), and
// client-go's request counts summed per host into reads (GET, which
// includes lists and watches) and writes (every other method).
func parseMetrics(r io.Reader, hubHost, memberHost string) (sample, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return sample{}, err
	}
	s := sample{series: map[string]float64{}}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			var pairs []string
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
				pairs = append(pairs, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			suffix := ""
			if len(pairs) > 0 {
				suffix = "{" + strings.Join(pairs, ",") + "}"
			}
			switch {
			case m.GetHistogram() != nil:
				s.series[name+"_sum"+suffix] = m.GetHistogram().GetSampleSum()
				s.series[name+"_count"+suffix] = float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				s.series[name+suffix] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				s.series[name+suffix] = m.GetGauge().GetValue()
			case m.GetUntyped() != nil:
				s.series[name+suffix] = m.GetUntyped().GetValue()
			}
			if name != "rest_client_requests_total" {
				continue
			}
			v, read := m.GetCounter().GetValue(), labels["method"] == http.MethodGet
			switch {
			case labels["host"] == hubHost && read:
				s.hubReads += v
			case labels["host"] == hubHost:
				s.hubWrites += v
			case labels["host"] == memberHost && read:
				s.memberReads += v
			case labels["host"] == memberHost:
				s.memberWrites += v
			}
		}
	}
	return s, nil
}

func hostOf(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
