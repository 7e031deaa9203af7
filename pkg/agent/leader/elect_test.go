package leader

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/tether-io/tether/test/testenv"
)

// These tests drive the election's orchestration over an in-memory Lease
// (a fake clientset: pure logic). test/e2e/agent runs it against a real
// member apiserver, and the agent binary against real faults.

func testConfig(cs *fake.Clientset, id string) Config {
	return Config{Client: cs, Namespace: "karmada-system", Name: "karmada-agent-m1", Identity: id,
		LeaseDuration: 1500 * time.Millisecond, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond,
		Gate: NewGate(time.Second), Grace: 2 * time.Second}
}

func holder(t *testing.T, cs *fake.Clientset) string {
	t.Helper()
	l, err := cs.CoordinationV1().Leases("karmada-system").Get(context.Background(), "karmada-agent-m1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// runAsync runs Run and returns its result on a channel.
func runAsync(ctx context.Context, cfg Config, lead func(context.Context) error) <-chan error {
	out := make(chan error, 1)
	go func() { out <- Run(ctx, cfg, lead) }()
	return out
}

func result(t *testing.T, out <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-out:
		return err
	case <-time.After(within):
		t.Fatalf("Run did not return within %s", within)
		return nil
	}
}

func TestLeadReturningGivesUpTheLeaseAndFails(t *testing.T) {
	cs := fake.NewClientset()
	cfg := testConfig(cs, "a")
	var allowedWhileLeading atomic.Bool
	out := runAsync(context.Background(), cfg, func(context.Context) error {
		allowedWhileLeading.Store(cfg.Gate.Allowed())
		return errors.New("the work controller failed")
	})
	err := result(t, out, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "the work controller failed") || !strings.Contains(err.Error(), "gave up the leader Lease") {
		t.Fatalf("Run returned %v, want an error naming the controllers' error", err)
	}
	if !allowedWhileLeading.Load() {
		t.Error("writes were refused while this replica led")
	}
	if h := holder(t, cs); h != "" {
		t.Errorf("the Lease is still held by %q after lead returned, want it released", h)
	}
	if cfg.Gate.Allowed() {
		t.Error("the gate is open after Run returned")
	}
}

func TestLeadReturningNilStillFails(t *testing.T) {
	cfg := testConfig(fake.NewClientset(), "a")
	err := result(t, runAsync(context.Background(), cfg, func(context.Context) error { return nil }), 10*time.Second)
	if err == nil {
		t.Fatal("lead returned while the process was live and Run returned nil; the process would exit 0 or, before, keep a zombie Lease")
	}
}

// On shutdown the gate closes first, lead is cancelled and waited for, and
// only then is the Lease released.
func TestShutdownClosesTheGateThenStopsLeadThenReleases(t *testing.T) {
	cs := fake.NewClientset()
	cfg := testConfig(cs, "a")
	var leadReturned, releasedAfterLead, gateOpenAtRelease atomic.Bool
	var released atomic.Bool
	cs.PrependReactor("update", "leases", func(action k8stesting.Action) (bool, runtime.Object, error) {
		l := action.(k8stesting.UpdateAction).GetObject().(*coordinationv1.Lease)
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
			released.Store(true)
			releasedAfterLead.Store(leadReturned.Load())
			gateOpenAtRelease.Store(cfg.Gate.Allowed())
		}
		return false, nil, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	leading := make(chan struct{})
	var gateClosedWhenCancelled atomic.Bool
	out := runAsync(ctx, cfg, func(ctx context.Context) error {
		close(leading)
		<-ctx.Done()
		gateClosedWhenCancelled.Store(!cfg.Gate.Allowed())
		time.Sleep(300 * time.Millisecond) // a reconcile winding down
		leadReturned.Store(true)
		return nil
	})
	select {
	case <-leading:
	case <-time.After(10 * time.Second):
		t.Fatal("never became the leader")
	}
	cancel()
	if err := result(t, out, 10*time.Second); err != nil {
		t.Fatalf("shutdown: Run returned %v, want nil", err)
	}
	if !gateClosedWhenCancelled.Load() {
		t.Error("lead's context ended while writes were still allowed")
	}
	if !released.Load() || !releasedAfterLead.Load() {
		t.Errorf("released=%v, after lead returned=%v: the Lease must be released once lead has returned", released.Load(), releasedAfterLead.Load())
	}
	if gateOpenAtRelease.Load() {
		t.Error("writes were allowed when the Lease was released")
	}
	if h := holder(t, cs); h != "" {
		t.Errorf("the Lease is held by %q after shutdown", h)
	}
}

// A replica whose renewals fail stops writing within the renew deadline and
// exits with an error.
func TestLostLeaseClosesTheGateAndFails(t *testing.T) {
	cs := fake.NewClientset()
	cfg := testConfig(cs, "a")
	var failRenewals atomic.Bool
	cs.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failRenewals.Load() {
			return true, nil, errors.New("member apiserver unreachable")
		}
		return false, nil, nil
	})
	var refusedAt atomic.Int64
	var failedAt time.Time
	out := runAsync(context.Background(), cfg, func(ctx context.Context) error {
		failedAt = time.Now()
		failRenewals.Store(true)
		_ = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			return !cfg.Gate.Allowed(), nil
		})
		refusedAt.Store(time.Now().UnixNano())
		<-ctx.Done()
		return nil
	})
	err := result(t, out, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "lost the leader Lease") {
		t.Fatalf("Run returned %v, want it to say the Lease was lost", err)
	}
	if d := time.Unix(0, refusedAt.Load()).Sub(failedAt); d > cfg.LeaseDuration {
		t.Errorf("writes were allowed %s after the last renewal, longer than the lease duration %s", d, cfg.LeaseDuration)
	}
}

func TestShutdownBeforeLeadingReturnsNil(t *testing.T) {
	cs := fake.NewClientset()
	other := "b"
	now := metav1.NewMicroTime(time.Now())
	secs := int32(60)
	_, err := cs.CoordinationV1().Leases("karmada-system").Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: "karmada-system", Name: "karmada-agent-m1"},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &other, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := runAsync(ctx, testConfig(cs, "a"), func(context.Context) error { t.Error("led while another replica held the Lease"); return nil })
	testenv.Eventually(t, 10*time.Second, "the standby to read the Lease", func() (bool, error) {
		for _, a := range cs.Actions() {
			if a.GetVerb() == "get" && a.GetResource().Resource == "leases" {
				return true, nil
			}
		}
		return false, nil
	})
	cancel()
	if err := result(t, out, 5*time.Second); err != nil {
		t.Fatalf("a standby's shutdown returned %v", err)
	}
	if h := holder(t, cs); h != "b" {
		t.Errorf("a standby's shutdown changed the Lease holder to %q", h)
	}
}
