package testenv

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// TestFaultInjection drives every fault control on a real environment with
// audit logs: a write by one user shows in the hub's audit log, the hub
// apiserver is stopped and started again (a client fails, then succeeds),
// paused and resumed, and an agent process runs through a proxy with the
// identity and RBAC register gives it, is cut off and killed. Stopping the
// environment then leaves no process behind, the restarted apiserver and
// the agent included.
func TestFaultInjection(t *testing.T) {
	skipWithoutEnv(t)
	ctx := context.Background()
	env, err := Start(ctx, Options{Members: 1, Nodes: 1, Audit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	hub := env.Hub

	writer := "testenv:writer"
	mark, err := hub.AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	if err := Grant(ctx, hub.Config, writer, "default", []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create", "get"}}}); err != nil {
		t.Fatal(err)
	}
	writerCfg, err := hub.Identity(writer)
	if err != nil {
		t.Fatal(err)
	}
	createConfigMap(t, writerCfg, "audited-1")
	Eventually(t, 10*time.Second, "the writer's create in the hub's audit log", func() (bool, error) {
		evs, err := hub.AuditEvents(mark, WritesBy(writer))
		if err != nil || len(evs) == 0 {
			return false, err
		}
		ev := evs[0]
		if len(evs) != 1 || ev.Verb != "create" || ev.Resource != "configmaps" || ev.Namespace != "default" ||
			ev.Name != "audited-1" || ev.Code != http.StatusCreated || ev.Stage != "ResponseComplete" || ev.Time.IsZero() {
			return false, fmt.Errorf("want one create of configmaps default/audited-1 answered 201, got %+v", evs)
		}
		return true, nil
	})

	t.Run("stop and start the hub apiserver", func(t *testing.T) { stopStartHub(t, env, writerCfg, mark) })
	t.Run("pause and resume the hub apiserver", func(t *testing.T) { pauseResumeHub(t, env) })
	t.Run("agent through a proxy", func(t *testing.T) { agentThroughProxy(t, env) })

	procs := env.processes()
	if err := env.Stop(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, procs, env.Dir, env.EtcdData)
}

func stopStartHub(t *testing.T, env *Env, writerCfg *rest.Config, mark AuditMark) {
	ctx := context.Background()
	admin := shortTimeout(env.Hub.Config)
	t0 := time.Now()
	if err := env.StopAPIServer(env.Hub); err != nil {
		t.Fatal(err)
	}
	t.Logf("hub apiserver stopped in %s", time.Since(t0).Round(10*time.Millisecond))
	if _, err := admin.Discovery().ServerVersion(); err == nil {
		t.Fatal("the hub answers with its apiserver stopped")
	}
	t0 = time.Now()
	if err := env.StartAPIServer(ctx, env.Hub); err != nil {
		t.Fatal(err)
	}
	t.Logf("hub apiserver ready again in %s", time.Since(t0).Round(10*time.Millisecond))
	if _, err := admin.Discovery().ServerVersion(); err != nil {
		t.Fatalf("the hub does not answer after StartAPIServer: %v", err)
	}
	// The restarted apiserver appends to the same audit log.
	createConfigMap(t, writerCfg, "audited-2")
	Eventually(t, 10*time.Second, "both creates in the audit log across the restart", func() (bool, error) {
		evs, err := env.Hub.AuditEvents(mark, WritesBy("testenv:writer"))
		return len(evs) == 2 && evs[1].Name == "audited-2", err
	})
}

func pauseResumeHub(t *testing.T, env *Env) {
	admin := shortTimeout(env.Hub.Config)
	if err := env.PauseAPIServer(env.Hub); err != nil {
		t.Fatal(err)
	}
	_, err := admin.Discovery().ServerVersion()
	if rerr := env.ResumeAPIServer(env.Hub); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil {
		t.Fatal("the hub answered while its apiserver was paused")
	}
	Eventually(t, 30*time.Second, "the hub answers after ResumeAPIServer", func() (bool, error) {
		_, err := admin.Discovery().ServerVersion()
		return err == nil, err
	})
}

func agentThroughProxy(t *testing.T, env *Env) {
	ctx := context.Background()
	proxy, err := NewProxy(env.Hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	cluster := env.Members[0].Name
	kubeconfig, err := env.Hub.AgentKubeconfig(ctx, cluster, proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	mark, err := env.Hub.AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	// A short Lease, so that the restarted agent does not wait 15 s for the
	// killed one's to expire.
	a := StartAgent(t, env, AgentOptions{HubKubeconfig: kubeconfig, Args: []string{
		"--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms"}})
	a.WaitReady(t, 2*time.Minute)
	if code := a.Healthz(); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if proxy.Accepted() == 0 {
		t.Error("the agent reached the hub without the proxy")
	}
	agentUser := clusterv1alpha1.AgentUser(cluster)
	Eventually(t, 10*time.Second, "the agent's writes under its own user in the hub's audit log", func() (bool, error) {
		evs, err := env.Hub.AuditEvents(mark, WritesBy(agentUser))
		return len(evs) > 0, err
	})
	if families, err := a.Metrics(); err != nil || len(families) == 0 {
		t.Errorf("metrics: %d families, %v", len(families), err)
	}

	refused := proxy.Refused()
	proxy.Cut()
	Eventually(t, time.Minute, "the agent tries the hub again through the cut proxy", func() (bool, error) {
		return proxy.Refused() > refused, nil
	})
	proxy.Restore()

	a.Kill()
	code, done := a.Exited()
	if !done || code != -1 {
		t.Fatalf("after Kill: exited %v with code %d, want killed by a signal (-1)", done, code)
	}
	if got := a.Healthz(); got != 0 {
		t.Errorf("/healthz of a killed agent = %d, want 0 (unreachable)", got)
	}
	a.Restart(t)
	a.WaitReady(t, 2*time.Minute)
	if code := a.Stop(); code != 0 {
		t.Errorf("agent exit code after SIGTERM = %d, want 0", code)
	}
}

func createConfigMap(t *testing.T, cfg *rest.Config, name string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps("default").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// shortTimeout is a client that gives up on a request after 3 s.
func shortTimeout(cfg *rest.Config) *kubernetes.Clientset {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 3 * time.Second
	return kubernetes.NewForConfigOrDie(cfg)
}
