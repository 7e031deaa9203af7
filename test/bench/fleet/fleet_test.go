package fleetbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// memberUserPrefix starts the member user name of every agent: each agent
// has its own member identity (system:masters, as an in-cluster agent's
// ServiceAccount bound to cluster-admin), so that the members' audit logs
// tell the agents' writes from the benchmark's.
const memberUserPrefix = "tether-agent:"

// fleet is one environment with K agents, one cluster each.
type fleet struct {
	t        *testing.T
	cfg      config
	k        int
	env      *testenv.Env
	bin      string
	hub      versioned.Interface
	hubKube  kubernetes.Interface
	clusters []string
	// args and vars of each agent, by cluster index, ready to spawn.
	args [][]string
	pids []int
	// watchesBefore are the hub's open watches before the agents started.
	watchesBefore float64
	// restartCPU is the CPU sample taken when the hub restart began.
	restartCPU cpuSplit
}

// clusterName is the i-th cluster's name; its member namespace for its
// objects has the same name.
func clusterName(i int) string { return fmt.Sprintf("fleet-%03d", i) }

// newFleet starts a fresh hub and members and prepares K agents (hub
// identity and RBAC, member identity and namespaces) without starting them.
func newFleet(t *testing.T, cfg config, k int, bin string) *fleet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.Options{Members: cfg.members, Nodes: 3, Audit: true,
		NodeCapacity: map[string]string{"cpu": "1000", "memory": "4000Gi", "pods": "3000"},
		Log:          func(format string, args ...any) { t.Logf("testenv: "+format, args...) }})
	if err != nil {
		t.Fatalf("start the environment: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Logf("stop the environment: %v", err)
		}
	})
	f := &fleet{t: t, cfg: cfg, k: k, env: env, bin: bin, hub: versioned.NewForConfigOrDie(env.Hub.Config),
		hubKube: kubernetes.NewForConfigOrDie(env.Hub.Config), args: make([][]string, k)}
	for i := range k {
		f.clusters = append(f.clusters, clusterName(i))
	}
	for _, m := range env.Members {
		f.namespace(ctx, m, testenv.AgentNamespace)
	}
	// One call, so that no two agents get the same port.
	ports, err := testenv.FreePorts(2 * k)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var errs []error
	testenv.Parallel(k, 8, func(i int) {
		if err := f.prepare(ctx, i, ports[2*i:2*i+2]); err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	})
	if len(errs) > 0 {
		t.Fatalf("prepare %d agents: %v (and %d more)", len(errs), errs[0], len(errs)-1)
	}
	return f
}

func (f *fleet) member(i int) *testenv.Cluster { return f.env.Members[i%len(f.env.Members)] }

func (f *fleet) namespace(ctx context.Context, c *testenv.Cluster, name string) {
	f.t.Helper()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		f.t.Fatalf("create namespace %s in %s: %v", name, c.Name, err)
	}
}

// prepare gives agent i what register would: its hub RBAC and client
// certificate (AgentKubeconfig), and a member identity; it creates the
// cluster's member namespace and the agent's arguments.
func (f *fleet) prepare(ctx context.Context, i int, ports []int) error {
	name, m := f.clusters[i], f.member(i)
	hubKC, err := f.env.Hub.AgentKubeconfig(ctx, name, f.env.Hub.URL)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	memberKC, err := m.IdentityKubeconfig(memberUserPrefix+name, "system:masters")
	if err != nil {
		return fmt.Errorf("cluster %s: member identity: %w", name, err)
	}
	cs := kubernetes.NewForConfigOrDie(m.Config)
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("cluster %s: member namespace: %w", name, err)
	}
	f.args[i] = append([]string{"run",
		"--cluster-name", name, "--karmada-kubeconfig", hubKC,
		"--kubeconfig", memberKC, "--cluster-api-endpoint", m.URL,
		"--leader-elect=true", "--leader-elect-resource-namespace", testenv.AgentNamespace,
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"--log-format", "console", "-v", "1",
	}, f.cfg.agentArgs...)
	return nil
}

// startAgents spawns every agent at once (the join storm) and returns
// when all are started.
func (f *fleet) startAgents() {
	f.t.Helper()
	f.pids = make([]int, f.k)
	var mu sync.Mutex
	var errs []error
	testenv.Parallel(f.k, 16, func(i int) {
		p, err := f.spawn(i)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		f.pids[i] = p.Pid
	})
	if len(errs) > 0 {
		f.t.Fatalf("start %d agents: %v", len(errs), errs[0])
	}
}

func (f *fleet) spawn(i int) (*testenv.Process, error) {
	name := "agent-" + f.clusters[i]
	if len(f.cfg.agentEnv) == 0 {
		return f.env.Spawn(name, f.bin, f.args[i]...)
	}
	// Spawn has no environment argument; a wrapper sets it.
	return f.env.Spawn(name, "/usr/bin/env", append(append(append([]string(nil), f.cfg.agentEnv...), f.bin), f.args[i]...)...)
}

// agentsAlive fails the test when an agent exited, with its log's tail.
func (f *fleet) agentsAlive() {
	f.t.Helper()
	for i, pid := range f.pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			log := filepath.Join(f.env.Dir, "logs", "agent-"+f.clusters[i]+".log")
			raw, _ := os.ReadFile(log)
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			f.t.Fatalf("agent of %s (pid %d) exited; log %s ends:\n%s", f.clusters[i], pid, log,
				strings.Join(lines[max(0, len(lines)-20):], "\n"))
		}
	}
}

// readyClusters counts the Cluster objects whose Ready condition is True.
func (f *fleet) readyClusters(ctx context.Context) (int, error) {
	list, err := f.hub.ClusterV1alpha1().Clusters().List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range list.Items {
		if meta.IsStatusConditionTrue(c.Status.Conditions, clusterv1alpha1.ClusterConditionReady) {
			n++
		}
	}
	return n, nil
}

// hubAPIServerPid is the pid of the hub's running kube-apiserver.
func (f *fleet) hubAPIServerPid() int {
	f.t.Helper()
	name := f.env.Hub.Name + "-apiserver"
	pid := 0
	for _, p := range f.env.Processes {
		if p.Name == name && p.Alive() {
			pid = p.Pid
		}
	}
	if pid == 0 {
		f.t.Fatalf("no running %s", name)
	}
	return pid
}

// agentUsers tells the agents' hub users from others.
func isAgentUser(u string) bool { return strings.HasPrefix(u, clusterv1alpha1.AgentUserPrefix) }

// hubEvents are the hub's audit events since mark.
func (f *fleet) hubEvents(mark testenv.AuditMark) []testenv.AuditEvent {
	f.t.Helper()
	evs, err := f.env.Hub.AuditEvents(mark, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return evs
}

func (f *fleet) hubMark() testenv.AuditMark {
	f.t.Helper()
	m, err := f.env.Hub.AuditMark()
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

// memberMarks are the members' audit marks, and memberWrites the agents'
// member writes since them: leader-election Lease writes apart from all others.
func (f *fleet) memberMarks() []testenv.AuditMark {
	f.t.Helper()
	var out []testenv.AuditMark
	for _, m := range f.env.Members {
		mk, err := m.AuditMark()
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, mk)
	}
	return out
}

func (f *fleet) memberWrites(marks []testenv.AuditMark, from time.Time) (leases, other int, otherByResource map[string]int) {
	f.t.Helper()
	otherByResource = map[string]int{}
	for i, m := range f.env.Members {
		evs, err := m.AuditEvents(marks[i], func(ev testenv.AuditEvent) bool {
			return strings.HasPrefix(ev.User, memberUserPrefix) && ev.IsWrite()
		})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, ev := range Requests(evs, from) {
			if ev.Resource == "leases" {
				leases++
				continue
			}
			other++
			otherByResource[ev.Verb+" "+ev.Resource]++
		}
	}
	return leases, other, otherByResource
}
