package testenv

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

var current *Env

// Main is TestMain's body: it starts (or attaches to) an environment, runs
// the package's tests and stops the environment. It calls os.Exit.
//
// With TESTENV_SKIP=1 no environment is started and Require skips. A test
// binary that dies (panic, timeout) takes its processes with it (Pdeathsig),
// and the next Start removes its directories.
func Main(m *testing.M, o Options) {
	if os.Getenv("TESTENV_SKIP") != "" {
		os.Exit(m.Run())
	}
	keep := os.Getenv("TESTENV_KEEP") != ""
	var err error
	if dir := os.Getenv("TESTENV_ATTACH"); dir != "" {
		current, err = Attach(dir)
	} else {
		o.Detached = o.Detached || keep
		o.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "testenv: "+format+"\n", args...) }
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		current, err = Start(ctx, o)
		cancel()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		os.Exit(1)
	}
	stop := func() {
		if keep {
			fmt.Fprintf(os.Stderr, "testenv: kept running in %s (hub kubeconfig %s); stop it with 'go run ./test/testenv/cmd/testenv down %s'\n",
				current.Dir, current.Hub.Kubeconfig, current.Dir)
			return
		}
		if err := current.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: stop:", err)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		stop()
		os.Exit(130)
	}()
	code := m.Run()
	stop()
	os.Exit(code)
}

// Require returns the environment Main started, or skips the test when there
// is none (TESTENV_SKIP, or a package without Main).
func Require(t testing.TB) *Env {
	t.Helper()
	if current == nil {
		t.Skip("no test environment (TESTENV_SKIP is set, or TestMain does not call testenv.Main)")
	}
	return current
}
