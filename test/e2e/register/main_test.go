// Package register_test runs the built tether-agent binary against a hub
// configured like a Karmada control plane (section 4.1 of the
// compatibility contract), with a test approver that applies Karmada's
// approval rules exactly (section 4.4).
package register_test

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
		if agentBinary, err = agentcli.Build(testenv.RepoRoot(), "e2e-register"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	testenv.Main(m, testenv.Options{Members: 1})
}

// run executes tether-agent with args.
func run(t *testing.T, ctx context.Context, args ...string) agentcli.Result {
	t.Helper()
	r, err := agentcli.Run(ctx, agentBinary, args...)
	if err != nil {
		t.Fatalf("run tether-agent %s: %v", strings.Join(args, " "), err)
	}
	return r
}
