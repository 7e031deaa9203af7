package main

import (
	"github.com/spf13/cobra"
)

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
		newGetCommand(),
		newDeletesCommand(),
		newRunCommand(),
		newMigrateCommand(),
	)
	return root
}
