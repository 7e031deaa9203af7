// Package testenv starts a real multi-cluster environment on loopback: a hub
// and N member clusters made of kube-apiserver, kube-controller-manager,
// kube-scheduler, etcd and kwok processes built from Go modules (see
// hack/build-testenv.sh). Integration tests use it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1}) }
//	func TestX(t *testing.T) { env := testenv.Require(t); hub := env.Hub.Config ... }
//
// The hub runs etcd, kube-apiserver with bootstrap-token auth and RBAC, and a
// kube-controller-manager with bootstrapsigner, tokencleaner and csrsigning; it
// is prepared the way kubeadm prepares a cluster (cluster-info ConfigMap,
// anonymous read of it, bootstrappers may create CSRs) and has Tether's CRDs.
// Each member runs kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok with fake Nodes of configurable capacity.
//
// Environment switches:
//
//	TESTENV_KEEP=1       leave the environment running after the tests, for
//	                     debugging; its directory and kubeconfigs are printed.
//	TESTENV_ATTACH=DIR   use the environment already running in DIR (started by
//	                     'go run ./test/testenv/cmd/testenv up'); it is not stopped.
//	TESTENV_SKIP=1       skip every test that needs the environment.
//	TESTENV_BIN=DIR      where the control-plane binaries are (default: bin/).
//	TESTENV_PROFILING=1  serve /debug/pprof on the apiservers (to profile a benchmark).
package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options shape an environment. Zero values take the defaults.
type Options struct {
	// Members is the number of member clusters (default 1; 0 means hub only
	// only when HubOnly is set).
	Members int
	// HubOnly starts no member at all.
	HubOnly bool
	// Nodes is the number of kwok Nodes per member (default 3).
	Nodes int
	// NodeCapacity is every fake Node's capacity and allocatable
	// (default cpu 16, memory 64Gi, pods 110, ephemeral-storage 100Gi).
	NodeCapacity map[string]string
	// Bin is where the binaries are (default $TESTENV_BIN, then <repo>/bin).
	Bin string
	// Detached leaves the processes running when this process exits (used by
	// TESTENV_KEEP and the standalone 'up' command).
	Detached bool
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...any)
	// Audit makes every kube-apiserver write an audit log (level Metadata,
	// JSON lines) that Cluster.AuditEvents reads, to count requests by user.
	Audit bool
}

// Cluster is one running control plane.
type Cluster struct {
	Name string `json:"name"`
	// URL is the apiserver's https address on 127.0.0.1.
	URL string `json:"url"`
	// Kubeconfig is the path of an admin kubeconfig (group system:masters).
	Kubeconfig string `json:"kubeconfig"`
	// PKIDir holds the cluster's CA; Identity signs client certificates with it.
	PKIDir string `json:"pkiDir"`
	// Config is an admin rest config (QPS 200, burst 400).
	Config *rest.Config `json:"-"`
	// AuditLog is the apiserver's audit log, when Options.Audit is set.
	AuditLog string `json:"auditLog,omitempty"`
}

// Env is a running hub and its members.
type Env struct {
	Dir       string     `json:"dir"`
	EtcdData  string     `json:"etcdData"`
	Hub       *Cluster   `json:"hub"`
	Members   []*Cluster `json:"members"`
	Processes []*Process `json:"processes"`
	// StartedIn is how long Start took.
	StartedIn time.Duration `json:"startedIn"`
	// Detached processes outlive the process that started them.
	Detached bool `json:"detached"`

	owned bool // Stop tears it down (false when attached)
	audit bool // the apiservers write audit logs (Options.Audit)

	mu       sync.Mutex // guards Processes once tests run, and the state file
	binMu    sync.Mutex // guards agentBin
	agentBin string     // the tether-agent binary StartAgent built, once
}

const stateFile = "env.json"

// RepoRoot returns the repository root, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func (o *Options) defaults() {
	if o.Members == 0 && !o.HubOnly {
		o.Members = 1
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.NodeCapacity == nil {
		o.NodeCapacity = map[string]string{"cpu": "16", "memory": "64Gi", "pods": "110", "ephemeral-storage": "100Gi"}
	}
	if o.Bin == "" {
		o.Bin = os.Getenv("TESTENV_BIN")
	}
	if o.Bin == "" {
		o.Bin = filepath.Join(RepoRoot(), "bin")
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
}

// Start builds the binaries if needed, then starts a hub and the members and
// waits until every component is ready. On error nothing is left running.
func Start(ctx context.Context, o Options) (env *Env, err error) {
	o.defaults()
	t0 := time.Now()
	reapStale()
	if err := ensureBinaries(ctx, o); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tether-testenv-")
	if err != nil {
		return nil, err
	}
	env = &Env{Dir: dir, owned: true, Detached: o.Detached, audit: o.Audit}
	defer func() {
		if err != nil {
			_ = env.Stop()
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return env, err
	}
	if o.Detached {
		// A detached environment has no owner to outlive; reapStale leaves it alone.
		_ = os.Remove(filepath.Join(dir, "owner.pid"))
	}
	if err := env.launch(ctx, o); err != nil {
		return env, err
	}
	env.StartedIn = time.Since(t0)
	o.Log("environment ready in %s (%s)", env.StartedIn.Round(100*time.Millisecond), dir)
	return env, env.save()
}

// Attach returns the environment running in dir. Stop on it does nothing.
func Attach(dir string) (*Env, error) {
	raw, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, fmt.Errorf("no environment in %s (start one with 'go run ./test/testenv/cmd/testenv up'): %w", dir, err)
	}
	env := &Env{}
	if err := json.Unmarshal(raw, env); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, stateFile), err)
	}
	for _, c := range env.clusters() {
		if c.Config, err = restConfig(c.Kubeconfig); err != nil {
			return nil, err
		}
	}
	for _, p := range env.Processes {
		if !p.alive() {
			return nil, fmt.Errorf("environment in %s is not running: %s (pid %d) exited; see %s", dir, p.Name, p.Pid, p.Log)
		}
	}
	return env, nil
}

// Stop stops every process the environment started (etcd last) and removes
// its directories. It is a no-op for an attached environment.
func (e *Env) Stop() error {
	if e == nil || !e.owned {
		return nil
	}
	return e.teardown()
}

// Down stops the environment in dir, whoever started it.
func Down(dir string) error {
	env, err := Attach(dir)
	if err != nil {
		// Stop whatever is recorded even if some process already exited.
		raw, rerr := os.ReadFile(filepath.Join(dir, stateFile))
		if rerr != nil {
			return err
		}
		env = &Env{}
		if jerr := json.Unmarshal(raw, env); jerr != nil {
			return jerr
		}
	}
	return env.teardown()
}

func (e *Env) teardown() error {
	var others, etcd []*Process
	procs := e.processes()
	for _, p := range procs {
		if p.Name == "etcd" {
			etcd = append(etcd, p)
		} else {
			others = append(others, p)
		}
	}
	stopProcesses(others, 10*time.Second)
	stopProcesses(etcd, 10*time.Second)
	var errs []error
	for _, p := range procs {
		if p.alive() {
			errs = append(errs, fmt.Errorf("%s (pid %d) did not stop", p.Name, p.Pid))
		}
	}
	if e.EtcdData != "" {
		errs = append(errs, os.RemoveAll(e.EtcdData))
	}
	errs = append(errs, os.RemoveAll(e.Dir))
	return errors.Join(errs...)
}

// Spawn starts a process that belongs to the environment (an agent, an
// approver): it logs to the environment's logs directory, is recorded in its
// state, and is stopped with it by Stop or Down.
func (e *Env) Spawn(name, exe string, args ...string) (*Process, error) {
	return e.spawnEnv(name, nil, exe, args...)
}

// spawnEnv is Spawn with extra environment variables. A process started
// under the name of one that exited replaces it in the state.
func (e *Env) spawnEnv(name string, env []string, exe string, args ...string) (*Process, error) {
	p, err := startProcessEnv(name, filepath.Join(e.Dir, "logs"), e.Detached, env, exe, args...)
	if err != nil {
		return nil, err
	}
	return p, e.track(p)
}

// track records p in the state, in place of an exited process of the same name.
func (e *Env) track(p *Process) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	replaced := false
	for i, old := range e.Processes {
		if old.Name == p.Name && !old.alive() {
			e.Processes[i], replaced = p, true
			break
		}
	}
	if !replaced {
		e.Processes = append(e.Processes, p)
	}
	return e.save()
}

// HasProcess reports whether a process of that name was started.
func (e *Env) HasProcess(name string) bool { return e.proc(name) != nil }

// processes is a snapshot of the recorded processes.
func (e *Env) processes() []*Process {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*Process(nil), e.Processes...)
}

func (e *Env) clusters() []*Cluster { return append([]*Cluster{e.Hub}, e.Members...) }

func (e *Env) save() error {
	raw, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(e.Dir, stateFile), raw, 0o600)
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	return cfg, nil
}

// reapStale removes the directories of environments whose owning test binary
// died without stopping them (a panic or a timeout). Their processes died
// with it (Pdeathsig); the directories did not.
func reapStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "tether-testenv-*"))
	for _, d := range dirs {
		raw, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue // detached, or not ours
		}
		pid, err := strconv.Atoi(string(raw))
		if err != nil || pid <= 0 {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // owner still running
		}
		if env, err := readState(d); err == nil && env.EtcdData != "" {
			_ = os.RemoveAll(env.EtcdData)
		}
		_ = os.RemoveAll(d)
	}
}

func readState(dir string) (*Env, error) {
	raw, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	env := &Env{}
	return env, json.Unmarshal(raw, env)
}
