// Package dropin runs Tether in karmada-agent's place on a cluster
// registered the way karmadactl registers one (test/karmadamember, from the
// recorded objects of test/karmadafixture): the hub grants the agent exactly
// the RBAC a Karmada control plane grants, the member holds what karmadactl
// register wrote, and the workload is as karmada-agent left it.
//
// The swap tests run the built tether-agent as a process with the command
// line of karmada-agent's Deployment, under Karmada's RBAC and variations
// of it. The migrate test runs 'tether-agent migrate': a stand-in for the
// running karmada-agent holds its leader Lease on the hub, the switch, the
// Tether agent run the way the migrated Deployment says, and the rollback.
// Writes are counted from the apiservers' audit logs.
//
// TETHER_E2E_AGENT_BINARY=path (testenv.AgentBinaryEnv) runs that tether-agent instead of one built
// from this tree: the way to show that the tests fail on an older agent.
package dropin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1, Audit: true}) }

func describe(e testenv.AuditEvent) string {
	return fmt.Sprintf("%s %s/%s %s/%s -> %d", e.Verb, e.Resource, e.Subresource, e.Namespace, e.Name, e.Code)
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
