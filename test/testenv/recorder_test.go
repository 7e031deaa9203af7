package testenv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestRecorderSeesWritesBodiesAndFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
	}))
	defer srv.Close()
	var rec Recorder
	cfg := rec.Wrap(&rest.Config{Host: srv.URL})
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, url, body string) {
		req, _ := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	send(http.MethodGet, srv.URL+"/api/v1/pods", "")
	send(http.MethodPatch, srv.URL+"/api/v1/namespaces/a/pods/p", `{"x":1}`)
	send(http.MethodPatch, srv.URL+"/api/v1/namespaces/a/pods/p?dryRun=All", `{}`)
	srv.Close()
	send(http.MethodPost, srv.URL+"/api/v1/pods", `{}`)

	if got := rec.Count(nil); got != 4 {
		t.Fatalf("recorded %d requests, want 4", got)
	}
	w := rec.Writes()
	if len(w) != 2 || string(w[0].Body) != `{"x":1}` || w[0].Code != http.StatusConflict {
		t.Fatalf("writes = %+v, want the PATCH with its body and code 409, then the POST", w)
	}
	if w[1].Code != 0 {
		t.Fatalf("a request that got no response has code %d, want 0", w[1].Code)
	}
	rec.Reset()
	if rec.Count(nil) != 0 {
		t.Fatal("Reset kept requests")
	}
}
