package agent

import (
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
	var body strings.Builder
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	body.Write(buf[:n])
	if resp.StatusCode != http.StatusOK || !strings.Contains(body.String(), "heap") {
		t.Fatalf("GET /debug/pprof/: %d %q", resp.StatusCode, body.String())
	}
}
