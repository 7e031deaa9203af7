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
writes are refused from then on, Work reconciles in flight are cancelled, and
the leader Lease is released. It exits non-zero when it loses the Lease or its
controllers stop on their own, so that it restarts.`,
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
			if err := agent.Run(klog.NewContext(ctx, log), o); err != nil {
				log.Error(err, "Agent exiting")
				return reported{err}
			}
			log.Info("Agent stopped")
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// reported is an error already logged: main exits non-zero without printing
// it again.
type reported struct{ error }

func (r reported) Unwrap() error { return r.error }
