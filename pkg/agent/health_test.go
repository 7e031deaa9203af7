package agent

import (
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestProbes(t *testing.T) {
	h := newHealth()
	srv := httptest.NewServer(h.handler())
	defer srv.Close()
	for _, path := range []string{"/healthz", "/readyz"} {
		if got := probe(t, srv.URL+path); got != "503 starting" {
			t.Errorf("%s before the clients are built: %q", path, got)
		}
	}
	h.setLive()
	// A standby replica registers no checks: live and ready.
	for _, path := range []string{"/healthz", "/readyz"} {
		if got := probe(t, srv.URL+path); got != "200 ok" {
			t.Errorf("standby %s: %q", path, got)
		}
	}
	var stalled, synced atomic.Bool
	h.addLive("work-sync", func() error {
		if stalled.Load() {
			return errors.New("no Work reconcile finished in 5m0s")
		}
		return nil
	})
	h.addReady("work-sync", func() error {
		if !synced.Load() {
			return errors.New("the hub caches have not synced")
		}
		return nil
	})
	if got := probe(t, srv.URL+"/readyz"); got != "503 work-sync: the hub caches have not synced" {
		t.Errorf("/readyz before the caches synced: %q", got)
	}
	if got := probe(t, srv.URL+"/healthz"); got != "200 ok" {
		t.Errorf("/healthz of a live controller: %q", got)
	}
	synced.Store(true)
	stalled.Store(true)
	if got := probe(t, srv.URL+"/healthz"); !strings.HasPrefix(got, "503 work-sync: no Work reconcile finished") {
		t.Errorf("/healthz of a stalled controller: %q", got)
	}
	if got := probe(t, srv.URL+"/readyz"); got != "200 ok" {
		t.Errorf("/readyz of a synced controller: %q", got)
	}
}

func TestValidateLivenessAndControllers(t *testing.T) {
	for args, want := range map[string]string{
		"--liveness-stall-timeout=-1s": "--liveness-stall-timeout must not be negative",
		"--controllers=certRotation":   "enables none of clusterStatus, execution and workStatus",
		"--hub-reconnect-max-delay=0s": "--hub-reconnect-max-delay must be at least 1s",
	} {
		_, _, err := parse(t, append([]string{"--cluster-name=m1", "--karmada-kubeconfig=k"}, strings.Fields(args)...)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("args %q: got %v, want an error containing %q", args, err, want)
		}
	}
	o, _, err := parse(t, "--cluster-name=m1", "--karmada-kubeconfig=k")
	if err != nil || o.LivenessStallTimeout.String() != "5m0s" {
		t.Errorf("default --liveness-stall-timeout %s (err %v), want 5m", o.LivenessStallTimeout, err)
	}
	if o.HubReconnectMaxDelay.String() != "8s" {
		t.Errorf("default --hub-reconnect-max-delay %s, want 8s", o.HubReconnectMaxDelay)
	}
}
