package dropin

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/tether-io/tether/test/karmadamember"
	"github.com/tether-io/tether/test/testenv"
)

// standIn is a stand-in for a running karmada-agent: client-go's elector
// on karmada-agent's hub Lease with karmada-agent's settings (lock type
// leases, 15s/10s/2s), which does not release the Lease when stopped (a
// killed pod).
type standIn struct {
	identity string
	stop     context.CancelFunc
	done     chan struct{}
}

func startStandIn(t *testing.T, hub kubernetes.Interface, cluster, identity string) *standIn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &standIn{identity: identity, stop: cancel, done: make(chan struct{})}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Namespace: karmadamember.Namespace, Name: "karmada-agent-" + cluster},
			Client: hub.CoordinationV1(), LockConfig: resourcelock.ResourceLockConfig{Identity: identity}},
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
		Callbacks: leaderelection.LeaderCallbacks{OnStartedLeading: func(context.Context) {}, OnStoppedLeading: func() {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { defer close(s.done); le.Run(ctx) }()
	t.Cleanup(s.halt)
	return s
}

// halt stops renewing, as a killed karmada-agent does.
func (s *standIn) halt() { s.stop(); <-s.done }

// hubLease reads karmada-agent's Lease on the hub.
func hubLease(t *testing.T, hub kubernetes.Interface, cluster string) *coordinationv1.Lease {
	t.Helper()
	l, err := hub.CoordinationV1().Leases(karmadamember.Namespace).Get(context.Background(), "karmada-agent-"+cluster, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("read karmada-agent's hub Lease: %v", err)
	}
	return l
}

func holderOf(l *coordinationv1.Lease) string {
	if l == nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// waitHolder waits until the hub Lease's holder satisfies want.
func waitHolder(t *testing.T, hub kubernetes.Interface, cluster string, timeout time.Duration, what string, want func(string) bool) *coordinationv1.Lease {
	t.Helper()
	var l *coordinationv1.Lease
	testenv.Eventually(t, timeout, what, func() (bool, error) {
		var err error
		l, err = hub.CoordinationV1().Leases(karmadamember.Namespace).Get(context.Background(), "karmada-agent-"+cluster, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		return want(holderOf(l)), nil
	})
	return l
}

func isTether(holder string) bool { return strings.HasPrefix(holder, "tether-agent_") }
