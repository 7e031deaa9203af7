// Command tether-agent is Tether's member-cluster agent and its CLI: it
// registers a member with a hub, runs the pull-mode agent, and previews and
// inspects what the agent does. Each subcommand lives in its own file and is
// added to the root command in newRootCommand.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		if !errors.As(err, new(reported)) {
			fmt.Fprintln(os.Stderr, "Error:", err)
		}
		os.Exit(1)
	}
}
