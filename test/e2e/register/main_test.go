// Package register_test runs the built tether-agent binary against a hub
// configured like a Karmada control plane (section 4.1 of the
// compatibility contract), with a test approver that applies Karmada's
// approval rules exactly (section 4.4).
package register_test

import (
	"testing"

	"github.com/tether-io/tether/test/e2e/register/agentcli"
	"github.com/tether-io/tether/test/testenv"
)

var tetherAgent agentcli.Binary

func TestMain(m *testing.M) {
	agentcli.Main(m, "e2e-register", testenv.Options{Members: 1}, &tetherAgent)
}
