package main

import (
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/tether-io/tether/pkg/agent"
)

func newRunCommand() *cobra.Command {
	o := agent.NewOptions()
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent: join the hub, heartbeat, report cluster status, pull and apply Works",
		Long: `Run the Tether agent in a member cluster. It accepts karmada-agent's flags, so
the Deployment that 'tether-agent register' (or karmadactl register, with
Tether's image) writes runs it unchanged. SIGTERM or SIGINT stop it gracefully:
Work reconciles in flight finish first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			log, flush := agent.NewLogger(o.LogFormat, o.Verbosity)
			defer flush()
			if ignored := o.IgnoredSet(cmd.Flags()); len(ignored) > 0 {
				log.Info("Warning: these karmada-agent flags have no effect in Tether", "flags", strings.Join(ignored, " "))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return agent.Run(klog.NewContext(ctx, log), o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}
