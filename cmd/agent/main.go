// Command tether-agent is Tether's member-cluster agent and its CLI: it
// registers a member with a hub, runs the pull-mode agent, and previews and
// inspects what the agent does. Each subcommand lives in its own file and is
// added to the root command in newRootCommand. Invoked as karmada-agent, the
// binary is the agent itself (see commandFor).
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if err := commandFor(os.Args[0]).Execute(); err != nil {
		if !errors.As(err, new(reported)) {
			fmt.Fprintln(os.Stderr, "Error:", err)
		}
		os.Exit(exitCode(err))
	}
}
