package main

import (
	"path/filepath"

	"github.com/spf13/cobra"
)

// KarmadaAgentName is the name under which the binary is the agent itself,
// as karmadactl's agent Deployment runs it: /bin/karmada-agent <flags>.
const KarmadaAgentName = "karmada-agent"

// commandFor is the command tree for the name the binary was invoked as
// (os.Args[0]): the agent for karmada-agent, the whole CLI otherwise.
func commandFor(argv0 string) *cobra.Command {
	if filepath.Base(argv0) == KarmadaAgentName {
		return newKarmadaAgentCommand()
	}
	return newRootCommand()
}

// newKarmadaAgentCommand is 'tether-agent run' under karmada-agent's name,
// with its version subcommand, so that a Deployment written for
// karmada-agent runs Tether when the image's /bin/karmada-agent is Tether.
func newKarmadaAgentCommand() *cobra.Command {
	cmd := newRunCommand()
	cmd.Use = KarmadaAgentName
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.AddCommand(newVersionCommand())
	return cmd
}

// newRootCommand builds the command tree. Subcommands are constructed by
// newXCommand functions, one per file.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "tether-agent",
		Short:         "Tether: a pull-mode member-cluster agent speaking Karmada's API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newVersionCommand(),
		newTokenCommand(),
		newRegisterCommand(),
		newUnregisterCommand(),
		newHubCommand(),
		newRenderCommand(),
		newDiffCommand(),
		newGetCommand(),
		newDeletesCommand(),
		newRunCommand(),
		newMigrateCommand(),
	)
	return root
}
