// Package migrate tests 'tether-agent migrate' end to end on the real hub
// and member of test/testenv: a member set up as karmadactl register and
// karmada-agent leave it (the fixtures in testdata), a stand-in for the
// running karmada-agent that holds its leader Lease on the hub, the switch,
// the Tether agent run the way the migrated Deployment says, and the
// rollback. Writes are counted from the apiservers' audit logs.
package migrate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1, Audit: true}) }

// fixtureCluster is the member name in the recorded fixtures.
const fixtureCluster = "member2"

// fixtureEndpoint is the member apiserver URL karmadactl recorded.
const fixtureEndpoint = "https://127.0.0.1:18280"

// fixture reads testdata/name with the recorded cluster renamed to cluster
// and the recorded member endpoint replaced by endpoint.
func fixture(t *testing.T, name, cluster, endpoint string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	raw = bytes.ReplaceAll(raw, []byte(fixtureCluster), []byte(cluster))
	return bytes.ReplaceAll(raw, []byte(fixtureEndpoint), []byte(endpoint))
}

// fixtureItems decodes a fixture List into its items, by kind.
func fixtureItems(t *testing.T, raw []byte) map[string][]*unstructured.Unstructured {
	t.Helper()
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("decode fixture list: %v", err)
	}
	out := map[string][]*unstructured.Unstructured{}
	for _, item := range list.Items {
		u := &unstructured.Unstructured{Object: item}
		out[u.GetKind()] = append(out[u.GetKind()], u)
	}
	return out
}

// into converts u into the typed object out.
func into(t *testing.T, u *unstructured.Unstructured, out any) {
	t.Helper()
	raw, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decode %s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
