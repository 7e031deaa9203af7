package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// AgentNamespace is the member namespace of the leader-election Lease of an
// agent that StartAgent runs (register's default).
const AgentNamespace = "karmada-system"

// agentStopGrace is how long Stop waits for a graceful exit before SIGKILL.
const agentStopGrace = 30 * time.Second

// AgentOptions shape an agent process.
type AgentOptions struct {
	// Cluster is the cluster name on the hub (default: the member's name).
	Cluster string
	// Member is the index in Env.Members of the member the agent manages.
	Member int
	// HubKubeconfig is the agent's hub kubeconfig (default: AgentKubeconfig
	// against the hub's URL, which also grants the agent its hub RBAC).
	HubKubeconfig string
	// Args are extra 'tether-agent run' flags; a flag given here overrides
	// StartAgent's value of it.
	Args []string
	// Env are extra environment variables ("NAME=value").
	Env []string
	// Binary is the tether-agent to run (default: ./cmd/agent, built once
	// per environment).
	Binary string
}

// AgentProcess is a 'tether-agent run' process started by StartAgent.
type AgentProcess struct {
	Name    string
	Cluster string
	// MetricsURL is the agent's /metrics; HealthURL the base of its probes.
	MetricsURL, HealthURL string
	// Log is the agent's log file (console format, -v 2).
	Log string

	env  *Env
	exe  string
	args []string
	vars []string

	mu   sync.Mutex
	proc *Process
}

// StartAgent runs the agent as deployed, in its own process: leader
// election on (a Lease in AgentNamespace of the member, which it creates),
// metrics and probes on free loopback ports, console logs at -v 2 in the
// environment's logs directory. It does not wait for readiness (see
// WaitReady). The process dies with the test binary and is stopped when
// the test ends; if the test failed, the log's path and last lines are
// printed.
func StartAgent(t testing.TB, env *Env, o AgentOptions) *AgentProcess {
	t.Helper()
	if o.Member < 0 || o.Member >= len(env.Members) {
		t.Fatalf("StartAgent: member index %d, the environment has %d members", o.Member, len(env.Members))
	}
	m := env.Members[o.Member]
	if o.Cluster == "" {
		o.Cluster = m.Name
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if o.HubKubeconfig == "" {
		if o.HubKubeconfig, err = env.Hub.AgentKubeconfig(ctx, o.Cluster, env.Hub.URL); err != nil {
			t.Fatalf("StartAgent: %v", err)
		}
	}
	if o.Binary == "" {
		if o.Binary, err = env.agentBinary(); err != nil {
			t.Fatalf("StartAgent: %v", err)
		}
	}
	if err := ensureNamespace(ctx, m, AgentNamespace); err != nil {
		t.Fatalf("StartAgent: %v", err)
	}
	ports, err := FreePorts(2)
	if err != nil {
		t.Fatalf("StartAgent: %v", err)
	}
	a := &AgentProcess{Cluster: o.Cluster, env: env, exe: o.Binary, vars: o.Env,
		MetricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[0]),
		HealthURL:  fmt.Sprintf("http://127.0.0.1:%d", ports[1])}
	a.args = append([]string{"run",
		"--cluster-name", o.Cluster, "--karmada-kubeconfig", o.HubKubeconfig,
		"--kubeconfig", m.Kubeconfig, "--cluster-api-endpoint", m.URL,
		"--leader-elect=true", "--leader-elect-resource-namespace", AgentNamespace,
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"--log-format", "console", "-v", "2",
	}, o.Args...)
	a.Name = "agent-" + o.Cluster
	for i := 2; env.HasProcess(a.Name); i++ {
		a.Name = fmt.Sprintf("agent-%s-%d", o.Cluster, i)
	}
	if err := a.start(); err != nil {
		t.Fatalf("StartAgent: %v", err)
	}
	t.Cleanup(func() {
		code := a.Stop()
		if t.Failed() {
			t.Logf("agent %s (exit code %d), log %s; last lines:\n%s", a.Name, code, a.Log, tail(a.Log, 40))
		}
	})
	return a
}

func (a *AgentProcess) start() error {
	p, err := a.env.spawnEnv(a.Name, a.vars, a.exe, a.args...)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.proc, a.Log = p, p.Log
	a.mu.Unlock()
	return nil
}

// Process is the running (or last) process of the agent, for its pid.
func (a *AgentProcess) Process() *Process {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.proc
}

// Kill ends the agent with SIGKILL, as a crash would, and waits until it is gone.
func (a *AgentProcess) Kill() {
	p := a.Process()
	_ = p.Kill()
	p.Stop(agentStopGrace)
}

// Stop sends SIGTERM, waits for the agent to exit (SIGKILL after 30 s), and
// returns its exit code (-1 when a signal ended it).
func (a *AgentProcess) Stop() int {
	p := a.Process()
	p.Stop(agentStopGrace)
	code, _ := p.Exited()
	return code
}

// Exited reports whether the agent has exited and its exit code.
func (a *AgentProcess) Exited() (code int, done bool) { return a.Process().Exited() }

// Restart starts the agent again with the same options, ports and log
// (appended to). The previous process must have exited.
func (a *AgentProcess) Restart(t testing.TB) {
	t.Helper()
	if _, done := a.Exited(); !done {
		t.Fatalf("restart agent %s: it is still running (pid %d); Kill or Stop it first", a.Name, a.Process().Pid)
	}
	if f, err := os.OpenFile(a.Log, os.O_WRONLY|os.O_APPEND, 0); err == nil {
		fmt.Fprintf(f, "===== testenv: agent restarted at %s =====\n", time.Now().Format(time.RFC3339Nano))
		f.Close()
	}
	if err := a.start(); err != nil {
		t.Fatalf("restart agent %s: %v", a.Name, err)
	}
}

// Healthz is the HTTP status of the agent's /healthz, 0 when unreachable.
func (a *AgentProcess) Healthz() int { return probe(a.HealthURL + "/healthz") }

// Readyz is the HTTP status of the agent's /readyz, 0 when unreachable.
func (a *AgentProcess) Readyz() int { return probe(a.HealthURL + "/readyz") }

// WaitReady waits until /readyz answers 200, failing the test when the
// agent exits or timeout passes first.
func (a *AgentProcess) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), pollInterval, timeout, true, func(context.Context) (bool, error) {
		if code, done := a.Exited(); done {
			return false, fmt.Errorf("exited with code %d", code)
		}
		return a.Readyz() == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("agent %s not ready: %v; log %s, last lines:\n%s", a.Name, err, a.Log, tail(a.Log, 30))
	}
}

// Metrics scrapes the agent's /metrics.
func (a *AgentProcess) Metrics() (map[string]*dto.MetricFamily, error) {
	resp, err := probeClient.Get(a.MetricsURL)
	if err != nil {
		return nil, fmt.Errorf("scrape agent %s: %w", a.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape agent %s: %s answered %s", a.Name, a.MetricsURL, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape agent %s: %w", a.Name, err)
	}
	return families, nil
}

var probeClient = &http.Client{Timeout: 2 * time.Second}

func probe(url string) int {
	resp, err := probeClient.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// agentBinary builds ./cmd/agent into the environment's directory once.
func (e *Env) agentBinary() (string, error) {
	e.binMu.Lock()
	defer e.binMu.Unlock()
	if e.agentBin != "" {
		return e.agentBin, nil
	}
	dir := filepath.Join(e.Dir, "bin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	bin, err := BuildAgent(dir)
	if err != nil {
		return "", err
	}
	e.agentBin = bin
	return bin, nil
}

func ensureNamespace(ctx context.Context, c *Cluster, name string) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := IgnoreExists(cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})); err != nil {
		return fmt.Errorf("create namespace %s in %s: %w", name, c.Name, err)
	}
	return nil
}
