package cluster

import (
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

func TestHeartbeatDefaultsMatchKarmada(t *testing.T) {
	cfg, err := HeartbeatConfig{Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LeaseDuration != 40*time.Second {
		t.Errorf("lease duration = %s, want 40s", cfg.LeaseDuration)
	}
	if got := cfg.RenewInterval(); got != 10*time.Second {
		t.Errorf("renew interval = %s, want 10s", got)
	}
	if got := (HeartbeatConfig{}).RenewInterval(); got != 10*time.Second {
		t.Errorf("renew interval of the zero config = %s, want 10s", got)
	}
	if got := (HeartbeatConfig{LeaseDuration: 8 * time.Second, RenewFraction: 0.5}).RenewInterval(); got != 4*time.Second {
		t.Errorf("renew interval of 8s × 0.5 = %s, want 4s", got)
	}
}

func TestHeartbeatConfigRejects(t *testing.T) {
	for name, cfg := range map[string]HeartbeatConfig{
		"no client":              {ClusterName: "c", ClusterUID: "u"},
		"no cluster uid":         {Hub: fake.NewClientset(), ClusterName: "c"},
		"fraction of one":        {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u", RenewFraction: 1},
		"negative fraction":      {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u", RenewFraction: -0.1},
		"sub-second duration":    {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u", LeaseDuration: 1500 * time.Millisecond},
		"duration below 1s":      {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u", LeaseDuration: 500 * time.Millisecond},
		"negative lease seconds": {Hub: fake.NewClientset(), ClusterName: "c", ClusterUID: "u", LeaseDuration: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewHeartbeat(cfg); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
