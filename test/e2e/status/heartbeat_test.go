package status

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	statuscluster "github.com/tether-io/tether/pkg/status/cluster"
	"github.com/tether-io/tether/test/testenv"
)

// TestLeaseRenewsWhileRunningAndStopsWhenStopped runs the heartbeat with a
// 4s lease renewed every second (the 10s default is proven by the unit test
// of the config), checks the renewals, the Lease's holder and owner, and
// that renewals stop with the context.
func TestLeaseRenewsWhileRunningAndStopsWhenStopped(t *testing.T) {
	env := testenv.Require(t)
	leases := kubernetes.NewForConfigOrDie(env.Hub.Config).CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace)
	a := newAgent(t, "heartbeat")
	res := a.join(t)

	cfg := statuscluster.HeartbeatConfig{Hub: a.hubKube, Clusters: a.hub.ClusterV1alpha1().Clusters(), ClusterName: a.name, ClusterUID: res.Cluster.UID,
		LeaseDuration: 4 * time.Second, RenewFraction: 0.25}
	interval := cfg.RenewInterval()
	hb, err := statuscluster.NewHeartbeat(cfg)
	testenv.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	start := time.Now()
	go func() { hb.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })

	// Collect the distinct renewTimes seen over ~8 intervals.
	var renewals []time.Time
	observe(t, 8*interval, "lease renewals", func() error {
		l, err := leases.Get(context.Background(), a.name, metav1.GetOptions{})
		if err != nil || l.Spec.RenewTime == nil {
			return nil // not created yet
		}
		if n := len(renewals); n == 0 || !renewals[n-1].Equal(l.Spec.RenewTime.Time) {
			renewals = append(renewals, l.Spec.RenewTime.Time)
		}
		return nil
	})
	if len(renewals) < 5 {
		t.Fatalf("saw %d renewals in %s, want at least 5 at a %s interval", len(renewals), 8*interval, interval)
	}
	mean := renewals[len(renewals)-1].Sub(renewals[0]) / time.Duration(len(renewals)-1)
	if mean < interval*9/10 || mean > 2*interval {
		t.Errorf("mean renewal interval %s, want about %s", mean, interval)
	}
	puts := 0
	for _, r := range a.hubLog.Requests(since(start, "/apis/coordination.k8s.io/")) {
		if r.Method == http.MethodPut {
			puts++
		}
	}
	if puts > len(renewals)+2 {
		t.Errorf("%d lease updates for %d renewals: want one request per renewal", puts, len(renewals))
	}

	l, err := leases.Get(context.Background(), a.name, metav1.GetOptions{})
	testenv.NoError(t, err)
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != a.name || l.Spec.LeaseDurationSeconds == nil || *l.Spec.LeaseDurationSeconds != 4 {
		t.Errorf("lease spec = %+v, want holder %s and 4s", l.Spec, a.name)
	}
	want := metav1.OwnerReference{APIVersion: "cluster.karmada.io/v1alpha1", Kind: "Cluster", Name: a.name, UID: res.Cluster.UID}
	if len(l.OwnerReferences) != 1 || l.OwnerReferences[0] != want {
		t.Errorf("lease owners = %+v, want [%+v]", l.OwnerReferences, want)
	}

	cancel()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Heartbeat.Run did not return after its context ended")
	}
	last := l.Spec.RenewTime.Time
	if latest, err := leases.Get(context.Background(), a.name, metav1.GetOptions{}); err == nil {
		last = latest.Spec.RenewTime.Time
	}
	observe(t, 4*interval, "no renewal after stop", func() error {
		l, err := leases.Get(context.Background(), a.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !l.Spec.RenewTime.Time.Equal(last) {
			return fmt.Errorf("renewed at %s after the heartbeat stopped", l.Spec.RenewTime.Time)
		}
		return nil
	})
}
