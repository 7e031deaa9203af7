package member

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// noKinds is a mapper that knows no kind and counts discovery refreshes.
type noKinds struct {
	meta.RESTMapper
	resets int
}

func (n *noKinds) Reset() { n.resets++ }
func (n *noKinds) RESTMapping(gk schema.GroupKind, _ ...string) (*meta.RESTMapping, error) {
	return nil, &meta.NoKindMatchError{GroupKind: gk}
}

func TestUnknownKindsDoNotStormDiscovery(t *testing.T) {
	m := &noKinds{}
	k := NewKinds(m)
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion("example.com/v1")
	obj.SetKind("Missing")
	obj.SetName("x")
	for range 200 {
		if _, err := k.Mapping(obj); !meta.IsNoMatchError(err) {
			t.Fatalf("Mapping of a missing kind: %v", err)
		}
	}
	if m.resets != 1 {
		t.Errorf("200 lookups of a missing kind refreshed discovery %d times, want 1", m.resets)
	}
	k.mu.Lock()
	k.lastReset = time.Now().Add(-ResetInterval)
	k.mu.Unlock()
	_, _ = k.Mapping(obj)
	if m.resets != 2 {
		t.Errorf("after %s a missing kind refreshed discovery %d times in all, want 2", ResetInterval, m.resets)
	}
}
