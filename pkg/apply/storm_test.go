package apply

import (
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi"
)

// failingOpenAPI counts fetches of the OpenAPI v3 index and fails them.
type failingOpenAPI struct{ fetches int }

func (f *failingOpenAPI) Paths() (map[string]openapi.GroupVersion, error) {
	f.fetches++
	return nil, errors.New("openapi/v3: service unavailable")
}

type openAPIOnly struct {
	discovery.DiscoveryInterface
	client *failingOpenAPI
}

func (o openAPIOnly) OpenAPIV3() openapi.Client { return o.client }

func TestFailedOpenAPIFetchIsRetriedAfterAWhile(t *testing.T) {
	f := &failingOpenAPI{}
	tc := NewTypeCache(openAPIOnly{client: f})
	now := time.Now()
	tc.now = func() time.Time { return now }
	gv := schema.GroupVersion{Group: "apps", Version: "v1"}
	for range 50 {
		if _, err := tc.For(gv); err == nil {
			t.Fatal("For succeeded against a failing OpenAPI endpoint")
		}
	}
	if f.fetches != 1 {
		t.Errorf("50 lookups within the failure TTL fetched the index %d times, want 1", f.fetches)
	}
	now = now.Add(failureTTL + time.Second)
	_, _ = tc.For(gv)
	if f.fetches != 2 {
		t.Errorf("a lookup after the failure TTL did not fetch again (%d fetches)", f.fetches)
	}
}
