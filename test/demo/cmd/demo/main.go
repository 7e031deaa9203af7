// Command demo is 'make demo': it starts a local hub and two members, runs the
// real registration flow and the agents through bin/tether-agent, creates the
// example, prints what a user wants to see, and leaves everything running.
// 'demo down' stops it.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tether-io/tether/test/demo"
	"github.com/tether-io/tether/test/testenv"
)

const stateFile = ".demo/dir"

func main() {
	root := testenv.RepoRoot()
	state := filepath.Join(root, stateFile)
	if len(os.Args) > 1 && os.Args[1] == "down" {
		raw, err := os.ReadFile(state)
		if err != nil {
			fmt.Println("no demo is running (nothing recorded in " + stateFile + ")")
			return
		}
		dir := strings.TrimSpace(string(raw))
		if err := testenv.Down(dir); err != nil {
			fail(err)
		}
		_ = os.Remove(state)
		fmt.Println("demo stopped; " + dir + " removed")
		return
	}
	if raw, err := os.ReadFile(state); err == nil {
		if _, err := os.Stat(strings.TrimSpace(string(raw))); err == nil {
			fail(fmt.Errorf("a demo is already running in %s; stop it with 'make demo-down'", strings.TrimSpace(string(raw))))
		}
	}
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, "demo: "+f+"\n", a...) }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.Options{Members: 2, Detached: true, Log: logf})
	if err != nil {
		fail(err)
	}
	_ = os.MkdirAll(filepath.Dir(state), 0o755)
	_ = os.WriteFile(state, []byte(env.Dir+"\n"), 0o644)
	bin := filepath.Join(root, "bin", "tether-agent")
	agents, err := demo.Up(ctx, env, demo.Options{Binary: bin, Log: logf, AgentArgs: []string{"--log-format", "console"}})
	if err != nil {
		fail(fmt.Errorf("%w\n(the environment is still running for inspection; 'make demo-down' stops it)", err))
	}
	logf("waiting for the example to be applied and healthy on both members")
	if err := demo.WaitReady(ctx, env, 3*time.Minute); err != nil {
		fail(fmt.Errorf("%w\n(agent logs: %s/logs; 'make demo-down' stops everything)", err, env.Dir))
	}
	summary, err := demo.Summary(ctx, env, bin)
	if err != nil {
		fail(err)
	}
	fmt.Println()
	fmt.Print(summary)
	fmt.Println()
	fmt.Println("Kubeconfigs:")
	fmt.Printf("  hub      %s\n", env.Hub.Kubeconfig)
	for _, m := range env.Members {
		fmt.Printf("  %-8s %s\n", m.Name, m.Kubeconfig)
	}
	fmt.Println("Agents:")
	for _, a := range agents {
		fmt.Printf("  %-8s pid %d  metrics %s  log %s\n", a.Cluster, a.Process.Pid, a.MetricsURL, a.Process.Log)
	}
	fmt.Println("\nEverything keeps running; 'make demo-down' stops it.")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "demo:", err)
	os.Exit(1)
}
