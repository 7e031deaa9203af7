// Package register_test runs the built tether-agent binary against a hub
// configured like a Karmada control plane (section 4.1 of the
// compatibility contract), with a test approver that applies Karmada's
// approval rules exactly (section 4.4).
package register_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-io/tether/test/testenv"
)

var agentBinary string

func TestMain(m *testing.M) {
	if os.Getenv("TESTENV_SKIP") == "" {
		dir, err := os.MkdirTemp("", "tether-e2e-register-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		agentBinary = filepath.Join(dir, "tether-agent")
		build := exec.Command("go", "build", "-o", agentBinary, "./cmd/agent")
		build.Dir = testenv.RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build tether-agent: %v\n%s", err, out)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
	}
	testenv.Main(m, testenv.Options{Members: 1})
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.code, r.took.Round(10*time.Millisecond), r.stdout, r.stderr)
}

// run executes tether-agent with args.
func run(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(ctx, agentBinary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run tether-agent %s: %v", strings.Join(args, " "), err)
	}
	return r
}
