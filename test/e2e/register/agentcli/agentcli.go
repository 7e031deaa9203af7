// Package agentcli builds the tether-agent binary for end-to-end tests and
// runs it, in the foreground or in the background with its output read
// line by line.
package agentcli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-io/tether/test/testenv"
)

// Build compiles the repository's ./cmd/agent into a directory of the
// temporary directory named after the test package, which later runs reuse
// (testenv.Main exits the process, so nothing could remove it).
func Build(pkg string) (string, error) {
	dir := filepath.Join(os.TempDir(), "tether-"+pkg+"-bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return testenv.BuildAgent(dir)
}

// Result is one finished run.
type Result struct {
	Stdout, Stderr string
	Code           int
	Took           time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.Code, r.Took.Round(10*time.Millisecond), r.Stdout, r.Stderr)
}

// Run runs bin with args to completion. A non-zero exit is a Result, not
// an error.
func Run(ctx context.Context, bin string, args ...string) (Result, error) {
	p, err := Start(ctx, bin, args...)
	if err != nil {
		return Result{}, err
	}
	return p.Wait()
}

// Process is a run in the background.
type Process struct {
	cmd    *exec.Cmd
	start  time.Time
	stderr bytes.Buffer
	mu     sync.Mutex
	stdout strings.Builder
	lines  chan string
	read   chan struct{}
}

// Start starts bin with args.
func Start(ctx context.Context, bin string, args ...string) (*Process, error) {
	p := &Process{cmd: exec.CommandContext(ctx, bin, args...), lines: make(chan string, 1024), read: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go p.scan(out)
	return p, nil
}

func (p *Process) scan(out io.Reader) {
	defer close(p.read)
	defer close(p.lines)
	s := bufio.NewScanner(out)
	for s.Scan() {
		p.mu.Lock()
		p.stdout.WriteString(s.Text() + "\n")
		p.mu.Unlock()
		select {
		case p.lines <- s.Text():
		default: // nobody is looking for lines
		}
	}
}

// WaitLine returns the first stdout line that contains substr.
func (p *Process) WaitLine(ctx context.Context, substr string) (string, error) {
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case line, ok := <-p.lines:
			if !ok {
				return "", errors.New("the process closed its output before printing " + substr)
			}
			if strings.Contains(line, substr) {
				return line, nil
			}
		}
	}
}

// Wait waits for the process to exit.
func (p *Process) Wait() (Result, error) {
	<-p.read
	err := p.cmd.Wait()
	p.mu.Lock()
	r := Result{Stdout: p.stdout.String(), Stderr: p.stderr.String(), Took: time.Since(p.start)}
	p.mu.Unlock()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
	} else if err != nil {
		return r, err
	}
	return r, nil
}

// Binary is a built tether-agent.
type Binary string

// Main is TestMain's body for a package that drives the binary: it builds
// it into *bin (unless TESTENV_SKIP is set) and hands over to testenv.Main.
func Main(m *testing.M, pkg string, o testenv.Options, bin *Binary) {
	if os.Getenv("TESTENV_SKIP") == "" {
		path, err := Build(pkg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		*bin = Binary(path)
	}
	testenv.Main(m, o)
}

// Run runs the binary with args to completion; failing to start it fails
// the test.
func (b Binary) Run(t testing.TB, ctx context.Context, args ...string) Result {
	t.Helper()
	r, err := Run(ctx, string(b), args...)
	if err != nil {
		t.Fatalf("run tether-agent %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// Start starts the binary with args in the background.
func (b Binary) Start(ctx context.Context, args ...string) (*Process, error) {
	return Start(ctx, string(b), args...)
}
