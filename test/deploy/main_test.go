package deploy

import (
	"testing"

	"github.com/tether-io/tether/test/e2e/register/agentcli"
	"github.com/tether-io/tether/test/testenv"
)

// tetherAgent is the built binary the install test runs as the pods would.
var tetherAgent agentcli.Binary

// TestMain starts a hub and one member. The rendering and schema tests need
// neither and run under TESTENV_SKIP too.
func TestMain(m *testing.M) {
	agentcli.Main(m, "deploy", testenv.Options{Members: 1, Nodes: 1}, &tetherAgent)
}
