package main

import (
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/tether-io/tether/pkg/register"
)

func newUnregisterCommand() *cobra.Command {
	opts := register.NewUnregisterOptions()
	var member, hubKC kubeconfigFlags
	cmd := &cobra.Command{
		Use: "unregister <cluster name>",
		Example: `  tether-agent unregister member1 --kubeconfig member1.kubeconfig --karmada-config hub.kubeconfig
  # karmadactl's flag names work too:
  tether-agent unregister member1 --cluster-kubeconfig member1.kubeconfig --karmada-config hub.kubeconfig`,
		Short: "Remove a member cluster from its hub and the agent from the member",
		Long: `Unregister deletes the cluster's Works (the running agent removes their member
objects; when it is gone, unregister removes them itself), its Cluster, and, given
hub admin credentials with --karmada-config, its hub RBAC, Leases, CSRs and
execution namespace; then every member object register or the agent created.
Without --karmada-config it acts on the hub with the agent's own identity, which
cannot delete the hub RBAC. It is idempotent.`,
		Args: exactArgs(1, "the cluster name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			opts.Cluster = args[0]
			if err := opts.Validate(); err != nil {
				return err
			}
			memberCfg, _, err := member.load()
			if err != nil {
				return err
			}
			var hubCfg *rest.Config
			if hubKC.path != "" {
				if hubCfg, _, err = hubKC.load(); err != nil {
					return err
				}
			}
			out, done := progressOut(cmd.OutOrStdout(), opts.DryRun)
			defer done()
			return register.Unregister(ctx, register.UnregisterConfig{Options: opts, Member: memberCfg, Hub: hubCfg, Out: out})
		},
	}
	fs := cmd.Flags()
	member.addFlags(fs, "member cluster")
	hubKC.addNamedFlags(fs, "karmada-config", "karmada-context", "hub, with admin rights")
	fs.StringVarP(&opts.Namespace, "namespace", "n", opts.Namespace, "Member namespace of the agent's objects.")
	fs.StringVar(&opts.ClusterNamespace, "cluster-namespace", opts.ClusterNamespace, "Namespace of the credentials the agent reported.")
	fs.StringVar(&opts.AgentName, "agent-name", opts.AgentName, "Name of the agent Deployment in --namespace, whose arguments and mounted hub kubeconfig unregister reads.")
	fs.DurationVar(&opts.Wait, "wait", opts.Wait, "How long to wait for each deletion to complete.")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "Print what would be deleted and delete nothing.")
	withAliases(cmd, map[string]string{"cluster-kubeconfig": "kubeconfig", "cluster-context": "context"})
	return cmd
}
