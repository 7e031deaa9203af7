// Package register_test runs the built tether-agent binary against a hub
// configured like a Karmada control plane (its bootstrap RBAC), with a test
// approver that applies the rules of Karmada's agentcsrapproving controller
// exactly (docs/karmada-compatibility.md, "Registration and unregistration").
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
