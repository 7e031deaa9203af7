// Package tetherhub_test runs the built tether-agent binary against a plain
// cluster made a hub by 'tether-agent hub init', with no approver running:
// register waits and tells the administrator what to run, and
// 'tether-agent hub approve' approves and creates the cluster's RBAC.
package tetherhub_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tether-io/tether/test/e2e/register/agentcli"
	"github.com/tether-io/tether/test/testenv"
)

var agentBinary string

func TestMain(m *testing.M) {
	if os.Getenv("TESTENV_SKIP") == "" {
		var err error
		if agentBinary, err = agentcli.Build(testenv.RepoRoot(), "e2e-tetherhub"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	testenv.Main(m, testenv.Options{Members: 1})
}

func run(t *testing.T, ctx context.Context, args ...string) agentcli.Result {
	t.Helper()
	r, err := agentcli.Run(ctx, agentBinary, args...)
	if err != nil {
		t.Fatalf("run tether-agent %s: %v", strings.Join(args, " "), err)
	}
	return r
}
