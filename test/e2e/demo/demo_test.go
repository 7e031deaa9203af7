// Package demo_test drives the README's demo scenario end to end through the
// built tether-agent binary: register both members through the real flow,
// run the agents as processes, apply the example, and check images, replica
// counts, the aggregate 'get works' prints, the metrics endpoint, and a
// leader failover between two agent replicas.
package demo_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/test/demo"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 2}) }

// Short leader election so a failover fits a test; the defaults are 15s/10s/2s.
var electionArgs = []string{"--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s", "--leader-elect-retry-period=1s"}

func TestDemoScenarioThroughTheBinary(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	bin := testenv.AgentBinary(t)
	opts := demo.Options{Binary: bin, AgentArgs: electionArgs, Log: t.Logf}
	agents, err := demo.Up(ctx, env, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.WaitReady(ctx, env, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	for i, m := range env.Members {
		d, err := kubernetes.NewForConfigOrDie(m.Config).AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != demo.WantImages[m.Name] {
			t.Errorf("%s: image %s, want %s", m.Name, got, demo.WantImages[m.Name])
		}
		if d.Status.ReadyReplicas != 1 || *d.Spec.Replicas != 1 {
			t.Errorf("member %d: %d/%d ready, want 1/1", i+1, d.Status.ReadyReplicas, *d.Spec.Replicas)
		}
	}
	summary, err := demo.Summary(ctx, env, bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + summary)
	line := regexp.MustCompile(`Deployment +default/nginx +2/2 +2/2 ready +- +member1 1/1 Healthy, member2 1/1 Healthy`)
	if !line.MatchString(summary) {
		t.Errorf("the summary lacks the aggregated line %q", line)
	}
	for _, want := range []string{"member1", "member2", "Pull", "True", "image nginx:1.20", "image nginx\n"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q", want)
		}
	}

	metrics := get(t, agents[0].MetricsURL)
	for _, want := range []string{"tether_work_apply_duration_seconds_bucket", `workqueue_depth{name="work"}`,
		"rest_client_requests_total", "tether_deletion_held_works", "tether_orphans_unclaimed"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	t.Run("leader failover", func(t *testing.T) { failover(t, env, opts, agents[0]) })
}

// failover starts a second replica for member1, kills the leader, and checks
// the standby takes the member Lease only once it has expired, and applies
// nothing twice.
func failover(t *testing.T, env *testenv.Env, opts demo.Options, leader *demo.Agent) {
	ctx := context.Background()
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	leases := member.CoordinationV1().Leases("karmada-system")
	lease, err := leases.Get(ctx, "karmada-agent-member1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	holder := *lease.Spec.HolderIdentity
	standby, err := demo.StartAgent(env, opts, env.Members[0])
	if err != nil {
		t.Fatal(err)
	}
	testenv.Poll(t, 200*time.Millisecond, 60*time.Second, "the standby is ready", func(context.Context) (bool, error) {
		resp, err := http.Get(standby.HealthURL)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	before, err := member.AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := leader.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// The killed leader renews no more, so the first read after the kill
	// holds its last renewal.
	last, err := leases.Get(ctx, "karmada-agent-member1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if last.Spec.HolderIdentity == nil || *last.Spec.HolderIdentity != holder || last.Spec.RenewTime == nil {
		t.Fatalf("the Lease changed hands before its duration ran out: %+v", last.Spec)
	}
	var taken *coordinationv1.Lease
	testenv.Poll(t, 200*time.Millisecond, 60*time.Second, "the standby takes the lease", func(ctx context.Context) (bool, error) {
		l, err := leases.Get(ctx, "karmada-agent-member1", metav1.GetOptions{})
		if err == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != holder {
			taken = l
			return true, nil
		}
		return false, nil
	})
	t.Logf("the standby led %s after the leader was killed (lease duration 6s, retry period 1s)", time.Since(killed))
	// Never two leaders: the standby may take the Lease only once the old
	// holder's last renewal is a whole lease duration old. Both times come
	// from agents on this machine, so they share a clock. How soon after
	// that it takes over depends on the retry period and the machine's load;
	// the deadline above bounds it, and the benchmarks measure it.
	if taken.Spec.AcquireTime == nil {
		t.Fatalf("the new holder recorded no acquire time: %+v", taken.Spec)
	}
	if gap := taken.Spec.AcquireTime.Sub(last.Spec.RenewTime.Time); gap < 6*time.Second {
		t.Errorf("the standby acquired the Lease %s after the leader's last renewal, before the 6s lease duration ran out", gap)
	}
	// The new leader works: the example stays ready, and the Deployment it
	// found applied is not written again.
	if err := demo.WaitReady(ctx, env, time.Minute); err != nil {
		t.Fatal(err)
	}
	testenv.Poll(t, 200*time.Millisecond, 60*time.Second, "the new leader has synced and reported", func(context.Context) (bool, error) {
		m := get(t, standby.MetricsURL)
		return strings.Contains(m, `workqueue_adds_total{name="work"}`), nil
	})
	after, err := member.AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Generation != before.Generation || after.Annotations["deployment.kubernetes.io/revision"] != before.Annotations["deployment.kubernetes.io/revision"] {
		t.Errorf("the Deployment was written again after the failover: generation %d -> %d", before.Generation, after.Generation)
	}
	for _, mf := range after.ManagedFields {
		if mf.Manager == "tether" && mf.Time != nil && mf.Time.After(killed) {
			t.Errorf("Tether applied the Deployment again at %s, after the failover", mf.Time)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
