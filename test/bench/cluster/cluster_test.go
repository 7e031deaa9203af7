// Package cluster benchmarks the cluster-status half of the agent on a real
// hub and a member with 5,000 kwok nodes and 20,000 pods: the agent's memory
// (process RSS and the heap its slim Node and Pod caches hold) and the hub
// requests it sends per minute at rest. The agent runs in a child process
// of the test binary, attached to the same environment, so its RSS is its
// own and not the load generator's. It runs only with TETHER_BENCH=1
// ('make bench'); TETHER_BENCH_NODES and TETHER_BENCH_PODS scale it down.
package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/hubaccess"
	statuscluster "github.com/tether-io/tether/pkg/status/cluster"
	"github.com/tether-io/tether/test/testenv"
)

// agentEnv marks the child process that plays the agent.
const agentEnv = "TETHER_BENCH_CLUSTER_AGENT"

const (
	clusterName = "bench"
	benchNS     = "bench"
)

func TestMain(m *testing.M) {
	if os.Getenv("TETHER_BENCH") == "" {
		fmt.Println("test/bench/cluster: skipped (set TETHER_BENCH=1, or run 'make bench')")
		os.Exit(0)
	}
	// The child attaches to the parent's environment through TESTENV_ATTACH.
	testenv.Main(m, testenv.Options{Members: 1, Nodes: 3})
}

func count(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestClusterStatusAtScale fills the member, then runs the agent as a child
// process and relays its BENCH lines.
func TestClusterStatusAtScale(t *testing.T) {
	if os.Getenv(agentEnv) != "" {
		t.Skip("running as the agent")
	}
	env := testenv.Require(t)
	nodes, pods := count("TETHER_BENCH_NODES", 5000), count("TETHER_BENCH_PODS", 20000)
	member := kubernetes.NewForConfigOrDie(withQPS(env.Members[0].Config, 1000))
	t0 := time.Now()
	createNodes(t, member, nodes)
	t.Logf("created %d nodes in %s", nodes, time.Since(t0).Round(time.Second))
	t1 := time.Now()
	createPods(t, member, nodes, pods)
	t.Logf("created %d pods in %s", pods, time.Since(t1).Round(time.Second))

	cmd := exec.Command(os.Args[0], "-test.run=^TestAgent$", "-test.v", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), agentEnv+"=1", "TESTENV_ATTACH="+env.Dir,
		fmt.Sprintf("TETHER_BENCH_WANT=%d,%d", nodes+3, pods))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("agent process: %v", err)
	}
}

// TestAgent is the child: it joins, heartbeats and reports the status, waits
// until the status covers every node and pod, then measures.
func TestAgent(t *testing.T) {
	if os.Getenv(agentEnv) == "" {
		t.Skip("only in the agent process")
	}
	env := testenv.Require(t)
	var wantNodes, wantPods int32
	if _, err := fmt.Sscanf(os.Getenv("TETHER_BENCH_WANT"), "%d,%d", &wantNodes, &wantPods); err != nil {
		t.Fatalf("TETHER_BENCH_WANT: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	goruntime.GC()
	heapBefore := heapInuse()
	resetPeakRSS()

	hubCfg := agentIdentity(t, env)
	hubRequests := &testenv.Recorder{}
	hubRequests.Wrap(hubCfg)
	hub := karmadaclient.NewForConfigOrDie(hubCfg)
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	start := time.Now()
	res, err := statuscluster.Join(ctx, statuscluster.JoinConfig{Hub: hub, Member: member, Settings: statuscluster.Settings{Name: clusterName}})
	if err != nil {
		t.Fatal(err)
	}
	hb, err := statuscluster.NewHeartbeat(statuscluster.HeartbeatConfig{Hub: kubernetes.NewForConfigOrDie(hubCfg), Clusters: hub.ClusterV1alpha1().Clusters(), ClusterName: clusterName, ClusterUID: res.Cluster.UID})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := statuscluster.NewStatusController(statuscluster.StatusConfig{ClusterName: clusterName, Hub: hub, Member: member})
	if err != nil {
		t.Fatal(err)
	}
	go hb.Run(ctx)
	go func() { _ = sc.Run(ctx) }()

	// Wait until the hub shows every node Ready and every pod allocated.
	admin := karmadaclient.NewForConfigOrDie(env.Hub.Config)
	var last *clusterv1alpha1.Cluster
	err = wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		c, err := admin.ClusterV1alpha1().Clusters().Get(ctx, clusterName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = c
		n, rs := c.Status.NodeSummary, c.Status.ResourceSummary
		if n == nil || rs == nil || n.TotalNum != wantNodes || n.ReadyNum != wantNodes {
			return false, nil
		}
		allocated := rs.Allocated[corev1.ResourcePods]
		return allocated.Value() == int64(wantPods), nil
	})
	if err != nil {
		t.Fatalf("the status did not cover %d nodes and %d pods: %v; last: %+v %+v", wantNodes, wantPods, err, last.Status.NodeSummary, last.Status.ResourceSummary)
	}
	full := time.Since(start)
	peak := testenv.ProcStatusMiB(os.Getpid(), "VmHWM")
	goruntime.GC()
	debug.FreeOSMemory()
	heapAfter, rss := heapInuse(), testenv.ProcStatusMiB(os.Getpid(), "VmRSS")

	// At rest: a minute of hub requests (Lease renewals, any status write).
	idleStart := hubRequests.Count(nil)
	writesStart := hubRequests.Count(statusWrite)
	<-time.After(time.Minute)
	idle := hubRequests.Count(nil) - idleStart
	writes := hubRequests.Count(statusWrite) - writesStart

	fmt.Printf("BENCH cluster-status nodes=%d pods=%d time_to_full_status_s=%.1f\n", wantNodes, wantPods, full.Seconds())
	fmt.Printf("BENCH cluster-status rss_mib=%d peak_rss_mib=%d cache_heap_mib=%.1f idle_hub_requests_per_min=%d idle_status_writes_per_min=%d\n",
		rss, peak, float64(int64(heapAfter)-int64(heapBefore))/(1<<20), idle, writes)
	if idle > 10 {
		t.Errorf("%d idle hub requests in a minute, want at most 10", idle)
	}
	if rss > 150 {
		t.Errorf("agent RSS %d MiB, want at most 150", rss)
	}
}

func withQPS(cfg *rest.Config, qps float32) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = qps, int(2*qps)
	return c
}

// createNodes creates kwok nodes with 32 cpu, 128Gi and 110 pods each; the
// agent later waits until kwok has made them all Ready.
func createNodes(t *testing.T, member kubernetes.Interface, n int) {
	t.Helper()
	ctx := context.Background()
	v, err := member.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	capacity := corev1.ResourceList{"cpu": resource.MustParse("32"), "memory": resource.MustParse("128Gi"), "pods": resource.MustParse("110")}
	parallel(t, n, func(i int) error {
		return testenv.CreateFakeNode(ctx, member, fmt.Sprintf("bench-node-%04d", i), capacity, v.GitVersion)
	})
}

// createPods creates pods bound to the bench nodes round-robin, 100m and
// 128Mi each; kwok's pod-ready stage makes them Running.
func createPods(t *testing.T, member kubernetes.Interface, nodes, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := member.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The ServiceAccount admission plugin rejects pods until the default SA exists.
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := member.CoreV1().ServiceAccounts(benchNS).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	requests := corev1.ResourceList{"cpu": resource.MustParse("100m"), "memory": resource.MustParse("128Mi")}
	parallel(t, n, func(i int) error {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-pod-%05d", i), Namespace: benchNS,
				Labels: map[string]string{"app": "bench", "shard": strconv.Itoa(i % 50)}},
			Spec: corev1.PodSpec{
				NodeName:   fmt.Sprintf("bench-node-%04d", i%nodes),
				Containers: []corev1.Container{{Name: "app", Image: "registry.example/bench/app:1.0", Resources: corev1.ResourceRequirements{Requests: requests}}},
			},
		}
		_, err := member.CoreV1().Pods(benchNS).Create(ctx, p, metav1.CreateOptions{})
		return err
	})
}

// parallel runs fn for 0..n-1 on 32 workers and fails on the first error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
}

// agentIdentity grants system:karmada:agent:bench the least-privilege hub
// RBAC of pkg/status/cluster (the preferred rules of its HubTasks) and
// returns its config.
func agentIdentity(t *testing.T, env *testenv.Env) *rest.Config {
	t.Helper()
	ctx := context.Background()
	user := clusterv1alpha1.AgentUser(clusterName)
	rules := hubaccess.ByNamespace(hubaccess.PreferredRules(clusterName, "", statuscluster.HubTasks(false)...))
	if err := testenv.GrantRules(ctx, env.Hub.Config, user, rules); err != nil {
		t.Fatal(err)
	}
	cfg, err := env.Hub.Identity(user, clusterv1alpha1.AgentGroup)
	if err != nil {
		t.Fatal(err)
	}
	// Let the hub's RBAC cache see the new bindings before the agent starts.
	probe := karmadaclient.NewForConfigOrDie(cfg)
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := probe.ClusterV1alpha1().Clusters().Get(ctx, clusterName, metav1.GetOptions{})
		return !apierrors.IsForbidden(err), nil
	})
	return cfg
}

// statusWrite matches the writes of a status subresource.
func statusWrite(r testenv.Request) bool {
	return r.Method != http.MethodGet && strings.HasSuffix(r.Path, "/status")
}

func heapInuse() uint64 {
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapInuse
}

// resetPeakRSS restarts VmHWM from the current RSS (Linux clear_refs 5).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
