// Command testenv starts and stops a standalone test environment, so that
// several test packages can attach to one running hub and its members
// (TESTENV_ATTACH=DIR) and so that it can be inspected by hand.
//
//	go run ./test/testenv/cmd/testenv up [--members N] [--nodes N]   # prints DIR
//	TESTENV_ATTACH=DIR go test ./pkg/execution/...
//	go run ./test/testenv/cmd/testenv down DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tether-io/tether/test/testenv"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testenv up [--members N] [--nodes N] | testenv down DIR")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "up":
		fs := flag.NewFlagSet("up", flag.ExitOnError)
		members := fs.Int("members", 1, "number of member clusters")
		nodes := fs.Int("nodes", 3, "kwok nodes per member")
		_ = fs.Parse(os.Args[2:])
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		env, err := testenv.Start(ctx, testenv.Options{Members: *members, Nodes: *nodes, Detached: true,
			Log: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "testenv: "+f+"\n", a...) }})
		if err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "hub kubeconfig: %s\n", env.Hub.Kubeconfig)
		for _, m := range env.Members {
			fmt.Fprintf(os.Stderr, "%s kubeconfig: %s\n", m.Name, m.Kubeconfig)
		}
		fmt.Fprintf(os.Stderr, "attach with TESTENV_ATTACH=%s; stop with: go run ./test/testenv/cmd/testenv down %s\n", env.Dir, env.Dir)
		fmt.Println(env.Dir)
	case "down":
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, "usage: testenv down DIR")
			os.Exit(2)
		}
		if err := testenv.Down(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "testenv: unknown command %q (want up or down)\n", os.Args[1])
		os.Exit(2)
	}
}
