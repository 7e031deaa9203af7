// Package hubcost measures what one tether-agent process costs the hub and
// its member while idle, after a hub apiserver restart and after a cut link
// to the hub: the built binary runs in its own process against the real
// apiservers of test/testenv, and every request is counted from the
// apiservers' audit logs, never from the agent's own metrics.
//
// TETHER_E2E_AGENT_BINARY=path (testenv.AgentBinaryEnv) runs that
// tether-agent instead of one built from this tree: the way to show that a
// test fails on an older agent.
package hubcost

import (
	"testing"

	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1, Audit: true}) }
