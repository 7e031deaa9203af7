package cluster

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

const (
	spreadHeartbeats = 8
	// spreadInterval is their renew interval (a 20 s Lease renewed at half).
	spreadInterval = 10 * time.Second
	// minSpread is the least range of their renewal times that counts as
	// spread: 8 times drawn uniformly over 10 s fall within 2 s with a
	// probability of about 1e-4 (over the 7.5 s a capped retry spans, about
	// 1e-3); renewals in step fall within a second.
	minSpread = 2 * time.Second
)

// Heartbeats started together (a fleet's join storm) renew at different
// points of the interval, and after their link to the hub was cut and
// restored (a hub restart) they do not come back in step: their
// renewals are spread over at least a fifth of the interval both times.
// The Lease PUTs are counted by a recording transport in front of a TCP
// proxy to the real hub.
func TestHeartbeatsStartedTogetherRenewApart(t *testing.T) {
	env := testenv.Require(t)
	proxy, err := testenv.NewProxy(env.Hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	rec := &testenv.Recorder{}
	karmada := versioned.NewForConfigOrDie(env.Hub.Config)
	ctx, cancel := context.WithCancel(context.Background())
	var hbs []*Heartbeat
	for i := range spreadHeartbeats {
		name := fmt.Sprintf("hb-spread-%d", i)
		c, err := karmada.ClusterV1alpha1().Clusters().Create(ctx, &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: clusterv1alpha1.ClusterSpec{SyncMode: clusterv1alpha1.Pull}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		// A client each, as each agent has: one client's rate limiter would
		// queue them all and release them together.
		cfg := rest.CopyConfig(env.Hub.Config)
		cfg.Host = proxy.URL()
		kube := kubernetes.NewForConfigOrDie(rec.Wrap(cfg))
		hb, err := NewHeartbeat(HeartbeatConfig{Hub: kube, Clusters: karmada.ClusterV1alpha1().Clusters(), ClusterName: name, ClusterUID: c.UID,
			LeaseDuration: 2 * spreadInterval, RenewFraction: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		hbs = append(hbs, hb)
		t.Cleanup(func() {
			_ = karmada.ClusterV1alpha1().Clusters().Delete(context.Background(), name, metav1.DeleteOptions{})
		})
	}
	done := make(chan struct{}, len(hbs))
	for _, hb := range hbs {
		go func() { hb.Run(ctx); done <- struct{}{} }()
	}
	t.Cleanup(func() {
		cancel()
		for range hbs {
			<-done
		}
	})

	// The first periodic renewal of each, after the one at start.
	renewals := func(after time.Time) []time.Time {
		first := map[string]time.Time{}
		for _, r := range rec.Requests(func(r testenv.Request) bool {
			return r.Method == http.MethodPut && r.Code == http.StatusOK && r.At.After(after) && strings.Contains(r.Path, "/leases/hb-spread-")
		}) {
			name := r.Path[strings.LastIndex(r.Path, "/")+1:]
			if _, ok := first[name]; !ok {
				first[name] = r.At
			}
		}
		out := make([]time.Time, 0, len(first))
		for _, at := range first {
			out = append(out, at)
		}
		return out
	}
	var at []time.Time
	testenv.Eventually(t, 3*spreadInterval, "every heartbeat renewed its Lease once after the start", func() (bool, error) {
		at = renewals(time.Time{})
		return len(at) == spreadHeartbeats, nil
	})
	if r := spread(at); r < minSpread {
		t.Errorf("heartbeats started together renewed within %s of each other, want a spread of at least %s", r, minSpread)
	}

	proxy.Cut()
	cut := time.Now()
	testenv.Eventually(t, time.Minute, "the cut link (a renewal interval and a half)", func() (bool, error) {
		return time.Since(cut) > spreadInterval*3/2, nil
	})
	proxy.Restore()
	back := time.Now()
	testenv.Eventually(t, 3*spreadInterval, "every heartbeat renewed its Lease after the link came back", func() (bool, error) {
		at = renewals(back)
		return len(at) == spreadHeartbeats, nil
	})
	if r := spread(at); r < minSpread {
		t.Errorf("after the link to the hub came back, the heartbeats renewed within %s of each other, want a spread of at least %s", r, minSpread)
	}
}

// spread is the range of times.
func spread(times []time.Time) time.Duration {
	return slices.MaxFunc(times, time.Time.Compare).Sub(slices.MinFunc(times, time.Time.Compare))
}
