package cluster

import (
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	karmadafake "github.com/tether-io/tether/pkg/generated/clientset/versioned/fake"
)

func fakeClusters() HeartbeatConfig {
	return HeartbeatConfig{Clusters: karmadafake.NewSimpleClientset().ClusterV1alpha1().Clusters()}
}

// The Lease is karmada-agent's (40 s); it is renewed every 12 s instead of
// 10 s, three renewals within the control plane's 40 s grace period.
func TestHeartbeatDefaults(t *testing.T) {
	base := fakeClusters()
	base.Hub, base.ClusterName, base.ClusterUID = fake.NewClientset(), "c", "u"
	cfg, err := base.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LeaseDuration != 40*time.Second {
		t.Errorf("lease duration = %s, want 40s", cfg.LeaseDuration)
	}
	if got := cfg.RenewInterval(); got != 12*time.Second {
		t.Errorf("renew interval = %s, want 12s", got)
	}
	if got := (HeartbeatConfig{}).RenewInterval(); got != 12*time.Second {
		t.Errorf("renew interval of the zero config = %s, want 12s", got)
	}
	if grace := 40 * time.Second; grace/cfg.RenewInterval() < 3 {
		t.Errorf("renew interval %s leaves fewer than 3 renewals within the control plane's %s grace period", cfg.RenewInterval(), grace)
	}
	if got := (HeartbeatConfig{LeaseDuration: 8 * time.Second, RenewFraction: 0.5}).RenewInterval(); got != 4*time.Second {
		t.Errorf("renew interval of 8s × 0.5 = %s, want 4s", got)
	}
}

func TestHeartbeatConfigRejects(t *testing.T) {
	for name, cfg := range map[string]HeartbeatConfig{
		"no client":              {ClusterName: "c", ClusterUID: "u", Clusters: fakeClusters().Clusters},
		"no cluster client":      {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u"},
		"no cluster uid":         {Hub: fake.NewClientset(), ClusterName: "c", Clusters: fakeClusters().Clusters},
		"fraction of one":        {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u", RenewFraction: 1, Clusters: fakeClusters().Clusters},
		"negative fraction":      {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u", RenewFraction: -0.1, Clusters: fakeClusters().Clusters},
		"sub-second duration":    {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u", LeaseDuration: 1500 * time.Millisecond, Clusters: fakeClusters().Clusters},
		"duration below 1s":      {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u", LeaseDuration: 500 * time.Millisecond, Clusters: fakeClusters().Clusters},
		"negative lease seconds": {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u", LeaseDuration: -time.Second, Clusters: fakeClusters().Clusters},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewHeartbeat(cfg); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
