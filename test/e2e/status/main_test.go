// Package status runs pkg/status/cluster against a real hub and member: the
// cluster status against sums computed by hand for kwok nodes and pods, the
// heartbeat Lease, the Ready hysteresis, join clashes, and discovery that is
// not recomputed when nothing changed. Each test acts as an agent identity
// with least-privilege RBAC on the hub (its own Cluster only).
package status

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{Members: 1, Nodes: 3, NodeCapacity: map[string]string{
		"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi",
	}})
}

// agent is one cluster's agent: its least-privilege hub identity, with every
// hub and member request it makes logged.
type agent struct {
	name              string
	hub               karmadaclient.Interface
	hubKube           kubernetes.Interface
	member            kubernetes.Interface
	hubLog, memberLog *testenv.Recorder
	// memberDown makes every member request fail as if the member were
	// unreachable.
	memberDown *switchable
}

// newAgent grants the identity system:karmada:agent:<name> exactly the
// preferred rules of statuscluster.HubTasks (with credentials in
// karmada-cluster), plus extra cluster-wide rules.
func newAgent(t *testing.T, name string, extra ...rbacv1.PolicyRule) *agent {
	t.Helper()
	env := testenv.Require(t)
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	rules := hubaccess.ByNamespace(hubaccess.PreferredRules(name, "", statuscluster.HubTasks(true)...))
	rules[""] = append(rules[""], extra...)
	testenv.NoError(t, testenv.GrantRules(ctx, env.Hub.Config, clusterv1alpha1.AgentUser(name), rules))

	hubCfg, err := env.Hub.Identity(clusterv1alpha1.AgentUser(name), clusterv1alpha1.AgentGroup)
	testenv.NoError(t, err)
	a := &agent{name: name, hubLog: &testenv.Recorder{}, memberLog: &testenv.Recorder{}, memberDown: &switchable{}}
	a.hubLog.Wrap(hubCfg)
	memberCfg := rest.CopyConfig(env.Members[0].Config)
	memberCfg.Wrap(a.memberDown.wrap)
	a.memberLog.Wrap(memberCfg)
	a.hub = karmadaclient.NewForConfigOrDie(hubCfg)
	a.hubKube = kubernetes.NewForConfigOrDie(hubCfg)
	a.member = kubernetes.NewForConfigOrDie(memberCfg)

	t.Cleanup(func() {
		hub := karmadaclient.NewForConfigOrDie(env.Hub.Config)
		_ = hub.ClusterV1alpha1().Clusters().Delete(ctx, name, metav1.DeleteOptions{})
		_ = admin.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Delete(ctx, name, metav1.DeleteOptions{})
	})
	return a
}

// join joins with settings named after the agent, waiting out the moment
// the hub's RBAC cache has not seen the new roles yet.
func (a *agent) join(t *testing.T, mutate ...func(*statuscluster.JoinConfig)) *statuscluster.JoinResult {
	t.Helper()
	cfg := statuscluster.JoinConfig{Hub: a.hub, Member: a.member, Settings: statuscluster.Settings{
		Name: a.name, APIEndpoint: "https://member.example:6443", Provider: "kwok", Region: "test", Zones: []string{"z1"},
	}}
	for _, m := range mutate {
		m(&cfg)
	}
	var res *statuscluster.JoinResult
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		res, err = statuscluster.Join(ctx, cfg)
		if apierrors.IsForbidden(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("join %s: %v", a.name, err)
	}
	return res
}

// runStatus starts a StatusController with short intervals; it stops when
// the test ends.
func (a *agent) runStatus(t *testing.T, cfg statuscluster.StatusConfig) {
	t.Helper()
	cfg.ClusterName, cfg.Hub, cfg.Member = a.name, a.hub, a.member
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	sc, err := statuscluster.NewStatusController(cfg)
	testenv.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("status controller: %v", err)
		}
	})
}

// waitCluster polls the agent's Cluster (as admin) until ok accepts it.
func waitCluster(t *testing.T, name string, timeout time.Duration, what string, ok func(*clusterv1alpha1.Cluster) bool) *clusterv1alpha1.Cluster {
	t.Helper()
	hub := karmadaclient.NewForConfigOrDie(testenv.Require(t).Hub.Config)
	var last *clusterv1alpha1.Cluster
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		c, err := hub.ClusterV1alpha1().Clusters().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = c
		return ok(c), nil
	})
	if err != nil {
		t.Fatalf("cluster %s: %s within %s: %v; last status: %+v", name, what, timeout, err, statusOf(last))
	}
	return last
}

func statusOf(c *clusterv1alpha1.Cluster) any {
	if c == nil {
		return nil
	}
	return c.Status
}

func readyIs(status metav1.ConditionStatus, reason string) func(*clusterv1alpha1.Cluster) bool {
	return func(c *clusterv1alpha1.Cluster) bool {
		for _, cond := range c.Status.Conditions {
			if cond.Type == clusterv1alpha1.ClusterConditionReady {
				return cond.Status == status && cond.Reason == reason
			}
		}
		return false
	}
}

// since matches the requests answered at or after t whose path starts
// with prefix.
func since(t time.Time, prefix string) func(testenv.Request) bool {
	return func(r testenv.Request) bool { return !r.At.Before(t) && strings.HasPrefix(r.Path, prefix) }
}

// waitHubQuiet waits until the agent has written nothing to the hub for
// quiet, so a test can measure a member at rest (an earlier test's objects
// may still be going away).
func (a *agent) waitHubQuiet(t *testing.T, quiet, timeout time.Duration) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		for _, r := range a.hubLog.Requests(since(time.Now().Add(-quiet), "/")) {
			if r.Method != http.MethodGet {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("the agent kept writing to the hub: %v", err)
	}
}

// switchable breaks the member on demand: unreachable fails every request,
// unhealthy answers /readyz and /healthz with 503.
type switchable struct {
	mu    sync.Mutex
	state memberState
}

type memberState int

const (
	memberUp memberState = iota
	memberUnreachable
	memberUnhealthy
)

func (s *switchable) set(state memberState) { s.mu.Lock(); s.state = state; s.mu.Unlock() }

func (s *switchable) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		s.mu.Lock()
		state := s.state
		s.mu.Unlock()
		switch {
		case state == memberUnreachable:
			return nil, errors.New("test: member unreachable")
		case state == memberUnhealthy && (req.URL.Path == "/readyz" || req.URL.Path == "/healthz"):
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable", Proto: "HTTP/1.1",
				ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
		}
		return rt.RoundTrip(req)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// observe polls cond every 200ms for d and fails the test the first time it
// does not hold: the way to assert that something does not happen.
func observe(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := cond(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		<-time.After(200 * time.Millisecond)
	}
}

func ensureNamespace(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	testenv.NoError(t, testenv.IgnoreExists(cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})))
}
