package leader

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// These tests drive the hub lock's orchestration over an in-memory Lease
// (pure logic); test/e2e/dropin runs it against a real hub with a
// stand-in karmada-agent.

func testHubLock() HubLock {
	return HubLock{Namespace: "karmada-system", Cluster: "m1", Identity: HubIdentityPrefix + "a",
		LeaseDuration: 2 * time.Second, RenewDeadline: 1500 * time.Millisecond, RetryPeriod: 200 * time.Millisecond,
		Backoff: wait.Backoff{Duration: 10 * time.Millisecond, Factor: 1, Steps: 1000}}.defaults()
}

func hubHolder(t *testing.T, cs *fake.Clientset) string {
	t.Helper()
	l, err := cs.CoordinationV1().Leases("karmada-system").Get(context.Background(), "karmada-agent-m1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return holderOf(l)
}

func holderOf(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func karmadaAgentLease(cs *fake.Clientset, renewed time.Time) {
	holder, secs := "karmada-agent-pod_1", int32(1)
	now := metav1.NewMicroTime(renewed)
	_, _ = cs.CoordinationV1().Leases("karmada-system").Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: "karmada-system", Name: "karmada-agent-m1"},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now},
	}, metav1.CreateOptions{})
}

func leaseWrites(cs *fake.Clientset) int {
	n := 0
	for _, a := range cs.Actions() {
		if a.GetResource().Resource == "leases" && a.GetVerb() != "get" {
			n++
		}
	}
	return n
}

func TestHubLockWithoutTheLeaseRunsLeadAndWritesNothing(t *testing.T) {
	for name, setup := range map[string]func(*fake.Clientset){
		"not found": func(*fake.Clientset) {},
		"forbidden": func(cs *fake.Clientset) {
			cs.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, "karmada-agent-m1", errors.New("no"))
			})
		},
	} {
		t.Run(name, func(t *testing.T) {
			cs := fake.NewClientset()
			setup(cs)
			ran := false
			err := testHubLock().run(context.Background(), cs, func(context.Context) error { ran = true; return nil })
			if err != nil || !ran {
				t.Fatalf("run: %v, lead ran %v", err, ran)
			}
			if n := leaseWrites(cs); n != 0 {
				t.Errorf("%d Lease writes on the hub without karmada-agent's Lease", n)
			}
		})
	}
}

func TestHubLockWaitsForKarmadaAgentThenHoldsAndReleases(t *testing.T) {
	cs := fake.NewClientset()
	karmadaAgentLease(cs, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	leading := make(chan string, 1)
	out := make(chan error, 1)
	go func() {
		out <- testHubLock().run(ctx, cs, func(ctx context.Context) error {
			leading <- hubHolder(t, cs)
			<-ctx.Done()
			return nil
		})
	}()
	select {
	case h := <-leading:
		if !strings.HasPrefix(h, HubIdentityPrefix) {
			t.Errorf("lead ran while the Lease was held by %q", h)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("never took the Lease after karmada-agent's expired")
	}
	cancel()
	if err := result(t, out, 10*time.Second); err != nil {
		t.Errorf("shutdown returned %v", err)
	}
	if h := hubHolder(t, cs); h != "" {
		t.Errorf("the Lease is held by %q after a clean shutdown, want it released", h)
	}
}

func TestHubLockTakenByAnotherHolderStopsLeadAndFails(t *testing.T) {
	cs := fake.NewClientset()
	karmadaAgentLease(cs, time.Now().Add(-time.Hour))
	out := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		out <- testHubLock().run(context.Background(), cs, func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return nil
		})
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("never took the expired Lease")
	}
	l, err := cs.CoordinationV1().Leases("karmada-system").Get(context.Background(), "karmada-agent-m1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := "karmada-agent-pod_2"
	l.Spec.HolderIdentity = &other
	if _, err := cs.CoordinationV1().Leases("karmada-system").Update(context.Background(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The fake does not check resourceVersions; an apiserver refuses the
	// renewal written over the stale record with a conflict.
	cs.PrependReactor("update", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if holderOf(a.(k8stesting.UpdateAction).GetObject().(*coordinationv1.Lease)) == other {
			return false, nil, nil
		}
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, "karmada-agent-m1", errors.New("stale"))
	})
	err = result(t, out, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "lost karmada-agent's Lease") {
		t.Fatalf("run returned %v, want the Lease lost", err)
	}
	if h := hubHolder(t, cs); h != other {
		t.Errorf("the Lease was changed to %q after another holder took it", h)
	}
}

func TestHubLockLeadReturningReleasesAndFails(t *testing.T) {
	cs := fake.NewClientset()
	karmadaAgentLease(cs, time.Now().Add(-time.Hour))
	err := testHubLock().run(context.Background(), cs, func(context.Context) error { return errors.New("the work controller failed") })
	if err == nil || !strings.Contains(err.Error(), "the work controller failed") {
		t.Fatalf("run returned %v", err)
	}
	if h := hubHolder(t, cs); h != "" {
		t.Errorf("the Lease is held by %q after lead returned", h)
	}
}
