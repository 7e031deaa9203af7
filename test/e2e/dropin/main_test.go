// Package dropin swaps karmada-agent for Tether on a cluster registered the
// way karmadactl registers one: the hub grants the agent exactly the RBAC a
// Karmada control plane grants (testdata/hub-rbac-granted-by-karmada.json),
// the member holds what karmadactl register wrote, the workload is as
// karmada-agent left it, and the built tether-agent runs as a process with
// the command line of karmada-agent's Deployment. The testdata files are
// recorded from a live Karmada (its README in the fixtures says how) for a
// cluster named member2; the tests rename it.
//
// TETHER_E2E_AGENT_BINARY=path runs that tether-agent instead of one built
// from this tree: the way to show that the test fails on an older agent.
package dropin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1, Audit: true}) }

// fixtureCluster is the cluster name the fixtures were recorded with.
var fixtureCluster = regexp.MustCompile(`\bmember2\b`)

// fixture reads testdata/name with the cluster renamed to cluster.
func fixture(t *testing.T, name, cluster string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return fixtureCluster.ReplaceAll(raw, []byte(cluster))
}

// fixtureItems reads a v1 List fixture into its items, each as raw JSON
// with its kind.
func fixtureItems(t *testing.T, name, cluster string) []item {
	t.Helper()
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(fixture(t, name, cluster), &list); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	out := make([]item, 0, len(list.Items))
	for i, raw := range list.Items {
		var head struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.Kind == "" {
			t.Fatalf("read %s: item %d has no kind (%v)", name, i, err)
		}
		out = append(out, item{kind: head.Kind, raw: raw})
	}
	return out
}

type item struct {
	kind string
	raw  json.RawMessage
}

// decode unmarshals the item into obj.
func (it item) decode(t *testing.T, obj any) {
	t.Helper()
	if err := json.Unmarshal(it.raw, obj); err != nil {
		t.Fatalf("decode a %s: %v", it.kind, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func describe(e testenv.AuditEvent) string {
	return fmt.Sprintf("%s %s/%s %s/%s -> %d", e.Verb, e.Resource, e.Subresource, e.Namespace, e.Name, e.Code)
}

// startAgent is testenv.StartAgent, with the binary TETHER_E2E_AGENT_BINARY
// names, if any.
func startAgent(t *testing.T, o testenv.AgentOptions) *testenv.AgentProcess {
	t.Helper()
	if bin := os.Getenv("TETHER_E2E_AGENT_BINARY"); bin != "" {
		o.Binary = bin
	}
	return testenv.StartAgent(t, testenv.Require(t), o)
}
