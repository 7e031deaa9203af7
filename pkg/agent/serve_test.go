package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPprofFlagsServeProfiles(t *testing.T) {
	o, _, err := parse(t, "--cluster-name=m1", "--karmada-kubeconfig=/dev/null", "--enable-pprof", "--profiling-bind-address=127.0.0.1:7070")
	if err != nil {
		t.Fatal(err)
	}
	if !o.EnablePprof || o.ProfilingBindAddress != "127.0.0.1:7070" {
		t.Fatalf("flags not taken: enable=%v address=%q", o.EnablePprof, o.ProfilingBindAddress)
	}
	srv := httptest.NewServer(pprofHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap") {
		t.Fatalf("GET /debug/pprof/: %d %q", resp.StatusCode, body)
	}
}
