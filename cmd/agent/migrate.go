package main

import (
	"github.com/spf13/cobra"

	"github.com/tether-io/tether/pkg/migrate"
	"github.com/tether-io/tether/pkg/register"
)

func newMigrateCommand() *cobra.Command {
	opts := migrate.NewOptions()
	opts.Image = register.DefaultAgentImage()
	var member kubeconfigFlags
	var rollback bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Switch a member registered with karmadactl from karmada-agent to Tether, or back",
		Long: `Migrate turns a member cluster registered with 'karmadactl register' and served by
karmada-agent into a Tether member. It keeps the cluster's identity (the Secret
karmada-kubeconfig, its certificate and the Cluster object on the hub; no new CSR,
nothing written on the hub) and every name karmadactl's tools use, and changes the
karmada-agent Deployment only: Tether's image, the command 'tether-agent run' with
every karmada-agent flag as it was, and a Recreate strategy for the switch (the
previous strategy is restored after the rollout). What it replaced is recorded in
an annotation, which --rollback restores. The Tether agent starts its controllers
only once karmada-agent's leader Lease on the hub is free, and then holds it, so the
two agents never act at once. --dry-run prints each change and writes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			if err := opts.Validate(rollback); err != nil {
				return err
			}
			cfg, _, err := member.load()
			if err != nil {
				return err
			}
			run := migrate.Migrate
			if rollback {
				run = migrate.Rollback
			}
			out, done := progressOut(cmd.OutOrStdout(), opts.DryRun)
			defer done()
			return run(ctx, migrate.Config{Options: opts, Member: cfg, Out: out})
		},
	}
	fs := cmd.Flags()
	member.addFlags(fs, "member cluster")
	fs.StringVarP(&opts.Namespace, "namespace", "n", opts.Namespace, "Member namespace of the karmada-agent Deployment (karmadactl register's -n).")
	fs.StringVar(&opts.Image, "agent-image", opts.Image, "Tether agent image the Deployment switches to.")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "Print each change and write nothing.")
	fs.BoolVar(&rollback, "rollback", false, "Go back to karmada-agent: restore the Deployment as migrate recorded it.")
	fs.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "How long to wait for each rollout of the Deployment.")
	return cmd
}
