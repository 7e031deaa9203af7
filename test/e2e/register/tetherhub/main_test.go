// Package tetherhub_test runs the built tether-agent binary against a plain
// cluster made a hub by 'tether-agent hub init', with no approver running:
// register waits and tells the administrator what to run, and
// 'tether-agent hub approve' approves and creates the cluster's RBAC.
package tetherhub_test

import (
	"testing"

	"github.com/tether-io/tether/test/e2e/register/agentcli"
	"github.com/tether-io/tether/test/testenv"
)

var tetherAgent agentcli.Binary

func TestMain(m *testing.M) {
	agentcli.Main(m, "e2e-tetherhub", testenv.Options{Members: 1}, &tetherAgent)
}
