package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// TestHeartbeatMetricsCountLeaseWrites checks the counting of the wrapper
// the heartbeat writes through (pure logic; the hub test sees a
// real renewal counted): creates and updates by result, the time of the
// last success, and the series kept when a Heartbeat is built again.
func TestHeartbeatMetricsCountLeaseWrites(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newHeartbeatMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset()
	failing := true
	client.PrependReactor("update", "leases", func(clienttesting.Action) (bool, runtime.Object, error) {
		if failing {
			return true, nil, errors.New("hub down")
		}
		return false, nil, nil
	})
	now := time.Unix(1_800_000_000, 0)
	leases := observedHub{Interface: client, observe: func(err error) { m.observe(err, now) }}.CoordinationV1().Leases("karmada-cluster")
	ctx := context.Background()
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "karmada-cluster"}}
	if _, err := leases.Create(ctx, l, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err == nil {
		t.Fatal("the failing update succeeded")
	}
	if _, err := leases.Get(ctx, "c", metav1.GetOptions{}); err != nil { // reads are not counted
		t.Fatal(err)
	}
	if s, f := testutil.ToFloat64(m.renewals.WithLabelValues("success")), testutil.ToFloat64(m.renewals.WithLabelValues("failure")); s != 1 || f != 1 {
		t.Errorf("renewals: %v successes, %v failures; want 1 and 1", s, f)
	}
	if got := testutil.ToFloat64(m.lastSuccess); got != float64(now.Unix()) {
		t.Errorf("last success %v, want %d", got, now.Unix())
	}
	again, err := newHeartbeatMetrics(reg)
	if err != nil {
		t.Fatalf("a second Heartbeat on the same registry: %v", err)
	}
	failing = false
	again.observe(nil, now.Add(time.Minute))
	if s := testutil.ToFloat64(m.renewals.WithLabelValues("success")); s != 2 {
		t.Errorf("the second Heartbeat counts apart from the first: %v successes, want 2", s)
	}
}
