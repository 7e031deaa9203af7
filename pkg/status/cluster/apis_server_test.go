package cluster

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// discoveryServer serves /api and /apis as aggregated discovery with ETags,
// or, when classic is set, the pre-1.26 documents.
type discoveryServer struct {
	mu      sync.Mutex
	docs    map[string]string // path: the items of an APIGroupDiscoveryList
	failing map[string]bool
	classic bool
	full    map[string]int // 200 answers per path
}

func (s *discoveryServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing[r.URL.Path] {
		http.Error(w, "broken", http.StatusInternalServerError)
		return
	}
	if s.classic {
		body, ok := classicDocs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		s.full[r.URL.Path]++
		fmt.Fprint(w, body)
		return
	}
	body := fmt.Sprintf(`{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[%s]}`, s.docs[r.URL.Path])
	etag := fmt.Sprintf(`"%x"`, sha256.Sum256([]byte(body)))
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", aggregatedDiscovery)
	w.Header().Set("ETag", etag)
	s.full[r.URL.Path]++
	fmt.Fprint(w, body)
}

func (s *discoveryServer) set(f func(*discoveryServer)) { s.mu.Lock(); f(s); s.mu.Unlock() }

func (s *discoveryServer) fullAnswers(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.full[path]
}

func group(name, version, resource, kind string) string {
	return fmt.Sprintf(`{"metadata":{"name":%q},"versions":[{"version":%q,"resources":[{"resource":%q,"responseKind":{"group":%q,"version":%q,"kind":%q},"scope":"Namespaced","singularResource":"x","verbs":["get"],"subresources":[{"subresource":"status","verbs":["get"]}]}]}]}`,
		name, version, resource, name, version, kind)
}

var classicDocs = map[string]string{
	"/api":          `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}`,
	"/apis":         `{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]}`,
	"/api/v1":       `{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"pods","namespaced":true,"kind":"Pod","verbs":["get"]},{"name":"pods/status","namespaced":true,"kind":"Pod","verbs":["get"]}]}`,
	"/apis/apps/v1": `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[{"name":"deployments","namespaced":true,"kind":"Deployment","verbs":["get"]}]}`,
}

func newDiscoveryServer(t *testing.T) (*discoveryServer, *apiCollector) {
	t.Helper()
	s := &discoveryServer{
		docs:    map[string]string{"/api": group("", "v1", "pods", "Pod"), "/apis": group("apps", "v1", "deployments", "Deployment")},
		failing: map[string]bool{},
		full:    map[string]int{},
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, newAPICollector(kubernetes.NewForConfigOrDie(&rest.Config{Host: srv.URL}))
}

func gvs(set *apiSet) []string {
	var out []string
	for _, e := range set.enablements {
		for _, r := range e.Resources {
			out = append(out, e.GroupVersion+"/"+r.Name+"="+r.Kind)
		}
	}
	return out
}

func TestAPICollectorRecomputesOnlyWhenADocumentChanges(t *testing.T) {
	ctx := context.Background()
	srv, a := newDiscoveryServer(t)
	first, err := a.collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(gvs(first)); got != "[apps/v1/deployments=Deployment v1/pods=Pod]" {
		t.Fatalf("enablements %s", got)
	}
	second, err := a.collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second != first || srv.fullAnswers("/api") != 1 || srv.fullAnswers("/apis") != 1 {
		t.Fatalf("unchanged discovery was fetched again (%d, %d) or recomputed", srv.fullAnswers("/api"), srv.fullAnswers("/apis"))
	}
	srv.set(func(s *discoveryServer) { s.docs["/apis"] += "," + group("batch", "v1", "jobs", "Job") })
	third, err := a.collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(gvs(third)); got != "[apps/v1/deployments=Deployment batch/v1/jobs=Job v1/pods=Pod]" {
		t.Fatalf("after a new group: %s", got)
	}
	if third.condition.Reason != clusterv1alpha1.ReasonAPIEnablementsComplete {
		t.Errorf("condition %+v", third.condition)
	}
}

func TestAPICollectorKeepsAChangeAcrossAFailure(t *testing.T) {
	ctx := context.Background()
	srv, a := newDiscoveryServer(t)
	if _, err := a.collect(ctx); err != nil {
		t.Fatal(err)
	}
	srv.set(func(s *discoveryServer) {
		s.docs["/api"] += "," + group("", "v2", "things", "Thing")
		s.failing["/apis"] = true
	})
	if _, err := a.collect(ctx); err == nil {
		t.Fatal("want an error while /apis fails")
	}
	srv.set(func(s *discoveryServer) { s.failing["/apis"] = false })
	got, err := a.collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(gvs(got)) != "[apps/v1/deployments=Deployment v1/pods=Pod v2/things=Thing]" {
		t.Fatalf("the /api change seen before the failure was lost: %v", gvs(got))
	}
}

func TestAPICollectorFallsBackToClassicDiscovery(t *testing.T) {
	srv, a := newDiscoveryServer(t)
	srv.set(func(s *discoveryServer) { s.classic = true })
	got, err := a.collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(gvs(got)) != "[apps/v1/deployments=Deployment v1/pods=Pod]" {
		t.Fatalf("classic enablements (subresources dropped): %v", gvs(got))
	}
	if a.http != nil {
		t.Error("the collector keeps trying aggregated discovery")
	}
}
